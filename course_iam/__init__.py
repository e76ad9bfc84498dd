"""The IAM the book's notebooks need, as files and one command that creates it.

    python -m course_iam create                      # the roles and policies below
    python -m course_iam create --execution-role R   # ... and the course policies on your own role R
    python -m course_iam show                        # what each role gets
    python -m course_iam delete                      # remove what `create` made

Run it once per account with administrator credentials (an IAM user or your SSO admin
role in a terminal; a SageMaker execution role cannot create roles). It is idempotent.
Offline, localaws runs exactly this against its own IAM and the notebooks then run as
`MasteringML-SageMakerExecutionRole` (or, on the EMR platform, as EMR_EC2_DefaultRole).

policies/*.json are the course's least-privilege policies, one per chapter that needs
more than AmazonSageMakerFullAccess; roles.json says which role gets which.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICY_PREFIX = "MasteringML-"
READER_ROLE = "MasteringML-SageMakerExecutionRole"
EMR_INSTANCE_ROLE = "EMR_EC2_DefaultRole"


def roles() -> dict[str, dict]:
    return json.loads((HERE / "roles.json").read_text())


def policy_names() -> list[str]:
    return sorted(p.stem for p in (HERE / "policies").glob("*.json"))


def policy_document(name: str) -> dict:
    path = HERE / "policies" / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"no course policy {name!r}: choose from {', '.join(policy_names())}")
    return json.loads(path.read_text())


def trust_policy(services: list[str]) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}]}


def _account(session) -> str:
    return session.client("sts").get_caller_identity()["Account"]


def _ensure_policy(iam, account: str, name: str) -> str:
    """A customer managed policy with this document (a new default version if it changed)."""
    arn = f"arn:aws:iam::{account}:policy/{POLICY_PREFIX}{name}"
    document = json.dumps(policy_document(name))
    try:
        current = iam.get_policy(PolicyArn=arn)["Policy"]
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(PolicyName=POLICY_PREFIX + name, PolicyDocument=document,
                          Description=f"Mastering ML on AWS: {name}")
        return arn
    version = iam.get_policy_version(PolicyArn=arn, VersionId=current["DefaultVersionId"])["PolicyVersion"]
    stored = version["Document"]
    stored = json.loads(stored) if isinstance(stored, str) else stored
    if stored != json.loads(document):
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        for old in [v for v in versions if not v["IsDefaultVersion"]][: max(0, len(versions) - 4)]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=old["VersionId"])  # IAM keeps at most 5
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    return arn


def _ensure_role(iam, name: str, spec: dict) -> str:
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name, Description=spec.get("description", "")[:1000],
                               AssumeRolePolicyDocument=json.dumps(trust_policy(spec["trusted_services"])),
                               Tags=[{"Key": "project", "Value": "mastering-ml-on-aws"}])["Role"]["Arn"]


def _ensure_instance_profile(iam, name: str) -> None:
    try:
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except iam.exceptions.NoSuchEntityException:
        profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    if not any(r["RoleName"] == name for r in profile.get("Roles", [])):
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def create(session, execution_role: str | None = None, without: tuple[str, ...] = (),
           reader_role: str = READER_ROLE, log=print) -> dict[str, str]:
    """Create (or bring up to date) every role of roles.json and attach its policies.
    `execution_role` also gets the reader role's policies (your own Studio or notebook
    instance role); `without` leaves those course policies off; `reader_role` renames the
    reader's role (the tests make one without a policy). Returns role name -> ARN."""
    iam, account = session.client("iam"), _account(session)
    specs = roles()
    reader = specs.pop(READER_ROLE)
    specs = {reader_role: reader, **specs}
    if execution_role:
        specs[execution_role] = {**reader, "existing": True}
    made = {}
    for name, spec in specs.items():
        existed = _exists(iam, name)
        if spec.get("existing") and not existed:
            raise SystemExit(f"no role {name!r} in account {account}: give your execution role's name "
                             "(the last part of its ARN, e.g. AmazonSageMaker-ExecutionRole-20261201T000000)")
        made[name] = _ensure_role(iam, name, spec)
        if existed and spec.get("keep_if_present"):
            log(f"{name}: exists, kept as it is")
        else:
            for arn in spec.get("aws_managed_policies", []):
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for policy in spec.get("course_policies", []):
            if policy in without:
                continue
            iam.attach_role_policy(RoleName=name, PolicyArn=_ensure_policy(iam, account, policy))
        if spec.get("instance_profile"):
            _ensure_instance_profile(iam, name)
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        log(f"{name}: {', '.join(sorted(attached))}")
    return made


def _exists(iam, name: str) -> bool:
    try:
        iam.get_role(RoleName=name)
        return True
    except iam.exceptions.NoSuchEntityException:
        return False


def delete(session, log=print) -> None:
    """Remove the course's own roles and policies (EMR's default roles stay: other
    clusters of the account may use them; only the course policy is detached)."""
    iam, account = session.client("iam"), _account(session)
    for name, spec in roles().items():
        if not _exists(iam, name):
            continue
        for policy in spec.get("course_policies", []):
            arn = f"arn:aws:iam::{account}:policy/{POLICY_PREFIX}{policy}"
            try:
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException:
                pass
        if spec.get("keep_if_present"):
            continue
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)
        log(f"deleted role {name}")
    for policy in policy_names():
        arn = f"arn:aws:iam::{account}:policy/{POLICY_PREFIX}{policy}"
        try:
            for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            for entity in iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"]:
                iam.detach_role_policy(RoleName=entity["RoleName"], PolicyArn=arn)
            iam.delete_policy(PolicyArn=arn)
            log(f"deleted policy {POLICY_PREFIX}{policy}")
        except iam.exceptions.NoSuchEntityException:
            pass
