"""The emulated Comprehend through boto3: answers computed from the text, AWS's error codes.

The session's localaws runs in strict mode, so every response here was also checked
against botocore's service model before it was sent.
"""
from __future__ import annotations

import io
import json
import tarfile

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.comprehend import classifier

from .helpers import client, comprehend_role, make_bucket, signed, unique

TIM_COOK = "Tim Cook traveled to New York for an Apple store opening"
HAPPY = "I love this phone. The camera is wonderful and the battery lasts for days."
UNHAPPY = "The screen cracked after a week and support was useless. I hate it."


@pytest.fixture(scope="module")
def comprehend():
    return client("comprehend")


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


def topic_csv(labels=("space", "hockey", "medicine"), per_label: int = 40) -> bytes:
    """Labelled documents whose words give their topic away, with a shared filler."""
    words = {"space": "orbit rocket launch nasa moon shuttle", "hockey": "puck goalie ice nhl team season",
             "medicine": "doctor patient drug therapy symptoms clinic"}
    rows = []
    for i in range(per_label):
        for label in labels:
            topic = words[label].split()
            rows.append(f"{label},people said {topic[i % 6]} and {topic[(i * 5 + 1) % 6]} this week number {i}")
    return ("\n".join(rows) + "\n").encode()


# -- pre-trained models ------------------------------------------------------------------

def test_entities_of_the_books_sentence(comprehend):
    entities = comprehend.detect_entities(Text=TIM_COOK, LanguageCode="en")["Entities"]
    found = {(e["Text"], e["Type"]) for e in entities}
    assert found == {("Tim Cook", "PERSON"), ("New York", "LOCATION"), ("Apple", "ORGANIZATION")}
    for e in entities:
        assert TIM_COOK[e["BeginOffset"]:e["EndOffset"]] == e["Text"]
        assert 0.5 < e["Score"] <= 1.0


def test_entities_depend_on_the_text(comprehend):
    entities = comprehend.detect_entities(Text="Angela Merkel met Emmanuel Macron in Paris on 3 May 2019.",
                                          LanguageCode="en")["Entities"]
    types = {e["Text"]: e["Type"] for e in entities}
    assert types.get("Paris") == "LOCATION"
    assert types.get("Angela Merkel") == "PERSON" and types.get("Emmanuel Macron") == "PERSON"
    assert any(t == "DATE" for t in types.values())


def test_sentiment_follows_the_text(comprehend):
    happy = comprehend.detect_sentiment(Text=HAPPY, LanguageCode="en")
    unhappy = comprehend.detect_sentiment(Text=UNHAPPY, LanguageCode="en")
    neutral = comprehend.detect_sentiment(Text="The store opens at nine on Monday.", LanguageCode="en")
    assert (happy["Sentiment"], unhappy["Sentiment"], neutral["Sentiment"]) == ("POSITIVE", "NEGATIVE", "NEUTRAL")
    for answer in (happy, unhappy, neutral):
        assert sum(answer["SentimentScore"].values()) == pytest.approx(1.0, abs=1e-4)


def test_negation_and_mixed_feelings(comprehend):
    negated = comprehend.detect_sentiment(Text="I am not disappointed, it was not bad at all.", LanguageCode="en")
    assert negated["Sentiment"] == "POSITIVE"
    mixed = comprehend.detect_sentiment(
        Text="It worked fine for the first 6 weeks, then I lost battery power, did not help. Then it failed.",
        LanguageCode="en")
    assert mixed["Sentiment"] == "NEGATIVE"
    assert mixed["SentimentScore"]["Mixed"] > 0.05  # some good, mostly bad


def test_key_phrases_are_noun_phrases_of_the_text(comprehend):
    phrases = comprehend.detect_key_phrases(Text=TIM_COOK, LanguageCode="en")["KeyPhrases"]
    texts = [p["Text"] for p in phrases]
    assert "Tim Cook" in texts and "New York" in texts
    assert all(TIM_COOK[p["BeginOffset"]:p["EndOffset"]] == p["Text"] and 0 < p["Score"] <= 1 for p in phrases)


