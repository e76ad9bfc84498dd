"""Natural-language understanding for the emulated Lex V2: which intent an utterance means,
and which value a slot gets from the user's words.

Intent matching is nearest-neighbour search over the intents' sample utterances in a TF-IDF
space of their content words (English stop words such as "can", "you", "some" removed):
word unigrams and bigrams plus character 3-5-grams, so "get me some food" is close to
"Can you order some food" and "tell me a joke" is not. Lex's own model is trained on far more language than a
bot's few samples, so it generalises further: here an utterance that shares no words or
word pieces with any sample falls to the FallbackIntent.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re

SLOT_REFERENCE = re.compile(r"\{(\w+)\}")
YES = {"yes", "yeah", "yep", "sure", "ok", "okay", "please", "confirm", "correct", "right", "y", "definitely"}
NO = {"no", "nope", "nah", "cancel", "don't", "dont", "stop", "n", "never"}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'{}:]", " ", text.lower())).strip()


def content_words(text: str) -> str:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return " ".join(w for w in normalise(text).replace("'", " ").split() if w not in ENGLISH_STOP_WORDS)


class IntentMatcher:
    """Scores an utterance against every intent's sample utterances; fitted at build time."""

    def __init__(self, samples: dict[str, list[str]]):
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._hstack = hstack
        self.intents: list[str] = []
        texts: list[str] = []
        for intent, utterances in samples.items():
            for utterance in utterances:
                # a slot reference ("I want {FoodName}") stands for a value: keep the words around it
                texts.append(content_words(SLOT_REFERENCE.sub(" ", utterance)))
                self.intents.append(intent)
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        try:
            self.matrix = self._vectorise(texts, fit=True)
        except ValueError:  # no samples, or nothing but stop words in them
            self.matrix = None

    def _vectorise(self, texts: list[str], fit: bool = False):
        from sklearn.preprocessing import normalize

        words = self.words.fit_transform(texts) if fit else self.words.transform(texts)
        chars = self.chars.fit_transform(texts) if fit else self.chars.transform(texts)
        return normalize(self._hstack([words, chars]).tocsr())

    def scores(self, text: str) -> dict[str, float]:
        """Each intent's confidence: cosine similarity to its closest sample utterance."""
        if self.matrix is None:
            return {}
        similarity = (self.matrix @ self._vectorise([content_words(text)]).T).toarray().ravel()
        best: dict[str, float] = {}
        for intent, score in zip(self.intents, similarity):
            best[intent] = max(best.get(intent, 0.0), min(1.0, float(score)))
        return dict(sorted(best.items(), key=lambda item: -item[1]))


def yes_or_no(text: str) -> bool | None:
    words = set(normalise(text).split())
    if words & NO:
        return False
    if words & YES:
        return True
    return None


# ---------------------------------------------------------------- slot values
class CustomSlotType:
    """A slot type the bot defines: values with synonyms, resolved exactly or fuzzily
    (TopResolution), or any answer kept as said (OriginalValue)."""

    def __init__(self, values: list[dict], strategy: str = "OriginalValue"):
        self.strategy = strategy
        self.forms: dict[str, str] = {}  # lower-case value or synonym -> value
        for entry in values:
            value = entry["sampleValue"]["value"]
            self.forms[value.lower()] = value
            for synonym in entry.get("synonyms", []):
                self.forms[synonym["value"].lower()] = value

    def resolve(self, text: str) -> dict | None:
        said = text.strip().strip(".!?")
        spotted = self.spot(said)
        if spotted:
            return spotted
        close = difflib.get_close_matches(said.lower(), list(self.forms), n=1, cutoff=0.8)
        if close:
            value = self.forms[close[0]]
            return {"originalValue": said, "interpretedValue": value, "resolvedValues": [value]}
        if self.strategy == "OriginalValue" and said:
            return {"originalValue": said, "interpretedValue": said, "resolvedValues": []}
        return None

    def spot(self, text: str) -> dict | None:
        """The longest value or synonym that appears in the text as whole words."""
        for form in sorted(self.forms, key=len, reverse=True):
            match = re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text, re.IGNORECASE)
            if match:
                value = self.forms[form]
                return {"originalValue": match.group(0), "interpretedValue": value, "resolvedValues": [value]}
        return None


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_TIME = re.compile(r"\b(?P<hour>\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")(?:[:.](?P<minute>\d{2}))?"
                   r"\s*(?P<half>a\.?m\.?|p\.?m\.?|in the morning|in the evening|tonight|o'?clock)?(?!\w)",
                   re.IGNORECASE)
