"""IAM offline: the statement rules (against the IAM User Guide), AWS's managed policy as
moto ships it, and the refusals a reader's role meets through boto3, in both servers."""
from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError

import course_iam
from localaws import iam
from localaws.iam import evaluation
from localaws.iam.evaluation import decide

ACCOUNT = "123456789012"


def allow(action, resource="*", condition=None, **extra):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition:
        statement["Condition"] = condition
    return statement


# ------------------------------------------------------------ the statement rules
# Source for each: IAM User Guide, reference_policies_evaluation-logic.html and
# reference_policies_elements_condition_operators.html.

def test_an_allow_whose_condition_fails_does_not_deny_another_allow():
    # AmazonSageMakerFullAccess has two PassRole statements with different PassedToService
    # values: moto 5.2.5 turned the failing one into a Deny
    statements = [allow("iam:PassRole", condition={"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}),
                  allow("iam:PassRole", condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})]
    assert decide(statements, "iam:PassRole", "arn:aws:iam::1:role/r",
                  {"iam:PassedToService": "sagemaker.amazonaws.com"}) == "Allow"
    assert decide(statements, "iam:PassRole", "arn:aws:iam::1:role/r",
                  {"iam:PassedToService": "comprehend.amazonaws.com"}) == ""


def test_a_condition_on_a_key_the_request_lacks_does_not_apply():
    tagged = [allow("s3:GetObject", "arn:aws:s3:::*",
                    {"StringEqualsIgnoreCase": {"s3:ExistingObjectTag/SageMaker": "true"}})]
    assert decide(tagged, "s3:GetObject", "arn:aws:s3:::any-bucket/key", {}) == ""
    assert decide(tagged, "s3:GetObject", "arn:aws:s3:::any-bucket/key",
                  {"s3:ExistingObjectTag/SageMaker": "TRUE"}) == "Allow"


def test_if_exists_and_negated_operators_pass_when_the_key_is_missing():
    assert decide([allow("x:Y", condition={"StringEqualsIfExists": {"k": "v"}})], "x:Y", "*", {}) == "Allow"
    assert decide([allow("x:Y", condition={"StringNotEquals": {"k": "v"}})], "x:Y", "*", {}) == "Allow"
    assert decide([allow("x:Y", condition={"StringNotEquals": {"k": "v"}})], "x:Y", "*", {"k": "v"}) == ""


def test_null_bool_and_numeric_operators():
    assert decide([allow("x:Y", condition={"Null": {"k": "true"}})], "x:Y", "*", {}) == "Allow"
    assert decide([allow("x:Y", condition={"Null": {"k": "true"}})], "x:Y", "*", {"k": "1"}) == ""
    assert decide([allow("x:Y", condition={"Bool": {"aws:SecureTransport": "true"}})], "x:Y", "*",
                  {"aws:SecureTransport": "True"}) == "Allow"
    assert decide([allow("x:Y", condition={"NumericLessThan": {"n": "10"}})], "x:Y", "*", {"n": "9"}) == "Allow"
    assert decide([allow("x:Y", condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})],
                  "x:Y", "*", {"aws:CurrentTime": "2026-01-01T00:00:00Z"}) == ""  # not modelled: strict


def test_explicit_deny_wins_and_not_resource_excludes():
    statements = [allow("sagemaker:*", NotResource=["arn:aws:sagemaker:*:*:domain/*"]) | {"Resource": None}]
    statements[0].pop("Resource")
    assert decide(statements, "sagemaker:CreateTrainingJob", "arn:aws:sagemaker:us-east-1:1:training-job/j", {}) == "Allow"
    assert decide(statements, "sagemaker:DeleteDomain", "arn:aws:sagemaker:us-east-1:1:domain/d", {}) == ""
    statements.append({"Effect": "Deny", "Action": "sagemaker:CreateTrainingJob", "Resource": "*"})
    assert decide(statements, "sagemaker:CreateTrainingJob", "*", {}) == "Deny"


def test_actions_ignore_case_resources_do_not_and_wildcards_are_only_star_and_question_mark():
    assert decide([allow("SageMaker:createtrainingjob")], "sagemaker:CreateTrainingJob", "*", {}) == "Allow"
    assert decide([allow("s3:GetObject", "arn:aws:s3:::*sagemaker*")], "s3:GetObject",
                  "arn:aws:s3:::SAGEMAKER-x/k", {}) == ""
    assert decide([allow("s3:GetObject", "arn:aws:s3:::a.b?")], "s3:GetObject", "arn:aws:s3:::aXbc", {}) == ""
    assert decide([allow("s3:GetObject", "arn:aws:s3:::a.b?")], "s3:GetObject", "arn:aws:s3:::a.bc", {}) == "Allow"


