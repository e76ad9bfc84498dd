"""Lex V2 through boto3: build a bot in code, talk to it, and get AWS's errors for bad calls."""
from __future__ import annotations

import datetime as dt

import pytest
from botocore.exceptions import ClientError

from localaws.lex import nlu
from tests.helpers import client, lex_role, unique

ALIAS = "TSTALIASID"


def message(text: str) -> dict:
    return {"messageGroups": [{"message": {"plainTextMessage": {"value": text}}}], "allowInterrupt": True}


def required_slot(prompt: str) -> dict:
    return {"slotConstraint": "Required", "promptSpecification": {**message(prompt), "maxRetries": 1}}


@pytest.fixture()
def models():
    return client("lexv2-models")


@pytest.fixture()
def runtime():
    return client("lexv2-runtime")


@pytest.fixture()
def food_bot(models):
    """A built bot with an OrderFood intent (slots Food, Time; a confirmation) and a Greeting intent."""
    bot_id = models.create_bot(botName=unique("FoodOrder"), roleArn=lex_role(), dataPrivacy={"childDirected": False},
                               idleSessionTTLInSeconds=300)["botId"]
    locale = {"botId": bot_id, "botVersion": "DRAFT", "localeId": "en_US"}
    models.create_bot_locale(nluIntentConfidenceThreshold=0.4, **locale)
    food = models.create_slot_type(slotTypeName="Food", valueSelectionSetting={"resolutionStrategy": "TopResolution"},
                                   slotTypeValues=[{"sampleValue": {"value": "pizza"}, "synonyms": [{"value": "pie"}]},
                                                   {"sampleValue": {"value": "sushi"}}], **locale)["slotTypeId"]
    intent = models.create_intent(
        intentName="OrderFood", **locale,
        sampleUtterances=[{"utterance": u} for u in ("I am hungry", "Can you order some food", "I want {Food}")],
        intentConfirmationSetting={"promptSpecification": {**message("{Food} at {Time}, shall I order?"), "maxRetries": 1},
                                   "declinationResponse": message("Okay, cancelled.")},
        intentClosingSetting={"closingResponse": message("Ordered!")})
    time_slot = models.create_slot(intentId=intent["intentId"], slotName="Time", slotTypeId="AMAZON.Time",
                                   valueElicitationSetting=required_slot("What time?"), **locale)["slotId"]
    food_slot = models.create_slot(intentId=intent["intentId"], slotName="Food", slotTypeId=food,
                                   valueElicitationSetting=required_slot("What food?"), **locale)["slotId"]
    models.update_intent(intentId=intent["intentId"], intentName="OrderFood", **locale,
                         sampleUtterances=intent["sampleUtterances"],
                         intentConfirmationSetting=intent["intentConfirmationSetting"],
                         intentClosingSetting=intent["intentClosingSetting"],
                         slotPriorities=[{"priority": 1, "slotId": food_slot}, {"priority": 2, "slotId": time_slot}])
    models.create_intent(intentName="Greeting", sampleUtterances=[{"utterance": "hello there"}, {"utterance": "good morning"}],
                         intentClosingSetting={"closingResponse": message("Hello!")}, **locale)
    models.build_bot_locale(**locale)
    models.get_waiter("bot_locale_built").wait(**locale, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    yield locale
    models.delete_bot(botId=bot_id)


def say(runtime, locale, text, session="s1"):
    return runtime.recognize_text(botId=locale["botId"], botAliasId=ALIAS, localeId="en_US", sessionId=session, text=text)


def slot_values(response):
    slots = response["sessionState"]["intent"].get("slots", {})
    return {name: slot["value"]["interpretedValue"] for name, slot in slots.items() if slot}


def test_status_transitions_the_waiters_expect(models):
    bot = models.create_bot(botName=unique("Bot"), roleArn=lex_role(), dataPrivacy={"childDirected": False},
                            idleSessionTTLInSeconds=60)
    assert bot["botStatus"] == "Creating"
    models.get_waiter("bot_available").wait(botId=bot["botId"])
    locale = {"botId": bot["botId"], "botVersion": "DRAFT", "localeId": "en_US"}
    assert models.create_bot_locale(nluIntentConfidenceThreshold=0.4, **locale)["botLocaleStatus"] == "Creating"
    assert models.describe_bot_locale(**locale)["botLocaleStatus"] == "NotBuilt"
    intents = models.list_intents(**locale)["intentSummaries"]
    assert [i["intentName"] for i in intents] == ["FallbackIntent"]
    # a locale with only the FallbackIntent does not build, and says why
    assert models.build_bot_locale(**locale)["botLocaleStatus"] == "Building"
    described = models.describe_bot_locale(**locale)
    assert described["botLocaleStatus"] == "Failed" and described["failureReasons"]
    aliases = models.list_bot_aliases(botId=bot["botId"])["botAliasSummaries"]
    assert [a["botAliasId"] for a in aliases] == [ALIAS]
    assert models.delete_bot(botId=bot["botId"])["botStatus"] == "Deleting"


def test_a_full_conversation_fills_slots_in_priority_order_and_fulfils(runtime, food_bot):
    first = say(runtime, food_bot, "could you order me some food please")
    assert first["sessionState"]["intent"]["name"] == "OrderFood"
    assert first["interpretations"][0]["nluConfidence"]["score"] >= 0.4
    assert first["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "Food"}
    assert first["messages"][0]["content"] == "What food?"
    second = say(runtime, food_bot, "a pie")  # a synonym resolves to its value
    assert slot_values(second) == {"Food": "pizza"}
    assert second["sessionState"]["dialogAction"]["slotToElicit"] == "Time"
    third = say(runtime, food_bot, "7:30 pm")
    assert slot_values(third) == {"Food": "pizza", "Time": "19:30"}
    assert third["sessionState"]["dialogAction"]["type"] == "ConfirmIntent"
    assert third["messages"][0]["content"] == "pizza at 19:30, shall I order?"
    last = say(runtime, food_bot, "yes please")
    assert last["sessionState"]["intent"]["state"] == "Fulfilled"
    assert last["sessionState"]["intent"]["confirmationState"] == "Confirmed"
    assert last["sessionState"]["dialogAction"]["type"] == "Close"
    assert [m["content"] for m in last["messages"]] == ["Ordered!"]


def test_slot_values_in_the_first_utterance_and_declining(runtime, food_bot):
    first = say(runtime, food_bot, "I want sushi", session="s2")
    assert slot_values(first) == {"Food": "sushi"}
    assert first["sessionState"]["dialogAction"]["slotToElicit"] == "Time"
    say(runtime, food_bot, "at noon", session="s2")
    declined = say(runtime, food_bot, "no", session="s2")
    assert declined["sessionState"]["intent"]["state"] == "Failed"
    assert declined["messages"][0]["content"] == "Okay, cancelled."


def test_unmatched_words_go_to_the_fallback_intent_and_others_to_their_intent(runtime, food_bot):
    unrelated = say(runtime, food_bot, "what is the capital of peru", session="s3")
    assert unrelated["sessionState"]["intent"]["name"] == "FallbackIntent"
    greeting = say(runtime, food_bot, "hello", session="s4")
    assert greeting["sessionState"]["intent"]["name"] == "Greeting"
    assert greeting["messages"][0]["content"] == "Hello!"


def test_a_value_the_slot_type_does_not_know_is_asked_again_then_fails(runtime, food_bot):
    say(runtime, food_bot, "I am hungry", session="s5")
    again = say(runtime, food_bot, "a bicycle", session="s5")
    assert again["sessionState"]["dialogAction"]["slotToElicit"] == "Food"
    assert again["messages"][0]["content"] == "What food?"
    failed = say(runtime, food_bot, "a tractor", session="s5")  # maxRetries is 1
    assert failed["sessionState"]["intent"]["state"] == "Failed"


def test_sessions_can_be_read_and_deleted(runtime, food_bot):
    say(runtime, food_bot, "I am hungry", session="s6")
    keys = {"botId": food_bot["botId"], "botAliasId": ALIAS, "localeId": "en_US", "sessionId": "s6"}
    assert runtime.get_session(**keys)["sessionState"]["dialogAction"]["slotToElicit"] == "Food"
    runtime.delete_session(**keys)
    with pytest.raises(ClientError) as err:
        runtime.get_session(**keys)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_editing_a_built_locale_needs_a_new_build(models, food_bot):
    models.create_intent(intentName="Goodbye", sampleUtterances=[{"utterance": "bye"}], **food_bot)
    assert models.describe_bot_locale(**food_bot)["botLocaleStatus"] == "NotBuilt"


def test_errors(models, runtime, food_bot):
    def code(call, **kwargs):
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        return err.value.response["Error"]["Code"]

    assert code(models.describe_bot, botId="NOSUCHBOT1") == "ResourceNotFoundException"
    assert code(models.create_intent, intentName="X", botId="NOSUCHBOT1", botVersion="DRAFT",
                localeId="en_US") == "PreconditionFailedException"
    assert code(models.create_intent, intentName="OrderFood", **food_bot) == "ConflictException"
    assert code(models.create_bot, botName="bad name!", roleArn=lex_role(), dataPrivacy={"childDirected": False},
                idleSessionTTLInSeconds=60) == "ValidationException"
    assert code(runtime.recognize_text, botId=food_bot["botId"], botAliasId="OTHERALIAS", localeId="en_US",
                sessionId="xy", text="hi") == "ResourceNotFoundException"


@pytest.mark.parametrize("said, expected", [
    ("7 pm", "19:00"), ("at 8", "08:00"), ("19:45", "19:45"), ("noon", "12:00"),
    ("in the evening", "EV"), ("at seven pm", "19:00"), ("12 am", "00:00"), ("25:00", None)])
def test_amazon_time(said, expected):
    value = nlu.resolve_time(said)
    assert (value["interpretedValue"] if value else None) == expected


def test_amazon_date():
    monday = dt.date(2026, 11, 23)
    assert nlu.resolve_date("tomorrow", monday)["interpretedValue"] == "2026-11-24"
    assert nlu.resolve_date("on friday", monday)["interpretedValue"] == "2026-11-27"
    assert nlu.resolve_date("no idea", monday) is None