_NAMED_TIMES = {"noon": "12:00", "midday": "12:00", "midnight": "00:00",
                "morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI"}


def resolve_time(text: str) -> dict | None:
    """AMAZON.Time: '7 pm' -> 19:00, '19:30' -> 19:30, 'noon' -> 12:00, 'evening' -> EV
    (Lex's codes for parts of the day)."""
    lowered = text.lower()
    for match in _TIME.finditer(lowered):
        hour_text, minute, half = match.group("hour"), match.group("minute"), (match.group("half") or "")
        hour = int(hour_text) if hour_text.isdigit() else _NUMBER_WORDS[hour_text]
        alone = lowered.strip(" .!?") == match.group(0).strip()
        if not (minute or half or alone) and not re.search(r"\bat\s*$", lowered[:match.start()]):
            continue  # inside a sentence, a bare number is a time only after "at" ("at 7")
        if half.startswith("p") or "evening" in half or "tonight" in half:
            hour = hour % 12 + 12
        elif half.startswith("a") or "morning" in half:
            hour = hour % 12
        if hour > 23 or int(minute or 0) > 59:
            continue
        return {"originalValue": match.group(0).strip(), "interpretedValue": f"{hour:02d}:{minute or '00'}",
                "resolvedValues": [f"{hour:02d}:{minute or '00'}"]}
    for word, value in _NAMED_TIMES.items():
        if re.search(rf"\b{word}\b", lowered):
            return {"originalValue": word, "interpretedValue": value, "resolvedValues": [value]}
    return None


def resolve_number(text: str) -> dict | None:
    match = re.search(r"-?\d+(?:\.\d+)?", text)
    if match:
        return {"originalValue": match.group(0), "interpretedValue": match.group(0), "resolvedValues": [match.group(0)]}
    for word, number in _NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b", text.lower()):
            return {"originalValue": word, "interpretedValue": str(number), "resolvedValues": [str(number)]}
    return None


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def resolve_date(text: str, today: dt.date | None = None) -> dict | None:
    """AMAZON.Date: ISO dates, today, tomorrow, and the next named weekday."""
    today = today or dt.date.today()
    lowered = text.lower()
    iso = re.search(r"\d{4}-\d{2}-\d{2}", lowered)
    found = None
    if iso:
        try:
            found, said = dt.date.fromisoformat(iso.group(0)), iso.group(0)
        except ValueError:
            return None
    elif "tomorrow" in lowered:
        found, said = today + dt.timedelta(days=1), "tomorrow"
    elif "today" in lowered or "tonight" in lowered:
        found, said = today, "today"
    else:
        for index, day in enumerate(_WEEKDAYS):
            if day in lowered:
                found, said = today + dt.timedelta(days=(index - today.weekday()) % 7 or 7), day
                break
    if found is None:
        return None
    return {"originalValue": said, "interpretedValue": found.isoformat(), "resolvedValues": [found.isoformat()]}


def resolve_free_text(text: str) -> dict | None:
    said = text.strip()
    return {"originalValue": said, "interpretedValue": said, "resolvedValues": []} if said else None


def resolve_alphanumeric(text: str) -> dict | None:
    match = re.search(r"\b[A-Za-z0-9]*\d[A-Za-z0-9]*\b|\b[A-Za-z0-9]+\b", text)
    return {"originalValue": match.group(0), "interpretedValue": match.group(0), "resolvedValues": []} if match else None


def resolve_confirmation(text: str) -> dict | None:
    answer = yes_or_no(text)
    if answer is None:
        return None
    value = "Yes" if answer else "No"
    return {"originalValue": text.strip(), "interpretedValue": value, "resolvedValues": [value]}


BUILT_IN_SLOT_TYPES = {
    "AMAZON.Time": resolve_time,
    "AMAZON.Number": resolve_number,
    "AMAZON.Date": resolve_date,
    "AMAZON.FreeFormInput": resolve_free_text,
    "AMAZON.AlphaNumeric": resolve_alphanumeric,
    "AMAZON.Confirmation": resolve_confirmation,
}