def test_arn_like_matches_each_part_and_policy_variables_come_from_the_context():
    arn_like = [allow("x:Y", condition={"ArnLike": {"k": "arn:aws:iam::*:role/*"}})]
    assert decide(arn_like, "x:Y", "*", {"k": "arn:aws:iam::123:role/a/b"}) == "Allow"
    assert decide(arn_like, "x:Y", "*", {"k": "arn:aws:s3:::bucket"}) == ""
    own = [allow("s3:PutObject", "arn:aws:s3:::bucket/${aws:PrincipalAccount}/*")]
    assert decide(own, "s3:PutObject", "arn:aws:s3:::bucket/123/k", {"aws:PrincipalAccount": "123"}) == "Allow"
    assert decide(own, "s3:PutObject", "arn:aws:s3:::bucket/999/k", {"aws:PrincipalAccount": "123"}) == ""
    assert decide(own, "s3:PutObject", "arn:aws:s3:::bucket/123/k", {}) == ""  # no value: matches nothing


def test_for_any_value_needs_a_value_even_with_a_negated_operator():
    statement = [allow("x:Y", condition={"ForAnyValue:StringNotEquals": {"aws:TagKeys": "a"}})]
    assert decide(statement, "x:Y", "*", {}) == ""
    assert decide(statement, "x:Y", "*", {"aws:TagKeys": ["a", "b"]}) == "Allow"


def test_an_escaped_wildcard_in_a_policy_variable_compares_literally():
    statement = [allow("x:Y", condition={"StringEquals": {"k": "a${*}b"}})]
    assert decide(statement, "x:Y", "*", {"k": "a*b"}) == "Allow"
    assert decide(statement, "x:Y", "*", {"k": "axb"}) == ""


def test_a_trust_policy_names_a_service_principal():
    trust = course_iam.trust_policy(["sagemaker.amazonaws.com"])["Statement"]
    assert decide(trust, "sts:AssumeRole", None, {}, principal=("Service", "sagemaker.amazonaws.com")) == "Allow"
    assert decide(trust, "sts:AssumeRole", None, {}, principal=("Service", "comprehend.amazonaws.com")) == ""


# ------------------------------------------------------------ AmazonSageMakerFullAccess as moto ships it

@pytest.fixture(scope="module")
def sagemaker_full_access():
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policy = json.loads(aws_managed_policies_data)["AmazonSageMakerFullAccess"]
    document = policy["Document"]
    return evaluation.statements_of(json.loads(document) if isinstance(document, str) else document)


@pytest.mark.parametrize("action, resource, context, expected", [
    ("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:us-east-1:1:training-job/j", {}, "Allow"),
    ("iam:PassRole", "arn:aws:iam::1:role/any", {"iam:PassedToService": "sagemaker.amazonaws.com"}, "Allow"),
    ("iam:PassRole", "arn:aws:iam::1:role/any", {"iam:PassedToService": "comprehend.amazonaws.com"}, ""),
    ("iam:PassRole", "arn:aws:iam::1:role/EMR_DefaultRole", {"iam:PassedToService": "elasticmapreduce.amazonaws.com"}, ""),
    ("s3:GetObject", "arn:aws:s3:::sagemaker-us-east-1-1/k", {}, "Allow"),
    ("s3:GetObject", "arn:aws:s3:::my-data/k", {}, ""),
    ("s3:CreateBucket", "arn:aws:s3:::my-data", {}, "Allow"),
    ("glue:CreateDatabase", "arn:aws:glue:us-east-1:1:database/default", {}, "Allow"),
    ("glue:CreateDatabase", "arn:aws:glue:us-east-1:1:database/mastering_ml_on_aws", {}, ""),
    ("comprehend:DetectEntities", "*", {}, ""),
    ("rekognition:DetectLabels", "*", {}, ""),
    ("lex:CreateBot", "*", {}, ""),
    ("elasticmapreduce:RunJobFlow", "*", {}, ""),
])
def test_what_amazon_sagemaker_full_access_allows(sagemaker_full_access, action, resource, context, expected):
    """The facts DESIGN.md §10 states about the default execution role's policy (v29)."""
    assert decide(sagemaker_full_access, action, resource, context) == expected


