"""IAM offline: every call is checked against the caller's policies, as AWS checks it.

The caller is a role like the reader's (see course_iam/ at the repository's root): the
notebooks get that role's temporary credentials, so a call the role's policies do not
allow is refused with AWS's error, offline as on AWS. moto checks the calls it answers
(S3, IAM, STS, EMR, Glue, Logs ...) once `INITIAL_NO_AUTH_ACTION_COUNT` is reached;
our server runs the same check (moto's access-key lookup and signature check, the
statement rules of evaluation.py) before every operation it answers. Both also check
`iam:PassRole` on each role a request hands to a service, and SageMaker checks that the
role trusts sagemaker.amazonaws.com.

Modes: "enforce" refuses; "warn" answers but logs each call AWS would refuse, with the
missing action and resource; "off" checks nothing (moto's default).
"""
from __future__ import annotations

import functools
import json
import logging
import re
import threading
from urllib.parse import parse_qs

from ..protocol import AwsError
from . import evaluation

log = logging.getLogger("localaws.iam")
MODES = ("enforce", "warn", "off")
SERVICE_USER = "localaws-service"

# Operations that hand a role to a service: (IAM service prefix, operation) -> [(request
# member, service principal)]. Source: IAM User Guide, "Granting a user permissions to pass
# a role to an AWS service" (id_roles_use_passrole.html), and each operation's API reference.
PASSED_ROLES = {
    ("sagemaker", "CreateTrainingJob"): [("RoleArn", "sagemaker.amazonaws.com")],
    ("sagemaker", "CreateModel"): [("ExecutionRoleArn", "sagemaker.amazonaws.com")],
    ("sagemaker", "CreateProcessingJob"): [("RoleArn", "sagemaker.amazonaws.com")],
    ("sagemaker", "CreateHyperParameterTuningJob"): [("TrainingJobDefinition.RoleArn", "sagemaker.amazonaws.com"),
                                                      ("TrainingJobDefinitions.RoleArn", "sagemaker.amazonaws.com")],
    ("comprehend", "CreateDocumentClassifier"): [("DataAccessRoleArn", "comprehend.amazonaws.com")],
    ("comprehend", "StartDocumentClassificationJob"): [("DataAccessRoleArn", "comprehend.amazonaws.com")],
    ("lex", "CreateBot"): [("roleArn", "lexv2.amazonaws.com")],
    ("lex", "UpdateBot"): [("roleArn", "lexv2.amazonaws.com")],
    ("elasticmapreduce", "RunJobFlow"): [("ServiceRole", "elasticmapreduce.amazonaws.com"),
                                         ("JobFlowRole", "ec2.amazonaws.com"),
                                         ("AutoScalingRole", "application-autoscaling.amazonaws.com")],
}
# Services that check, when the role is passed, that they may assume it. SageMaker answers
# ValidationException "Could not assume role ..." (seen from CreateTransformJob and
# CreateTrainingJob in public reports, e.g. awslabs/predictive-maintenance-using-machine-learning#3).
TRUST_CHECKED = {"sagemaker.amazonaws.com"}

# Condition keys a request carries, from its parameters (Service Authorization Reference:
# "Actions, resources, and condition keys for AWS Identity and Access Management").
REQUEST_CONTEXT = {
    "iam:CreateServiceLinkedRole": {"iam:AWSServiceName": "AWSServiceName"},
}


def _members(params: dict, path: str) -> list[str]:
    """Values at a dotted path; a list on the way contributes each of its items."""
    values = [params]
    for part in path.split("."):
        found = []
        for value in values:
            if isinstance(value, list):
                found += [v.get(part) for v in value if isinstance(v, dict)]
            elif isinstance(value, dict):
                found.append(value.get(part))
        values = [v for v in found if v is not None]
    flat = []
    for v in values:
        flat += v if isinstance(v, list) else [v]
    return [v for v in flat if isinstance(v, str) and v]


def _documents(access_key) -> list[list[dict]]:
    """Statements of every policy of the caller (inline and attached). A policy's document
    is found as moto's IAMPolicy finds it (a managed policy's default version, or the inline
    text) and parsed once per distinct text: AmazonSageMakerFullAccess alone is 15 KB of
    JSON, and every checked request used to parse it again."""
    return [_statements(_document_text(p)) for p in access_key.collect_policies()]


