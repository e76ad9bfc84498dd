"""Lex V2 requests -> backend -> responses, for lexv2-models and lexv2-runtime."""
from __future__ import annotations

import time

from ..protocol import offset_page
from . import exceptions
from .dialog import Conversation, DialogEngine
from .models import (DRAFT, FALLBACK_INTENT_ID, LOCALE_NAMES, TEST_ALIAS_ID, TEST_ALIAS_NAME, LexBackend,
                     Resource, without)

LOCALE_KEYS = ("botId", "botVersion", "localeId")


def page(items: list, params: dict) -> tuple[list, dict]:
    """maxResults / nextToken paging (the token is the offset of the next item)."""
    items, token = offset_page(items, params.get("nextToken"), params.get("maxResults"), 1000)
    return items, ({"nextToken": token} if token else {})


def name_filter(items: list, params: dict, field: str) -> list:
    for f in params.get("filters", []):
        values = [v.lower() for v in f["values"]]
        if f["operator"] == "EQ":
            items = [i for i in items if i[field].lower() in values]
        else:  # CO: contains
            items = [i for i in items if any(v in i[field].lower() for v in values)]
    return items


def stamps(resource: Resource) -> dict:
    return {"creationDateTime": resource.created, "lastUpdatedDateTime": resource.updated}


def described(params: dict, keys: tuple, id_field: str, child_id: str, child: Resource, created: bool) -> dict:
    """An intent, slot or slot type as Create* (no update time yet) or Describe*/Update* return it."""
    body = {**{k: params[k] for k in keys}, id_field: child_id, **child.fields, "creationDateTime": child.created}
    return body if created else {**body, "lastUpdatedDateTime": child.updated}