# ------------------------------------------------------------ through boto3, both servers

def client(service, env, **extra):
    return boto3.client(service, region_name="us-east-1", endpoint_url=env.get("AWS_ENDPOINT_URL"),
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=env.get("AWS_SESSION_TOKEN"), **extra)


@pytest.fixture(scope="module")
def live(emulator):
    if getattr(emulator, "iam_mode", "off") == "off":
        pytest.skip("this emulator runs with --iam off")
    return emulator


def test_the_reader_runs_as_the_course_role(live):
    arn = client("sts", live.env).get_caller_identity()["Arn"]
    assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/MasteringML-SageMakerExecutionRole/mastering-ml"


def test_a_call_without_its_course_policy_is_refused_naming_the_action(live):
    env = live.reader_env(without=("chapter11-rekognition",))
    rekognition = client("rekognition", {**env, "AWS_ENDPOINT_URL": live.url})
    with pytest.raises(ClientError) as err:
        rekognition.detect_labels(Image={"Bytes": b"\x89PNG"})
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "not authorized to perform: rekognition:DetectLabels" in err.value.response["Error"]["Message"]
    assert "MasteringML-Reader-without-chapter11-rekognition" in err.value.response["Error"]["Message"]


def test_moto_refuses_a_bucket_outside_the_sagemaker_pattern(live):
    s3 = client("s3", live.env)
    s3.create_bucket(Bucket="course-iam-other-bucket")  # s3:CreateBucket is allowed on any bucket
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="course-iam-other-bucket", Key="k", Body=b"x")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_glue_names_the_database_it_refuses(live):
    glue = client("glue", live.env)
    with pytest.raises(ClientError) as err:
        glue.create_database(DatabaseInput={"Name": "not_the_course_db"})
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "glue:CreateDatabase on resource: arn:aws:glue:us-east-1:123456789012:database/not_the_course_db" \
        in err.value.response["Error"]["Message"]


def test_passing_a_role_to_a_service_the_policy_does_not_name_is_refused(live):
    comprehend = client("comprehend", {**live.env, "AWS_ENDPOINT_URL": live.url})
    sagemaker_role = live.roles["MasteringML-SageMakerExecutionRole"]
    with pytest.raises(ClientError) as err:  # the book's mistake: the SageMaker role handed to Comprehend
        comprehend.create_document_classifier(
            DocumentClassifierName="iam-test", DataAccessRoleArn=sagemaker_role, LanguageCode="en",
            InputDataConfig={"S3Uri": "s3://sagemaker-us-east-1-123456789012/x.csv"})
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"iam:PassRole on resource: {sagemaker_role}" in err.value.response["Error"]["Message"]


def test_sagemaker_refuses_a_role_that_does_not_trust_it(live):
    sagemaker = client("sagemaker", {**live.env, "AWS_ENDPOINT_URL": live.url})
    comprehend_role = live.roles["MasteringML-ComprehendDataAccessRole"]
    with pytest.raises(ClientError) as err:
        sagemaker.create_model(ModelName="iam-test", ExecutionRoleArn=comprehend_role,
                               PrimaryContainer={"Image": "123.dkr.ecr.us-east-1.amazonaws.com/x:1"})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "allows principal 'sagemaker.amazonaws.com' to assume the role" in err.value.response["Error"]["Message"]


def test_a_wrong_secret_or_an_unknown_key_is_refused_by_our_server(live):
    env = {**live.env, "AWS_ENDPOINT_URL": live.url}
    with pytest.raises(ClientError) as err:
        client("sagemaker", {**env, "AWS_SECRET_ACCESS_KEY": "wrong"}).list_models()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError) as err:
        client("sagemaker", {**env, "AWS_ACCESS_KEY_ID": "ASIAUNKNOWN0000000000"}).list_models()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_warn_mode_answers_and_logs_the_call_aws_would_refuse(live, caplog):
    env = live.reader_env(without=("chapter11-rekognition",))
    rekognition = client("rekognition", {**env, "AWS_ENDPOINT_URL": live.url})
    live.checker.mode = "warn"
    try:
        with caplog.at_level(logging.WARNING, logger="localaws.iam"), pytest.raises(ClientError) as err:
            rekognition.detect_labels(Image={"Bytes": b"not an image"})
    finally:
        live.checker.mode = "enforce"
    assert err.value.response["Error"]["Code"] != "AccessDeniedException"  # answered: a bad image
    assert "AWS would refuse this call" in caplog.text and "rekognition:DetectLabels" in caplog.text