def _document_text(policy) -> str:
    from moto.iam.models import Policy

    if isinstance(policy, Policy):
        return next(v.document for v in policy.versions if v.is_default)
    return policy if isinstance(policy, str) else policy["policy_document"]


@functools.lru_cache(maxsize=512)
def _statements(document: str) -> list[dict]:
    """Shared between requests: the evaluator only reads statements."""
    return evaluation.statements_of(json.loads(document))


def _sentence(principal: str, action: str, resource: str, decision: str) -> str:
    """AWS's wording for an identity-policy denial."""
    on = f" on resource: {resource}" if resource and resource != "*" else ""
    why = ("with an explicit deny in an identity-based policy" if decision == "Deny"
           else f"because no identity-based policy allows the {action} action")
    return f"User: {principal} is not authorized to perform: {action}{on} {why}"


class Denied(Exception):
    def __init__(self, message: str, action: str, resource: str):
        super().__init__(message)
        self.message, self.action, self.resource = message, action, resource


class Checker:
    """What both servers ask: may this caller do this action on this resource?"""

    def __init__(self, account: str, partition: str = "aws"):
        self.account, self.partition = account, partition
        self.mode = "off"
        self.denials: list[dict] = []
        self._lock = threading.Lock()

    @property
    def iam_backend(self):
        from moto.iam.models import iam_backends

        return iam_backends[self.account][self.partition]

    def allowed(self, access_key, action: str, resource: str, context: dict | None = None) -> str:
        """"Allow", "Deny" or "" for the caller behind `access_key` (a moto access key)."""
        context = {"aws:PrincipalAccount": self.account, "aws:PrincipalArn": self.principal_arn(access_key),
                   **(context or {})}
        decisions = [evaluation.decide(statements, action, resource, context) for statements in _documents(access_key)]
        return "Deny" if "Deny" in decisions else ("Allow" if "Allow" in decisions else "")

    def require(self, access_key, action: str, resource: str, context: dict | None = None) -> None:
        if getattr(access_key, "_owner_user_name", None) == SERVICE_USER:
            return  # localaws itself, acting as the AWS services do
        decision = self.allowed(access_key, action, resource, context)
        if decision != "Allow":
            message = _sentence(access_key.arn, action, resource, decision)
            with self._lock:
                self.denials.append({"principal": access_key.arn, "action": action, "resource": resource})
            if self.mode == "warn":
                log.warning("localaws IAM (warn): AWS would refuse this call: %s", message)
                return
            raise Denied(message, action, resource)

    def principal_arn(self, access_key) -> str:
        """aws:PrincipalArn: a role session's role ARN (IAM User Guide, global condition keys),
        a user's ARN."""
        role = getattr(access_key, "_owner_role_name", None)
        if role:
            try:
                return self.iam_backend.get_role(role).arn
            except Exception:
                pass
        return access_key.arn

    # ------------------------------------------------------------ roles handed to services
    def role_arn(self, name_or_arn: str, instance_profile: bool = False) -> str:
        """A role's ARN from its ARN, its name, or (EMR's JobFlowRole) an instance profile name."""
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        try:
            if instance_profile:
                profile = self.iam_backend.get_instance_profile(name_or_arn)
                if profile.roles:
                    return profile.roles[0].arn
            return self.iam_backend.get_role(name_or_arn).arn
        except Exception:  # unknown: the ARN AWS would build from the name
            return f"arn:{self.partition}:iam::{self.account}:role/{name_or_arn}"

    def passed_roles(self, access_key, prefix: str, operation: str, params: dict) -> None:
        for member, service in PASSED_ROLES.get((prefix, operation), []):
            for value in _members(params, member):
                arn = self.role_arn(value, instance_profile=member == "JobFlowRole")
                self.require(access_key, "iam:PassRole", arn, {"iam:PassedToService": service})
                if service in TRUST_CHECKED and not self.trusts(arn, service):
                    raise AwsError("ValidationException",
                                   f"Could not assume role {arn}. Please ensure that the role exists and "
                                   f"allows principal '{service}' to assume the role.")

    def trusts(self, role_arn: str, service: str) -> bool:
        """Does the role exist and does its trust policy let `service` assume it?"""
        return self._trust_allows(role_arn, ("Service", service), {"aws:SourceAccount": self.account})

    def may_assume(self, access_key, role_arn: str) -> bool:
        """sts:AssumeRole also needs the role's trust policy to name the caller (moto's own
        check, replaced with ours, did this too)."""
        return self._trust_allows(role_arn, ("AWS", self.principal_arn(access_key)),
                                  {"aws:PrincipalAccount": self.account})

    def _trust_allows(self, role_arn: str, principal: tuple[str, str], context: dict) -> bool:
        try:
            role = self.iam_backend.get_role_by_arn(role_arn)
        except Exception:
            return False
        document = role.assume_role_policy_document
        document = json.loads(document) if isinstance(document, str) else document
        return evaluation.decide(evaluation.statements_of(document), "sts:AssumeRole", None, context,
                                 principal=principal) == "Allow"


