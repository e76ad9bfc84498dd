"""The dialog engine behind lexv2-runtime RecognizeText: one conversation per session id.

A turn either starts an intent (the matcher's best intent above the locale's confidence
threshold, else FallbackIntent, with any slot values the utterance already names), or
answers what the bot asked last: a slot value, or yes/no to the confirmation prompt. Then
the bot asks for the next required slot in priority order, asks for confirmation, or
fulfils the intent and closes with its closing response (no Lambda code hooks offline).
"""
from __future__ import annotations

import copy
import re
import time

from . import nlu
from .models import BuiltLocale


def message_of(setting: dict | None, slots: dict) -> list[dict]:
    """The messages of a prompt or response setting (one per message group), with {Slot}
    references replaced by the slots' interpreted values."""
    messages = []
    for group in (setting or {}).get("messageGroups", []):
        message = group["message"]
        if "plainTextMessage" in message:
            text, kind = message["plainTextMessage"]["value"], "PlainText"
        elif "ssmlMessage" in message:
            text, kind = message["ssmlMessage"]["value"], "SSML"
        elif "customPayload" in message:
            text, kind = message["customPayload"]["value"], "CustomPayload"
        else:
            continue
        text = re.sub(r"\{(\w+)\}", lambda m: slots.get(m.group(1), {}).get("value", {})
                      .get("interpretedValue", m.group(0)), text)
        messages.append({"content": text, "contentType": kind})
    return messages


class Conversation:
    """What a session remembers between turns."""

    def __init__(self):
        self.intent: dict | None = None  # {"name", "slots", "state", "confirmationState"}
        self.dialog_action: dict = {"type": "ElicitIntent"}
        self.attributes: dict = {}
        self.retries = 0
        self.last_turn = time.monotonic()
        self.last_response: dict | None = None