class ModelsResponses:
    def __init__(self, backend: LexBackend):
        self.backend = backend

    # ------------------------------------------------------------ bots
    def _bot(self, bot, status: str) -> dict:
        return {"botId": bot.bot_id, **bot.fields, "botStatus": status, "botType": bot.fields.get("botType", "Bot"),
                "creationDateTime": bot.created}

    def create_bot(self, params, region):
        bot = self.backend.create_bot(without(params))
        return self._bot(bot, "Creating")

    def describe_bot(self, params, region):
        bot = self.backend.bot(params["botId"])
        body = self._bot(bot, "Available")
        body.pop("botTags", None), body.pop("testBotAliasTags", None)
        return {**body, "lastUpdatedDateTime": bot.updated}

    def list_bots(self, params, region):
        summaries = [{"botId": b.bot_id, "botName": b.fields["botName"], "botStatus": "Available",
                      "latestBotVersion": DRAFT, "lastUpdatedDateTime": b.updated,
                      "botType": b.fields.get("botType", "Bot"),
                      **({"description": b.fields["description"]} if "description" in b.fields else {})}
                     for b in self.backend.bots.values()]
        items, rest = page(name_filter(summaries, params, "botName"), params)
        return {"botSummaries": items, **rest}

    def delete_bot(self, params, region):
        self.backend.delete_bot(params["botId"])
        return {"botId": params["botId"], "botStatus": "Deleting"}

    def describe_bot_alias(self, params, region):
        bot = self.backend.bot(params["botId"])
        if params["botAliasId"] != TEST_ALIAS_ID:
            raise exceptions.not_found(f"Could not find the alias {params['botAliasId']}: localaws has only "
                                       f"the test alias {TEST_ALIAS_ID}.")
        return {"botAliasId": TEST_ALIAS_ID, "botAliasName": TEST_ALIAS_NAME, "botVersion": DRAFT,
                "botAliasStatus": "Available", "botId": bot.bot_id, **stamps(bot),
                "botAliasLocaleSettings": {loc: {"enabled": True} for loc in bot.locales}}

    def list_bot_aliases(self, params, region):
        bot = self.backend.bot(params["botId"])
        return {"botId": bot.bot_id, "botAliasSummaries": [
            {"botAliasId": TEST_ALIAS_ID, "botAliasName": TEST_ALIAS_NAME, "botVersion": DRAFT,
             "botAliasStatus": "Available", **stamps(bot)}]}

    # ------------------------------------------------------------ locales
    def _locale(self, params, parent=False):
        return self.backend.locale(params["botId"], params["botVersion"], params["localeId"], parent)

    def create_bot_locale(self, params, region):
        locale = self.backend.create_locale(params["botId"], params["botVersion"], without(params, *LOCALE_KEYS[:2]))
        return {**{k: params[k] for k in LOCALE_KEYS}, **locale.fields, "botLocaleStatus": "Creating",
                "localeName": LOCALE_NAMES.get(params["localeId"], params["localeId"]),
                "creationDateTime": locale.created}

    def describe_bot_locale(self, params, region):
        locale = self._locale(params)
        body = {**{k: params[k] for k in LOCALE_KEYS}, **locale.fields, **stamps(locale),
                "localeName": LOCALE_NAMES.get(params["localeId"], params["localeId"]),
                "botLocaleStatus": locale.status, "intentsCount": len(locale.intents),
                "slotTypesCount": len(locale.slot_types)}
        if locale.failure_reasons:
            body["failureReasons"] = locale.failure_reasons
        if locale.last_build:
            body["lastBuildSubmittedDateTime"] = locale.last_build
        return body

    def list_bot_locales(self, params, region):
        bot = self.backend.bot(params["botId"])
        summaries = [{"localeId": loc_id, "localeName": LOCALE_NAMES.get(loc_id, loc_id),
                      "botLocaleStatus": loc.status, "lastUpdatedDateTime": loc.updated,
                      **({"lastBuildSubmittedDateTime": loc.last_build} if loc.last_build else {})}
                     for loc_id, loc in bot.locales.items()]
        items, rest = page(summaries, params)
        return {"botId": bot.bot_id, "botVersion": params["botVersion"], "botLocaleSummaries": items, **rest}

    def delete_bot_locale(self, params, region):
        bot = self.backend.bot(params["botId"])
        self._locale(params)
        del bot.locales[params["localeId"]]
        return {**{k: params[k] for k in LOCALE_KEYS}, "botLocaleStatus": "Deleting"}

    def build_bot_locale(self, params, region):
        locale = self._locale(params, parent=True)
        locale.build()  # at once: the BotLocaleBuilt waiter sees Built (or Failed) on its first call
        return {**{k: params[k] for k in LOCALE_KEYS}, "botLocaleStatus": "Building",
                "lastBuildSubmittedDateTime": locale.last_build}

    # ------------------------------------------------------------ intents
    def _intent(self, params, intent_id, intent, created=False):
        return described(params, LOCALE_KEYS, "intentId", intent_id, intent, created)

    def create_intent(self, params, region):
        locale = self._locale(params, parent=True)
        intent_id, intent = self.backend.create_intent(locale, without(params, *LOCALE_KEYS))
        return self._intent(params, intent_id, intent, created=True)

    def update_intent(self, params, region):
        locale = self._locale(params, parent=True)
        intent = self.backend.update_intent(locale, params["intentId"], without(params, *LOCALE_KEYS, "intentId"))
        return self._intent(params, params["intentId"], intent)

    def describe_intent(self, params, region):
        locale = self._locale(params)
        intent = self.backend.child(locale.intents, params["intentId"], "intent")
        return self._intent(params, params["intentId"], intent)

    def list_intents(self, params, region):
        locale = self._locale(params)
        summaries = [{"intentId": i_id, "intentName": i.fields["intentName"], "lastUpdatedDateTime": i.updated,
                      **{k: i.fields[k] for k in ("description", "parentIntentSignature") if k in i.fields}}
                     for i_id, i in locale.intents.items()]
        items, rest = page(name_filter(summaries, params, "intentName"), params)
        return {**{k: params[k] for k in LOCALE_KEYS}, "intentSummaries": items, **rest}

    def delete_intent(self, params, region):
        if params["intentId"] == FALLBACK_INTENT_ID:
            raise exceptions.invalid("The FallbackIntent cannot be deleted.")
        self.backend.delete_intent(self._locale(params), params["intentId"])
        return {}

    # ------------------------------------------------------------ slots
    def _slot(self, params, slot_id, slot, created=False):
        return described(params, (*LOCALE_KEYS, "intentId"), "slotId", slot_id, slot, created)

    def create_slot(self, params, region):
        locale = self._locale(params, parent=True)
        slot_id, slot = self.backend.create_slot(locale, params["intentId"],
                                                 without(params, *LOCALE_KEYS, "intentId"))
        return self._slot(params, slot_id, slot, created=True)

    def describe_slot(self, params, region):
        locale = self._locale(params)
        self.backend.child(locale.intents, params["intentId"], "intent")
        slots = locale.slots[params["intentId"]]
        return self._slot(params, params["slotId"], self.backend.child(slots, params["slotId"], "slot"))

    def list_slots(self, params, region):
        locale = self._locale(params)
        self.backend.child(locale.intents, params["intentId"], "intent")
        summaries = [{"slotId": s_id, "slotName": s.fields["slotName"], "slotTypeId": s.fields.get("slotTypeId", ""),
                      "slotConstraint": s.fields["valueElicitationSetting"]["slotConstraint"],
                      "lastUpdatedDateTime": s.updated,
                      **({"description": s.fields["description"]} if "description" in s.fields else {})}
                     for s_id, s in locale.slots[params["intentId"]].items()]
        items, rest = page(summaries, params)
        return {**{k: params[k] for k in (*LOCALE_KEYS, "intentId")}, "slotSummaries": items, **rest}

    def delete_slot(self, params, region):
        self.backend.delete_slot(self._locale(params), params["intentId"], params["slotId"])
        return {}

    # ------------------------------------------------------------ slot types
    def _slot_type(self, params, type_id, slot_type, created=False):
        return described(params, LOCALE_KEYS, "slotTypeId", type_id, slot_type, created)

    def create_slot_type(self, params, region):
        locale = self._locale(params, parent=True)
        type_id, slot_type = self.backend.create_slot_type(locale, without(params, *LOCALE_KEYS))
        return self._slot_type(params, type_id, slot_type, created=True)

    def describe_slot_type(self, params, region):
        locale = self._locale(params)
        return self._slot_type(params, params["slotTypeId"],
                               self.backend.child(locale.slot_types, params["slotTypeId"], "slot type"))

    def list_slot_types(self, params, region):
        locale = self._locale(params)
        summaries = [{"slotTypeId": t_id, "slotTypeName": t.fields["slotTypeName"], "lastUpdatedDateTime": t.updated,
                      "slotTypeCategory": "Custom",
                      **({"description": t.fields["description"]} if "description" in t.fields else {})}
                     for t_id, t in locale.slot_types.items()]
        items, rest = page(name_filter(summaries, params, "slotTypeName"), params)
        return {**{k: params[k] for k in LOCALE_KEYS}, "slotTypeSummaries": items, **rest}

    def delete_slot_type(self, params, region):
        self.backend.delete_slot_type(self._locale(params), params["slotTypeId"],
                                      params.get("skipResourceInUseCheck", False))
        return {}