def test_course_iam_create_is_idempotent_and_delete_leaves_emrs_default_roles(live):
    from localaws.emulator import _ClientsAt
    from localaws.storage import SERVICE_CREDENTIALS

    admin = _ClientsAt(boto3.Session(region_name="us-east-1", **SERVICE_CREDENTIALS), live.moto_url)
    first = course_iam.create(admin, log=lambda *_: None)
    iam_client = admin.client("iam")

    def state():  # ARNs follow from names: the ids and version counts show what a rerun really did
        policies = iam_client.list_policies(Scope="Local", PathPrefix="/")["Policies"]
        return ({name: iam_client.get_role(RoleName=name)["Role"]["RoleId"] for name in course_iam.roles()},
                {p["PolicyName"]: (p["PolicyId"], len(iam_client.list_policy_versions(PolicyArn=p["Arn"])["Versions"]))
                 for p in policies if p["PolicyName"].startswith("MasteringML-")})
    before = state()
    assert course_iam.create(admin, log=lambda *_: None) == first
    assert state() == before, "a second create replaced roles or added policy versions"
    attached = {p["PolicyName"] for p in iam_client.list_attached_role_policies(
        RoleName=course_iam.READER_ROLE)["AttachedPolicies"]}
    assert attached == {"AmazonSageMakerFullAccess", *(f"MasteringML-{p}" for p in
                                                       course_iam.roles()[course_iam.READER_ROLE]["course_policies"])}
    profile = iam_client.get_instance_profile(InstanceProfileName="EMR_EC2_DefaultRole")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["EMR_EC2_DefaultRole"]
    course_iam.delete(admin, log=lambda *_: None)
    try:
        names = {r["RoleName"] for r in iam_client.list_roles()["Roles"]}
        assert course_iam.READER_ROLE not in names and "EMR_DefaultRole" in names
    finally:
        course_iam.create(admin, log=lambda *_: None)  # the other tests of this worker need them


def test_every_course_policy_is_valid_json_that_iam_accepts():
    from moto.iam.policy_validation import IAMPolicyDocumentValidator

    for name in course_iam.policy_names():
        IAMPolicyDocumentValidator(json.dumps(course_iam.policy_document(name))).validate()
    used = {p for spec in course_iam.roles().values() for p in spec.get("course_policies", [])}
    assert used == set(course_iam.policy_names())


def test_passed_role_members_are_found_in_nested_requests():
    params = {"TrainingJobDefinitions": [{"RoleArn": "a"}, {"RoleArn": "b"}], "TrainingJobDefinition": {"RoleArn": "c"}}
    assert iam._members(params, "TrainingJobDefinitions.RoleArn") == ["a", "b"]
    assert iam._members(params, "TrainingJobDefinition.RoleArn") == ["c"]


def test_assume_role_needs_the_roles_trust_policy_to_name_the_caller(live):
    """Even an administrator cannot assume a role that trusts only a service."""
    from .helpers import administrator

    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=live.moto_url, **administrator())
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=live.roles["MasteringML-SageMakerExecutionRole"], RoleSessionName="reader")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_moto_admin_api_is_closed_while_iam_is_on(live):
    import urllib.error
    import urllib.request

    for path, method in (("/moto-api/data.json", "GET"), ("/moto-api/reset-auth", "POST")):
        request = urllib.request.Request(live.moto_url + path, method=method, data=b"0" if method == "POST" else None,
                                         headers={"Authorization": "AWS4-HMAC-SHA256 anything"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 403


def test_a_malformed_authorization_header_is_an_aws_error(live):
    import urllib.error
    import urllib.request

    for authorization in ("AWS4-HMAC-SHA256 nothing-here",
                          "AWS4-HMAC-SHA256 Credential=ASIAXXXX/20260101/us-east-1/sagemaker/aws4_request, "
                          "SignedHeaders=host, Signature=abc"):
        request = urllib.request.Request(live.url + "/", data=b"{}", method="POST", headers={
            "X-Amz-Target": "SageMaker.ListModels", "Content-Type": "application/x-amz-json-1.1",
            "Authorization": authorization, "X-Amz-Date": "20260101T000000Z"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code in (400, 403)
        assert err.value.headers["x-amzn-ErrorType"] in ("IncompleteSignatureException", "UnrecognizedClientException")