CHECKER: Checker | None = None  # moto's state is per process, so is its IAM switch


# moto names S3 requests by API operation; IAM's action is sometimes another (Service
# Authorization Reference, "Actions defined by Amazon S3": HeadBucket needs s3:ListBucket ...)
S3_ACTIONS = {"HeadBucket": "ListBucket", "SelectObject": "GetObject",
              "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
              "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
              "DeletePublicAccessBlock": "PutBucketPublicAccessBlock"}


def _moto_params(iam_request) -> dict:
    """A moto request's parameters: JSON body (JSON protocols) or query/form values."""
    body = iam_request._body or b""
    if isinstance(body, (bytes, bytearray)) and body[:1] in (b"{", b"["):
        try:
            return json.loads(body)
        except ValueError:
            return {}
    data = iam_request._data or {}
    if isinstance(body, (bytes, bytearray)) and body and not data:
        data = parse_qs(body.decode(errors="replace"))
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in data.items()}


# moto's services that answer in JSON (the rest answer XML)
_JSON_SERVICES = {"elasticmapreduce", "glue", "logs", "athena", "monitoring"}


def _moto_error(service: str, message: str):
    from moto.core.exceptions import AccessDeniedError, JsonRESTError

    if service in _JSON_SERVICES:
        error = JsonRESTError("AccessDeniedException", message)
        error.code = 400
        return error
    if service == "s3":
        from moto.s3.exceptions import S3AccessDeniedError

        error = S3AccessDeniedError()
        error.message = message
        return error
    principal, _, rest = message[len("User: "):].partition(" is not authorized to perform: ")
    return AccessDeniedError(user_arn=principal, action=rest)  # the same sentence, in IAM's XML


# IAM's service-linked role names (IAM User Guide, "Using service-linked roles"; Lex V2:
# AWSServiceRoleForLexV2Bots, with _<CustomSuffix> when one is given)
SERVICE_LINKED_ROLE_NAMES = {"lexv2.amazonaws.com": "AWSServiceRoleForLexV2Bots"}


def _moto_resources(iam_request, resource: str, params: dict) -> list[str]:
    """moto names the resource for S3 only; the Service Authorization Reference's resources
    for the IAM and Glue calls, from the request. Glue checks every level a call touches:
    the catalog, the database and, for table actions, the table (AWS Glue Developer Guide,
    "Specifying AWS Glue resource ARNs")."""
    if iam_request._service != "glue" or resource != "*":
        return [_moto_resource(iam_request, resource, params)]
    base = f"arn:aws:glue:{iam_request._region}:{iam_request.account_id}"
    database = params.get("DatabaseName") or (params.get("DatabaseInput") or {}).get("Name") or params.get("Name")
    table = (params.get("TableInput") or {}).get("Name") or (params.get("Name") if params.get("DatabaseName") else None)
    found = [f"{base}:catalog"]
    if database:
        found.append(f"{base}:database/{database}")
    if database and table:
        found.append(f"{base}:table/{database}/{table}")
    return found


def _moto_resource(iam_request, resource: str, params: dict) -> str:
    """The IAM calls' resource: the role it names, or the service-linked role it creates."""
    if resource != "*" or iam_request._service != "iam":
        return resource
    if iam_request._action == "iam:CreateServiceLinkedRole" and params.get("AWSServiceName"):
        name = SERVICE_LINKED_ROLE_NAMES.get(params["AWSServiceName"], "AWSServiceRoleFor")
        suffix = f"_{params['CustomSuffix']}" if params.get("CustomSuffix") else ""
        return f"arn:aws:iam::{iam_request.account_id}:role/aws-service-role/{params['AWSServiceName']}/{name}{suffix}"
    if params.get("RoleName"):
        return CHECKER.role_arn(params["RoleName"]) if CHECKER else resource
    return resource