class DialogEngine:
    def __init__(self, locale: BuiltLocale):
        self.locale = locale

    def turn(self, conversation: Conversation, text: str) -> dict:
        interpretations = []
        action = conversation.dialog_action
        if conversation.intent and action["type"] == "ElicitSlot":
            messages = self._fill_slot(conversation, text)
        elif conversation.intent and action["type"] == "ConfirmIntent":
            messages = self._confirm(conversation, text)
        else:
            messages, interpretations = self._start_intent(conversation, text)
        intent = copy.deepcopy(conversation.intent)
        if not interpretations and intent:
            interpretations = [{"intent": intent, "interpretationSource": "Lex"}]
        if conversation.dialog_action["type"] == "Close":
            conversation.intent = None  # the next utterance starts a new intent
        state = {"dialogAction": dict(conversation.dialog_action), "sessionAttributes": dict(conversation.attributes)}
        if intent:
            state["intent"] = intent
        return {"messages": messages, "sessionState": state, "interpretations": interpretations}

    # ------------------------------------------------------------ steps
    def _start_intent(self, conversation: Conversation, text: str) -> tuple[list, list]:
        scores = self.locale.matcher.scores(text)
        name, score = next(iter(scores.items()), ("FallbackIntent", 0.0))
        if score < self.locale.threshold:
            name = "FallbackIntent"
        slots = self._slots_named_in(name, text)
        conversation.intent = {"name": name, "slots": slots, "state": "InProgress", "confirmationState": "None"}
        conversation.retries = 0
        interpretations = []
        for other, other_score in scores.items():
            entry = {"intent": {"name": other, "slots": {}}, "nluConfidence": {"score": round(other_score, 2)},
                     "interpretationSource": "Lex"}
            interpretations.append(entry)
        fallback = {"intent": {"name": "FallbackIntent", "slots": {}}, "interpretationSource": "Lex"}
        interpretations.insert(0 if name == "FallbackIntent" else len(interpretations), fallback)
        interpretations[0]["intent"] = copy.deepcopy(conversation.intent)
        if name == "FallbackIntent":
            return self._fulfil(conversation), interpretations
        return self._next_step(conversation), interpretations

    def _slots_named_in(self, intent: str, text: str) -> dict:
        """Values of the slots the intent's utterances refer to ("I want {FoodName}"), when
        the utterance names one."""
        referenced = {ref for u in self.locale.intents[intent].get("sampleUtterances", [])
                      for ref in nlu.SLOT_REFERENCE.findall(u["utterance"])}
        slots = {}
        for slot in self.locale.slots.get(intent, []):
            if slot["slotName"] in referenced:
                type_id = slot["slotTypeId"]
                custom = self.locale.slot_types.get(type_id)
                value = custom.spot(text) if custom else self._spot_built_in(type_id, text)
                if value:
                    slots[slot["slotName"]] = {"value": value, "shape": "Scalar"}
        return slots

    @staticmethod
    def _spot_built_in(type_id: str, text: str) -> dict | None:
        if type_id in ("AMAZON.FreeFormInput", "AMAZON.AlphaNumeric"):
            return None  # would swallow the whole sentence
        return nlu.BUILT_IN_SLOT_TYPES[type_id](text)

    def _fill_slot(self, conversation: Conversation, text: str) -> list:
        name = conversation.dialog_action["slotToElicit"]
        slot = next(s for s in self.locale.slots[conversation.intent["name"]] if s["slotName"] == name)
        value = self.locale.resolve(slot, text)
        if value is None:
            conversation.retries += 1
            prompt = slot["valueElicitationSetting"].get("promptSpecification", {})
            if conversation.retries > prompt.get("maxRetries", 2):
                return self._fail(conversation)
            return message_of(prompt, conversation.intent["slots"])
        conversation.intent["slots"][name] = {"value": value, "shape": "Scalar"}
        conversation.retries = 0
        return self._next_step(conversation)

    def _confirm(self, conversation: Conversation, text: str) -> list:
        setting = self.locale.intents[conversation.intent["name"]].get("intentConfirmationSetting", {})
        answer = nlu.yes_or_no(text)
        if answer is None:
            conversation.retries += 1
            if conversation.retries > setting.get("promptSpecification", {}).get("maxRetries", 2):
                return self._fail(conversation)
            return message_of(setting.get("promptSpecification"), conversation.intent["slots"])
        if not answer:
            conversation.intent.update(confirmationState="Denied", state="Failed")
            conversation.dialog_action = {"type": "Close"}
            return message_of(setting.get("declinationResponse"), conversation.intent["slots"])
        conversation.intent["confirmationState"] = "Confirmed"
        return self._fulfil(conversation)

    def _next_step(self, conversation: Conversation) -> list:
        intent = conversation.intent
        for slot in self.locale.slots[intent["name"]]:
            setting = slot["valueElicitationSetting"]
            if setting.get("slotConstraint") == "Required" and slot["slotName"] not in intent["slots"]:
                conversation.dialog_action = {"type": "ElicitSlot", "slotToElicit": slot["slotName"]}
                return message_of(setting.get("promptSpecification"), intent["slots"])
        confirmation = self.locale.intents[intent["name"]].get("intentConfirmationSetting")
        if confirmation and confirmation.get("active", True) and confirmation.get("promptSpecification"):
            conversation.dialog_action = {"type": "ConfirmIntent"}
            conversation.retries = 0
            return message_of(confirmation["promptSpecification"], intent["slots"])
        return self._fulfil(conversation)

    def _fulfil(self, conversation: Conversation) -> list:
        intent = conversation.intent
        intent["state"] = "Fulfilled"
        conversation.dialog_action = {"type": "Close"}
        closing = self.locale.intents[intent["name"]].get("intentClosingSetting", {})
        if not closing.get("active", True):
            return []
        return message_of(closing.get("closingResponse"), intent["slots"])

    def _fail(self, conversation: Conversation) -> list:
        conversation.intent["state"] = "Failed"
        conversation.dialog_action = {"type": "Close"}
        return []