def test_dominant_language(comprehend):
    answers = comprehend.batch_detect_dominant_language(TextList=[
        "It is a truth universally acknowledged that a single man must be in want of a wife.",
        "Bonjour, je voudrais réserver une table pour deux personnes ce soir.",
        "Ich möchte heute Abend einen Tisch für zwei Personen reservieren.",
    ])
    codes = [r["Languages"][0]["LanguageCode"] for r in sorted(answers["ResultList"], key=lambda r: r["Index"])]
    assert codes == ["en", "fr", "de"]
    assert answers["ErrorList"] == []


def test_batches_answer_each_document_in_order(comprehend):
    answer = comprehend.batch_detect_sentiment(TextList=[HAPPY, UNHAPPY], LanguageCode="en")
    assert [(r["Index"], r["Sentiment"]) for r in answer["ResultList"]] == [(0, "POSITIVE"), (1, "NEGATIVE")]
    entities = comprehend.batch_detect_entities(TextList=[TIM_COOK], LanguageCode="en")["ResultList"][0]
    assert len(entities["Entities"]) == 3
    phrases = comprehend.batch_detect_key_phrases(TextList=[TIM_COOK], LanguageCode="en")["ResultList"][0]
    assert phrases["KeyPhrases"]


def test_bad_input_gets_aws_errors(comprehend):
    assert error_code(comprehend.detect_sentiment, Text="x" * 5001, LanguageCode="en") == \
        "TextSizeLimitExceededException"
    assert error_code(comprehend.batch_detect_sentiment, TextList=["fine"] * 26, LanguageCode="en") == \
        "BatchSizeLimitExceededException"
    assert error_code(comprehend.detect_entities, Text="Hola Madrid", LanguageCode="es") == \
        "UnsupportedLanguageException"
    unchecked = client("comprehend", config=Config(parameter_validation=False))  # the server checks too
    assert error_code(unchecked.detect_sentiment, Text="", LanguageCode="en") == "ValidationException"


# -- custom classifiers ------------------------------------------------------------------

def test_classifier_engine_alone():
    trained = classifier.train(topic_csv())
    metrics = trained.metadata["EvaluationMetrics"]
    assert trained.metadata["NumberOfLabels"] == 3
    assert trained.metadata["NumberOfTestDocuments"] == 12  # 10 % held out
    assert metrics["Accuracy"] >= 0.8
    best = classifier.classify(trained.model, ["the goalie stopped the puck on the ice"])[0]
    assert best[0]["Name"] == "hockey" and len(best) == 3
    with pytest.raises(classifier.TrainingDataError, match="at least 10"):
        classifier.train(b"a,one\nb,two\n" * 5)


@pytest.fixture(scope="module")
def trained_classifier(comprehend):
    s3 = client("s3")
    bucket = make_bucket(s3)
    s3.put_object(Bucket=bucket, Key="comprehend/train.csv", Body=topic_csv())
    name = unique("topics")
    arn = comprehend.create_document_classifier(
        DocumentClassifierName=name, DataAccessRoleArn=comprehend_role(), LanguageCode="en",
        InputDataConfig={"S3Uri": f"s3://{bucket}/comprehend/train.csv"},
        OutputDataConfig={"S3Uri": f"s3://{bucket}/comprehend/output/"})["DocumentClassifierArn"]
    yield bucket, name, arn
    try:
        comprehend.delete_document_classifier(DocumentClassifierArn=arn)
    except ClientError:
        pass


def test_classifier_trains_and_reports_metrics(comprehend, trained_classifier):
    bucket, name, arn = trained_classifier
    props = comprehend.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"]
    assert props["Status"] == "TRAINED" and arn.endswith(f"document-classifier/{name}")
    meta = props["ClassifierMetadata"]
    assert meta["NumberOfLabels"] == 3 and meta["NumberOfTrainedDocuments"] == 108
    assert set(meta["EvaluationMetrics"]) >= {"Accuracy", "Precision", "Recall", "F1Score"}
    assert meta["EvaluationMetrics"]["Accuracy"] >= 0.8
    output = props["OutputDataConfig"]["S3Uri"]
    assert output.startswith(f"s3://{bucket}/comprehend/output/") and output.endswith("/output/output.tar.gz")
    names = [p["DocumentClassifierArn"] for p in comprehend.list_document_classifiers(
        Filter={"Status": "TRAINED"})["DocumentClassifierPropertiesList"]]
    assert arn in names