def _check_moto_request(self, resource: str) -> None:
    """Replaces moto's IAMRequestBase.check_action_permitted (same signature)."""
    checker = CHECKER
    if checker is None or checker.mode == "off":
        return
    if self._action == "sts:GetCallerIdentity":  # always allowed, as on AWS
        return
    params = _moto_params(self)
    resources = _moto_resources(self, resource, params)
    action = self._action
    if self._service == "s3":
        prefix, name = action.split(":", 1)
        action = f"s3:{S3_ACTIONS.get(name, name)}"
    context = {key: params[member] for key, member in REQUEST_CONTEXT.get(action, {}).items()
               if isinstance(params.get(member), str)}
    prefix, operation = action.split(":", 1)
    try:
        for resource in resources:
            checker.require(self._access_key, action, resource, context)
        checker.passed_roles(self._access_key, prefix, operation, params)
        if action == "sts:AssumeRole" and not checker.may_assume(self._access_key, str(params.get("RoleArn"))):
            raise Denied(_sentence(self._access_key.arn, action, str(params.get("RoleArn")), ""),
                         action, str(params.get("RoleArn")))
    except Denied as denied:
        raise _moto_error(self._service, denied.message) from None
    except AwsError as err:
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError(err.code, err.message) from None


def install(checker: Checker) -> None:
    """Switch moto's IAM checks on with our statement rules (idempotent, per process)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam import access_control

    from moto.iam import models

    global CHECKER
    CHECKER = checker
    access_control.IAMRequestBase.check_action_permitted = _check_moto_request
    for service, name in SERVICE_LINKED_ROLE_NAMES.items():  # moto would call it AWSServiceRoleForlexv2
        models.SERVICE_NAME_CONVERSION[service.split(".")[0]] = name[len("AWSServiceRoleFor"):]
    if checker.mode == "off":
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    else:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0


def uninstall() -> None:
    from moto import settings

    global CHECKER
    CHECKER = None
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")


# ------------------------------------------------------------ our server's side
_SAGEMAKER_VERBS = re.compile(r"^(Create|Describe|Delete|Stop|Update|Invoke|Add|List)")


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def resource_of(prefix: str, operation: str, params: dict, region: str, account: str) -> str:
    """The resource ARN an operation acts on, where the Service Authorization Reference names
    one by the request's own name member (SageMaker's jobs, models, endpoints); else "*"."""
    if prefix != "sagemaker":
        return "*"
    noun = _SAGEMAKER_VERBS.sub("", operation)
    if operation == "InvokeEndpoint":
        noun = "Endpoint"
    name = params.get(f"{noun}Name")
    if not isinstance(name, str) or operation.startswith("List"):
        return "*"
    return f"arn:aws:sagemaker:{region}:{account}:{_kebab(noun)}/{name.lower()}"


def authorize(request, operation: str, params: dict, json_protocol: bool = True) -> None:
    """Our server's check before `operation` runs: signature, identity policies, PassRole."""
    checker = CHECKER
    if checker is None or checker.mode == "off":
        return
    from moto.core.exceptions import InvalidClientTokenIdError, SignatureDoesNotMatchError
    from moto.iam.access_control import IAMRequest

    headers = dict(request.headers)
    if "Authorization" not in headers:
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    raw = request.environ.get("RAW_URI") or request.full_path.rstrip("?")
    if "Credential=" not in headers["Authorization"] or "Signature=" not in headers["Authorization"]:
        raise AwsError("IncompleteSignatureException", "Authorization header requires 'Credential' and "
                       "'Signature' parameters.", 403)
    try:
        iam_request = IAMRequest(account_id=checker.account, method=request.method, path=raw, data={},
                                 body=request.get_data(), headers=headers, action=operation)
        iam_request.check_signature()
    except (InvalidClientTokenIdError, KeyError, IndexError):  # unknown key, or a session key without its token
        raise AwsError("UnrecognizedClientException", "The security token included in the request is invalid.")
    except SignatureDoesNotMatchError:
        raise AwsError("InvalidSignatureException",
                       "The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method.", 403)
    prefix = iam_request._service  # the signing name is the IAM prefix (sagemaker, comprehend, lex ...)
    from ..protocol import region_of

    resource = resource_of(prefix, operation, params, region_of(request), checker.account)
    try:
        checker.require(iam_request._access_key, f"{prefix}:{operation}", resource)
        checker.passed_roles(iam_request._access_key, prefix, operation, params)
    except Denied as denied:
        raise AwsError("AccessDeniedException", denied.message, 400 if json_protocol else 403) from None


