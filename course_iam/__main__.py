"""python -m course_iam create|show|delete (see the package docstring)."""
from __future__ import annotations

import argparse
import json
import sys

from . import create, delete, policy_document, roles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_iam",
                                     description="The IAM roles and policies of the book's notebooks")
    commands = parser.add_subparsers(dest="action", required=True)
    made = commands.add_parser("create", help="create or update the roles and policies (idempotent)")
    made.add_argument("--execution-role", metavar="NAME",
                      help="also attach the course policies to this existing role (your Studio or notebook "
                           "instance execution role)")
    made.add_argument("--profile", help="AWS CLI profile with IAM administrator rights")
    gone = commands.add_parser("delete", help="remove the course's roles and policies")
    gone.add_argument("--profile")
    commands.add_parser("show", help="print each role's trust, policies and the policy documents")
    args = parser.parse_args(argv)
    if args.action == "show":
        for name, spec in roles().items():
            print(f"{name}: trusted by {', '.join(spec['trusted_services'])}")
            for policy in spec.get("aws_managed_policies", []) + spec.get("course_policies", []):
                print(f"  {policy}")
            for policy in spec.get("course_policies", []):
                print(json.dumps(policy_document(policy), indent=2))
        return 0
    import boto3
    from botocore.exceptions import ClientError, NoCredentialsError

    try:
        session = boto3.Session(profile_name=args.profile)
        if args.action == "create":
            create(session, execution_role=args.execution_role)
        else:
            delete(session)
    except NoCredentialsError:
        print("no AWS credentials: run this with an administrator's credentials (aws configure / aws sso login), "
              "or offline under `python -m localaws run -- python -m course_iam create`", file=sys.stderr)
        return 2
    except ClientError as err:
        error = err.response["Error"]
        print(f"{error['Code']}: {error['Message']}\nThese credentials cannot manage IAM: use an administrator's "
              "(a SageMaker execution role cannot create roles).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
