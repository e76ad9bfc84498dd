"""Comprehend's operations: request parameters in, response dicts out."""
from __future__ import annotations

from typing import Callable

from ..protocol import offset_page
from . import nlp
from .exceptions import batch_too_large, invalid_request, text_too_large, unsupported_language
from .models import ComprehendBackend

# Per-document UTF-8 size limits of the real-time APIs, and the batch size.
SENTIMENT_LIMIT = 5_000
TEXT_LIMIT = 100_000
BATCH_LIMIT = 25
PAGE = 100


def _text(p: dict, limit: int, english: bool = True) -> str:
    if "Text" not in p:
        raise invalid_request("localaws analyses plain Text only (no Bytes documents, no custom endpoints)")
    if english and p.get("LanguageCode", "en") != "en":
        raise unsupported_language(p["LanguageCode"])
    if len(p["Text"].encode()) > limit:
        raise text_too_large(limit)
    return p["Text"]


def _batch(p: dict, limit: int, analyse: Callable[[str], dict], english: bool = True) -> dict:
    texts = p["TextList"]
    if len(texts) > BATCH_LIMIT:
        raise batch_too_large(BATCH_LIMIT)
    checked = [_text({"Text": t, "LanguageCode": p.get("LanguageCode", "en")}, limit, english) for t in texts]
    return {"ResultList": [{"Index": i, **analyse(t)} for i, t in enumerate(checked)], "ErrorList": []}


def _page(items: list[dict], p: dict) -> tuple[list[dict], str | None]:
    return offset_page(items, p.get("NextToken"), p.get("MaxResults"), PAGE,
                       invalid_request("The NextToken is not valid"))


def _sentiment(text: str) -> dict:
    label, scores = nlp.sentiment(text)
    return {"Sentiment": label, "SentimentScore": scores}


def _entities(text: str) -> dict:
    return {"Entities": nlp.entities(text)}


def _key_phrases(text: str) -> dict:
    return {"KeyPhrases": nlp.key_phrases(text)}


def _languages(text: str) -> dict:
    return {"Languages": nlp.dominant_languages(text)}


class ComprehendResponses:
    def __init__(self, backend: ComprehendBackend):
        self.backend = backend

    # -- pre-trained models, one document or a batch ---------------------------------------

    def detect_entities(self, p: dict, region: str) -> dict:
        if "LanguageCode" not in p and "Text" in p:
            raise invalid_request("LanguageCode is required unless you name a custom EndpointArn")
        return _entities(_text(p, TEXT_LIMIT))

    def batch_detect_entities(self, p: dict, region: str) -> dict:
        return _batch(p, TEXT_LIMIT, _entities)

    def detect_key_phrases(self, p: dict, region: str) -> dict:
        return _key_phrases(_text(p, TEXT_LIMIT))

    def batch_detect_key_phrases(self, p: dict, region: str) -> dict:
        return _batch(p, TEXT_LIMIT, _key_phrases)

    def detect_sentiment(self, p: dict, region: str) -> dict:
        return _sentiment(_text(p, SENTIMENT_LIMIT))

    def batch_detect_sentiment(self, p: dict, region: str) -> dict:
        return _batch(p, SENTIMENT_LIMIT, _sentiment)

    def detect_dominant_language(self, p: dict, region: str) -> dict:
        return _languages(_text(p, TEXT_LIMIT, english=False))

    def batch_detect_dominant_language(self, p: dict, region: str) -> dict:
        return _batch(p, TEXT_LIMIT, _languages, english=False)

    # -- custom classifiers -------------------------------------------------------------------

    def create_document_classifier(self, p: dict, region: str) -> dict:
        return {"DocumentClassifierArn": self.backend.create_classifier(p, region)}

    def describe_document_classifier(self, p: dict, region: str) -> dict:
        return {"DocumentClassifierProperties": self.backend.classifier(p["DocumentClassifierArn"])}

    def list_document_classifiers(self, p: dict, region: str) -> dict:
        page, token = _page(self.backend.list_classifiers(p.get("Filter", {})), p)
        return {"DocumentClassifierPropertiesList": page, **({"NextToken": token} if token else {})}

    def delete_document_classifier(self, p: dict, region: str) -> dict:
        self.backend.delete_classifier(p["DocumentClassifierArn"])
        return {}

    # -- classification jobs ----------------------------------------------------------------

    def start_document_classification_job(self, p: dict, region: str) -> dict:
        job = self.backend.start_job(p, region)
        return {k: job[k] for k in ("JobId", "JobArn", "JobStatus", "DocumentClassifierArn")}

    def describe_document_classification_job(self, p: dict, region: str) -> dict:
        return {"DocumentClassificationJobProperties": self.backend.job(p["JobId"])}

    def list_document_classification_jobs(self, p: dict, region: str) -> dict:
        page, token = _page(self.backend.list_jobs(p.get("Filter", {})), p)
        return {"DocumentClassificationJobPropertiesList": page, **({"NextToken": token} if token else {})}
