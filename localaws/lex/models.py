"""State of the emulated Lex V2: bots, their locales, intents, slots and slot types.

Only a bot's DRAFT version exists (no CreateBotVersion); the test alias TSTALIASID points
at it, as on AWS. Building a locale checks its definition and fits the intent matcher
(nlu.IntentMatcher); the runtime talks to the last successful build.
"""
from __future__ import annotations

import copy
import re
import datetime as dt
import secrets
import string
import threading

from . import exceptions, nlu

DRAFT = "DRAFT"
TEST_ALIAS_ID, TEST_ALIAS_NAME = "TSTALIASID", "TestBotAlias"
FALLBACK_INTENT_ID = "FALLBCKINT"
LOCALE_NAMES = {"en_US": "English (US)", "en_GB": "English (GB)", "en_AU": "English (AU)",
                "en_IN": "English (IN)", "en_ZA": "English (ZA)", "en_IE": "English (IE)"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10))


def without(params: dict, *names: str) -> dict:
    return {k: copy.deepcopy(v) for k, v in params.items() if k not in names}


NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")


def check_name(field: str, name: str) -> None:
    """Lex names: letters and digits, single _ or - between them (botocore does not check patterns)."""
    if not NAME.match(name):
        raise exceptions.invalid(f"1 validation error detected: Value '{name}' at '{field}' failed to satisfy "
                                 f"constraint: Member must satisfy regular expression pattern: {NAME.pattern}")


class Resource:
    """A bot, locale, intent, slot or slot type: the fields the caller sent plus ours."""

    def __init__(self, fields: dict):
        self.fields = fields
        self.created = self.updated = now()

    def update(self, fields: dict) -> None:
        self.fields = fields
        self.updated = now()


class Locale(Resource):
    def __init__(self, fields: dict):
        super().__init__(fields)
        self.status = "NotBuilt"
        self.failure_reasons: list[str] = []
        self.last_build: dt.datetime | None = None
        self.intents: dict[str, Resource] = {}
        self.slots: dict[str, dict[str, Resource]] = {}  # intent id -> slot id -> slot
        self.slot_types: dict[str, Resource] = {}
        self.built: "BuiltLocale | None" = None
        fallback = Resource({"intentName": "FallbackIntent", "parentIntentSignature": "AMAZON.FallbackIntent",
                             "description": "Default intent when no other intent matches"})
        self.intents[FALLBACK_INTENT_ID] = fallback
        self.slots[FALLBACK_INTENT_ID] = {}

    def changed(self) -> None:
        """Any edit of the definition means the locale must be built again (as on AWS)."""
        self.status, self.updated = "NotBuilt", now()

    def problems(self) -> list[str]:
        """Why a build fails: AWS's checks that matter for a dialog."""
        found = []
        if len(self.intents) < 2:
            found.append("The bot locale must contain at least one intent other than FallbackIntent.")
        for intent_id, intent in self.intents.items():
            name = intent.fields["intentName"]
            slot_names = {s.fields["slotName"] for s in self.slots[intent_id].values()}
            if intent_id != FALLBACK_INTENT_ID and not intent.fields.get("sampleUtterances"):
                found.append(f"Intent '{name}' has no sample utterances.")
            for utterance in intent.fields.get("sampleUtterances", []):
                for ref in nlu.SLOT_REFERENCE.findall(utterance["utterance"]):
                    if ref not in slot_names:
                        found.append(f"Intent '{name}': utterance '{utterance['utterance']}' refers to "
                                     f"slot '{ref}', which the intent does not have.")
            for slot in self.slots[intent_id].values():
                type_id = slot.fields.get("slotTypeId", "")
                if type_id not in self.slot_types and type_id not in nlu.BUILT_IN_SLOT_TYPES:
                    found.append(f"Intent '{name}', slot '{slot.fields['slotName']}': slot type '{type_id}' "
                                 "is neither a slot type of this locale nor a built-in type localaws resolves "
                                 f"({', '.join(sorted(nlu.BUILT_IN_SLOT_TYPES))}).")
        return found

    def build(self) -> None:
        self.last_build = now()
        self.failure_reasons = self.problems()
        if self.failure_reasons:
            self.status = "Failed"
            return
        self.built = BuiltLocale(self)
        self.status = "Built"