# ------------------------------------------------------------ identities offline
_USERS = 0  # emulators of this process with IAM switched on (moto's state is shared by them)


def _backends(account: str):
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    return iam_backends[account]["aws"], sts_backends[account]["aws"]


def load_managed_policies(account: str) -> None:
    """moto knows AWS's managed policies (AmazonSageMakerFullAccess v29 in moto 5.2.5, ...)
    only when asked to load them before its IAM starts; load them into a started one too."""
    import os

    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    backend, _ = _backends(account)
    if not backend.aws_managed_policies:
        backend.aws_managed_policies = backend._init_aws_policies()
        backend.managed_policies.update({p.arn: p for p in backend.aws_managed_policies})


def service_credentials(account: str) -> dict[str, str]:
    """Keys of the user localaws's own clients act as (created once per process)."""
    backend, _ = _backends(account)
    if SERVICE_USER not in backend.users:
        backend.create_user("us-east-1", SERVICE_USER, path="/localaws/")
        backend.put_user_policy(SERVICE_USER, "act-as-the-aws-services", json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        backend.create_access_key(SERVICE_USER)
    key = backend.users[SERVICE_USER].access_keys[0]
    return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}


def session_as(account: str, role_arn: str, name: str = "mastering-ml") -> dict[str, str]:
    """Temporary credentials of `role_arn`, as a notebook instance's metadata service hands
    its execution role to the notebook (so no sts:AssumeRole permission is involved)."""
    _, sts = _backends(account)
    assumed = sts.assume_role(region_name="us-east-1", role_session_name=name, role_arn=role_arn,
                              policy=None, duration=43200, external_id=None)
    return {"AWS_ACCESS_KEY_ID": assumed.access_key_id, "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
            "AWS_SESSION_TOKEN": assumed.session_token}


def switch_on(checker: Checker) -> None:
    global _USERS
    _USERS += 1
    install(checker)


def switch_off() -> None:
    global _USERS
    _USERS = max(0, _USERS - 1)
    if not _USERS:
        uninstall()


def administrator_credentials(account: str) -> dict[str, str]:
    """Keys of an IAM user with AWS's AdministratorAccess (created once per process): for the
    emulator's own API tests, which call operations no notebook needs. Its calls are checked
    like anyone's (signature, PassRole, trust policies); only its policy allows everything."""
    backend, _ = _backends(account)
    name = "localaws-administrator"
    if name not in backend.users:
        backend.create_user("us-east-1", name, path="/localaws/")
        backend.attach_user_policy("arn:aws:iam::aws:policy/AdministratorAccess", name)
        backend.create_access_key(name)
    key = backend.users[name].access_keys[0]
    return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}


class RequireSignature:
    """In front of moto while IAM is on: a request without a SigV4 Authorization header is
    refused as AWS refuses an anonymous call to a private resource (moto 5.2.5 answers it
    with an HTML 500 page: it reads the header unconditionally). Presigned S3 URLs carry
    their signature in the query string instead; localaws does not verify those, so with
    IAM on they are refused too (no notebook of the course uses them; `--iam off` lets
    moto answer them)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        checker = CHECKER
        from werkzeug.wrappers import Response

        if checker is not None and checker.mode != "off" and environ.get("PATH_INFO", "").startswith("/moto-api"):
            # moto's own admin API would switch its checks off or hand out every secret key
            return Response("moto's admin API is closed while IAM is on", status=403)(environ, start_response)
        if checker is None or checker.mode == "off" or environ.get("HTTP_AUTHORIZATION"):
            return self.app(environ, start_response)

        presigned = "Signature=" in environ.get("QUERY_STRING", "")  # SigV4 X-Amz-Signature or SigV2
        message = ("localaws does not verify presigned URLs while IAM is on (--iam off lets moto answer them)"
                   if presigned else "Anonymous requests are not allowed: sign the request (boto3 does)")
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{message}</Message></Error>")
        return Response(body, status=403, content_type="application/xml")(environ, start_response)