class RuntimeResponses:
    """lexv2-runtime: RecognizeText, GetSession, DeleteSession against the test alias."""

    def __init__(self, backend: LexBackend):
        self.backend = backend
        self.conversations: dict[tuple, Conversation] = {}

    def _built(self, params):
        bot = self.backend.bot(params["botId"])
        if params["botAliasId"] != TEST_ALIAS_ID:
            raise exceptions.not_found(f"Could not find the alias {params['botAliasId']} of bot {bot.bot_id}: "
                                       f"localaws has only the test alias {TEST_ALIAS_ID}.")
        locale = bot.locales.get(params["localeId"])
        if locale is None or locale.built is None:
            raise exceptions.not_found(f"Locale {params['localeId']} of bot {bot.bot_id} is not built: "
                                       "call BuildBotLocale first.")
        return bot, locale.built

    def _key(self, params) -> tuple:
        return params["botId"], params["botAliasId"], params["localeId"], params["sessionId"]

    def recognize_text(self, params, region):
        bot, built = self._built(params)
        key = self._key(params)
        conversation = self.conversations.get(key)
        if conversation is None or time.monotonic() - conversation.last_turn > bot.fields["idleSessionTTLInSeconds"]:
            conversation = self.conversations[key] = Conversation()
        conversation.attributes.update(params.get("sessionState", {}).get("sessionAttributes", {}))
        with self.backend.lock:
            result = DialogEngine(built).turn(conversation, params["text"])
        conversation.last_turn = time.monotonic()
        conversation.last_response = result
        return {**result, "sessionId": params["sessionId"]}

    def get_session(self, params, region):
        self._built(params)
        conversation = self.conversations.get(self._key(params))
        if conversation is None or conversation.last_response is None:
            raise exceptions.not_found(f"Session {params['sessionId']} does not exist.")
        return {**conversation.last_response, "sessionId": params["sessionId"]}

    def delete_session(self, params, region):
        self._built(params)
        if self.conversations.pop(self._key(params), None) is None:
            raise exceptions.not_found(f"Session {params['sessionId']} does not exist.")
        return {k: params[k] for k in ("botId", "botAliasId", "localeId", "sessionId")}