class BuiltLocale:
    """A frozen copy of a locale's definition, as the runtime sees it after a build."""

    def __init__(self, locale: Locale):
        self.threshold = float(locale.fields.get("nluIntentConfidenceThreshold", 0.4))
        self.intents = {i.fields["intentName"]: copy.deepcopy(i.fields) for i in locale.intents.values()}
        self.slots: dict[str, list[dict]] = {}
        for intent_id, intent in locale.intents.items():
            slots = {slot_id: copy.deepcopy(s.fields) for slot_id, s in locale.slots[intent_id].items()}
            order = [p["slotId"] for p in sorted(intent.fields.get("slotPriorities", []),
                                                 key=lambda p: p["priority"]) if p["slotId"] in slots]
            order += [slot_id for slot_id in slots if slot_id not in order]
            self.slots[intent.fields["intentName"]] = [slots[slot_id] for slot_id in order]
        self.slot_types = {type_id: nlu.CustomSlotType(
            t.fields.get("slotTypeValues", []),
            t.fields.get("valueSelectionSetting", {}).get("resolutionStrategy", "OriginalValue"))
            for type_id, t in locale.slot_types.items()}
        samples = {name: [u["utterance"] for u in fields.get("sampleUtterances", [])]
                   for name, fields in self.intents.items() if name != "FallbackIntent"}
        self.matcher = nlu.IntentMatcher(samples)

    def resolve(self, slot: dict, text: str) -> dict | None:
        type_id = slot.get("slotTypeId", "")
        if type_id in self.slot_types:
            return self.slot_types[type_id].resolve(text)
        return nlu.BUILT_IN_SLOT_TYPES[type_id](text)


class Bot(Resource):
    def __init__(self, fields: dict):
        super().__init__(fields)
        self.bot_id = new_id()
        self.locales: dict[str, Locale] = {}