def test_classification_job_writes_predictions(comprehend, trained_classifier):
    bucket, _, arn = trained_classifier
    s3 = client("s3")
    documents = ["the rocket will launch to orbit", "the doctor gave the patient a new drug"]
    s3.put_object(Bucket=bucket, Key="comprehend/test.csv", Body="\n".join(documents).encode())
    job = comprehend.start_document_classification_job(
        JobName="topics-job", DocumentClassifierArn=arn, DataAccessRoleArn=comprehend_role(),
        InputDataConfig={"S3Uri": f"s3://{bucket}/comprehend/test.csv", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": f"s3://{bucket}/comprehend/jobs/"})
    props = comprehend.describe_document_classification_job(JobId=job["JobId"])["DocumentClassificationJobProperties"]
    assert props["JobStatus"] == "COMPLETED"
    key = props["OutputDataConfig"]["S3Uri"].split(f"s3://{bucket}/", 1)[1]
    archive = tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    lines = archive.extractfile("predictions.jsonl").read().decode().splitlines()
    predictions = [json.loads(line) for line in lines]
    assert [(p["File"], p["Line"]) for p in predictions] == [("test.csv", "0"), ("test.csv", "1")]
    assert [p["Classes"][0]["Name"] for p in predictions] == ["space", "medicine"]
    listed = comprehend.list_document_classification_jobs(Filter={"JobName": "topics-job"})
    assert job["JobId"] in [j["JobId"] for j in listed["DocumentClassificationJobPropertiesList"]]


def test_classifier_errors(comprehend, trained_classifier):
    bucket, name, arn = trained_classifier
    assert error_code(comprehend.create_document_classifier, DocumentClassifierName=name,
                      DataAccessRoleArn=comprehend_role(), LanguageCode="en",
                      InputDataConfig={"S3Uri": f"s3://{bucket}/comprehend/train.csv"}) == "ResourceInUseException"
    assert error_code(comprehend.describe_document_classifier,
                      DocumentClassifierArn=arn + "-missing") == "ResourceNotFoundException"
    assert error_code(comprehend.describe_document_classification_job, JobId="0" * 32) == "JobNotFoundException"
    # training data that is too small fails the classifier, with the reason
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="small.csv", Body=b"a,one\nb,two\n")
    small = comprehend.create_document_classifier(
        DocumentClassifierName=unique("small"), DataAccessRoleArn=comprehend_role(), LanguageCode="en",
        InputDataConfig={"S3Uri": f"s3://{bucket}/small.csv"})["DocumentClassifierArn"]
    props = comprehend.describe_document_classifier(DocumentClassifierArn=small)["DocumentClassifierProperties"]
    assert props["Status"] == "IN_ERROR" and "at least 10" in props["Message"]
    assert error_code(comprehend.start_document_classification_job, DocumentClassifierArn=small,
                      DataAccessRoleArn=comprehend_role(), InputDataConfig={"S3Uri": f"s3://{bucket}/small.csv"},
                      OutputDataConfig={"S3Uri": f"s3://{bucket}/out/"}) == "ResourceUnavailableException"
    comprehend.delete_document_classifier(DocumentClassifierArn=small)
    assert error_code(comprehend.describe_document_classifier, DocumentClassifierArn=small) == \
        "ResourceNotFoundException"


def test_newsgroups_sample_is_comprehend_csv():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "data/samples/newsgroups"
    for name in ("train.csv", "test.csv"):
        labels, documents = classifier.read_labelled_csv((root / name).read_bytes())
        assert len(set(labels)) >= 4 and all(label.count(".") >= 1 for label in labels)
        assert min(labels.count(label) for label in set(labels)) >= classifier.MIN_DOCS_PER_LABEL
        assert all(documents)


def test_the_cbor_protocol_gets_the_same_answers(comprehend):
    """Comprehend's model also lists RPC v2 CBOR (newer SDKs speak it): same handlers, same answers."""
    import os
    import urllib.request

    import cbor2

    url = os.environ["AWS_ENDPOINT_URL_COMPREHEND"].rstrip("/")
    request = urllib.request.Request(
        f"{url}/service/Comprehend_20171127/operation/DetectSentiment",
        data=cbor2.dumps({"Text": UNHAPPY, "LanguageCode": "en"}), method="POST",
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"})
    with urllib.request.urlopen(signed(request, "comprehend")) as response:
        answer = cbor2.loads(response.read())
    assert answer == {k: v for k, v in comprehend.detect_sentiment(Text=UNHAPPY, LanguageCode="en").items()
                      if k != "ResponseMetadata"}