class LexBackend:
    def __init__(self):
        self.bots: dict[str, Bot] = {}
        self.lock = threading.RLock()

    # ------------------------------------------------------------ look-ups
    def bot(self, bot_id: str, parent: bool = False) -> Bot:
        if bot_id not in self.bots:
            if parent:
                raise exceptions.parent_missing("bot", bot_id)
            raise exceptions.not_found(f"Could not find the bot {bot_id}.")
        return self.bots[bot_id]

    def locale(self, bot_id: str, version: str, locale_id: str, parent: bool = False) -> Locale:
        if version != DRAFT:
            raise exceptions.invalid(f"Bot version {version}: localaws keeps only the DRAFT version of a bot.")
        bot = self.bot(bot_id, parent)
        if locale_id not in bot.locales:
            if parent:
                raise exceptions.parent_missing("bot locale", locale_id)
            raise exceptions.not_found(f"Could not find the locale {locale_id} of bot {bot_id}.")
        return bot.locales[locale_id]

    @staticmethod
    def child(children: dict, child_id: str, kind: str, parent: bool = False) -> Resource:
        if child_id not in children:
            if parent:
                raise exceptions.parent_missing(kind, child_id)
            raise exceptions.not_found(f"Could not find the {kind} {child_id}.")
        return children[child_id]

    # ------------------------------------------------------------ bots
    def create_bot(self, fields: dict) -> Bot:
        check_name("botName", fields["botName"])
        with self.lock:
            if any(b.fields["botName"] == fields["botName"] for b in self.bots.values()):
                raise exceptions.conflict(f"A bot named {fields['botName']} already exists.")
            bot = Bot(fields)
            self.bots[bot.bot_id] = bot
            return bot

    def delete_bot(self, bot_id: str) -> None:
        with self.lock:
            self.bot(bot_id)
            del self.bots[bot_id]

    # ------------------------------------------------------------ locales
    def create_locale(self, bot_id: str, version: str, fields: dict) -> Locale:
        with self.lock:
            if version != DRAFT:
                raise exceptions.invalid("Locales can only be created in the DRAFT version.")
            bot = self.bot(bot_id, parent=True)
            if fields["localeId"] in bot.locales:
                raise exceptions.conflict(f"Locale {fields['localeId']} already exists in bot {bot_id}.")
            locale = Locale(fields)
            bot.locales[fields["localeId"]] = locale
            return locale

    # ------------------------------------------------------------ intents, slots, slot types
    @staticmethod
    def _add(locale: Locale, children: dict, name_field: str, fields: dict) -> tuple[str, Resource]:
        """A new intent, slot or slot type: a valid name, unique among its siblings."""
        check_name(name_field, fields[name_field])
        if any(c.fields[name_field] == fields[name_field] for c in children.values()):
            raise exceptions.conflict(f"A resource with {name_field} {fields[name_field]} already exists.")
        child_id = new_id()
        children[child_id] = Resource(fields)
        locale.changed()
        return child_id, children[child_id]

    def create_intent(self, locale: Locale, fields: dict) -> tuple[str, Resource]:
        with self.lock:
            intent_id, intent = self._add(locale, locale.intents, "intentName", fields)
            locale.slots[intent_id] = {}
            return intent_id, intent

    def update_intent(self, locale: Locale, intent_id: str, fields: dict) -> Resource:
        with self.lock:
            intent = self.child(locale.intents, intent_id, "intent", parent=True)
            for priority in fields.get("slotPriorities", []):
                if priority["slotId"] not in locale.slots[intent_id]:
                    raise exceptions.invalid(f"Slot {priority['slotId']} in slotPriorities is not a slot of "
                                             f"intent {fields['intentName']}.")
            intent.update(fields)
            locale.changed()
            return intent

    def delete_intent(self, locale: Locale, intent_id: str) -> None:
        with self.lock:
            self.child(locale.intents, intent_id, "intent")
            del locale.intents[intent_id], locale.slots[intent_id]
            locale.changed()

    def create_slot(self, locale: Locale, intent_id: str, fields: dict) -> tuple[str, Resource]:
        with self.lock:
            self.child(locale.intents, intent_id, "intent", parent=True)
            type_id = fields.get("slotTypeId", "")
            if type_id not in locale.slot_types and not type_id.startswith("AMAZON."):
                raise exceptions.invalid(f"Slot type {type_id!r} does not exist in locale.")
            return self._add(locale, locale.slots[intent_id], "slotName", fields)

    def delete_slot(self, locale: Locale, intent_id: str, slot_id: str) -> None:
        with self.lock:
            self.child(locale.intents, intent_id, "intent")
            slots = locale.slots[intent_id]
            self.child(slots, slot_id, "slot")
            del slots[slot_id]
            locale.changed()

    def create_slot_type(self, locale: Locale, fields: dict) -> tuple[str, Resource]:
        with self.lock:
            return self._add(locale, locale.slot_types, "slotTypeName", fields)

    def delete_slot_type(self, locale: Locale, type_id: str, force: bool = False) -> None:
        with self.lock:
            self.child(locale.slot_types, type_id, "slot type")
            users = [s.fields["slotName"] for slots in locale.slots.values() for s in slots.values()
                     if s.fields.get("slotTypeId") == type_id]
            if users and not force:
                raise exceptions.AwsError("PreconditionFailedException", f"Slot type {type_id} is used by "
                                          f"slots {users}; delete them first.", status=412)
            del locale.slot_types[type_id]
            locale.changed()

    # ------------------------------------------------------------ harness
    def leftovers(self) -> dict[str, list[str]]:
        return {"Lex bots": sorted(f"{b.fields['botName']} ({b.bot_id})" for b in self.bots.values())}

    def clear_leftovers(self) -> None:
        with self.lock:
            self.bots.clear()
