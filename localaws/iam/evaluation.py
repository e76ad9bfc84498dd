"""Whether one IAM policy statement applies to a request, as AWS decides it.

moto (5.2.5) evaluates identity policies for the services it answers, and localaws reuses
that machinery (access-key lookup, signature check, policy collection, error shapes) in
both servers. Only its statement matcher is replaced, because on the policies this course
meets it decides differently from AWS:
- an `Allow` whose `Condition` fails counts as an explicit *deny* (AmazonSageMakerFullAccess
  has two `iam:PassRole` statements with different `iam:PassedToService` values, so every
  PassRole would be refused);
- a condition key missing from the request passes (so `s3:ExistingObjectTag/SageMaker`
  would open every bucket), and operators other than `StringEquals` are ignored;
- `NotResource`, `?` wildcards, policy variables and case-insensitive action names are not
  handled, and a `Service` principal in a trust policy raises a TypeError.

The rules below follow the IAM User Guide: "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
"Condition operators" (reference_policies_elements_condition_operators.html) and "Policy
variables" (reference_policies_variables.html). Not modelled: Date and IpAddress
operators (a statement using them does not apply, which is strict for Allow statements),
permissions boundaries, SCPs and session policies (the course uses none).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

Context = dict[str, Any]  # condition key (any case) -> a value or a list of values

_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _lookup(context: Context, key: str) -> list[str] | None:
    """The values of a condition key (keys are case-insensitive), None when absent."""
    wanted = key.lower()
    for name, value in context.items():
        if name.lower() == wanted:
            return [str(v) for v in _as_list(value)]
    return None


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def substitute(pattern: str, context: Context) -> str | None:
    """Policy variables: ${aws:username} etc. from the request context; ${*}, ${?}, ${$}
    are the literal characters. None when a variable has no value (the element then
    matches nothing, as AWS documents)."""
    missing = False

    def value(match: re.Match) -> str:
        nonlocal missing
        name = match.group(1)
        if name in _ESCAPES:
            return "\0" + _ESCAPES[name]
        found = _lookup(context, name)
        if not found:
            missing = True
            return ""
        return found[0].replace("*", "\0*").replace("?", "\0?")

    text = _VARIABLE.sub(value, pattern)
    if missing:
        return None
    return text


def _literal(text: str | None) -> str | None:
    """A substituted value without the markers that keep its wildcards literal."""
    return None if text is None else text.replace("\0", "")


def _matches_pattern(pattern: str, value: str, context: Context, ignore_case: bool = False) -> bool:
    text = substitute(pattern, context)
    if text is None:
        return False
    if "\0" not in text:
        return _glob(text, value, ignore_case)
    # escaped wildcards (from ${*} or a variable's value) match themselves
    parts = re.split(r"(\0.)", text)
    regex = "".join(re.escape(p[1]) if p.startswith("\0") else
                    "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p) for p in parts)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _arn_like(pattern: str, value: str, context: Context) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts is matched on its own."""
    want, have = pattern.split(":", 5), value.split(":", 5)
    return len(want) == len(have) == 6 and all(_matches_pattern(w, h, context) for w, h in zip(want, have))


def _string(op: str, expected: str, actual: str, context: Context) -> bool:
    if op in ("StringEquals", "StringNotEquals"):
        return _literal(substitute(expected, context)) == actual
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        text = _literal(substitute(expected, context))
        return text is not None and text.lower() == actual.lower()
    if op in ("StringLike", "StringNotLike"):
        return _matches_pattern(expected, actual, context)
    if op in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return _arn_like(expected, actual, context)
    if op == "Bool":
        return expected.lower() == actual.lower()
    if op.startswith("Numeric"):
        try:
            a, e = float(actual), float(expected)
        except ValueError:
            return False
        return {"NumericEquals": a == e, "NumericNotEquals": a == e, "NumericLessThan": a < e,
                "NumericLessThanEquals": a <= e, "NumericGreaterThan": a > e,
                "NumericGreaterThanEquals": a >= e}[op]
    raise KeyError(op)


_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
            "NumericNotEquals"}
_KNOWN = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool",
          "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
          "NumericGreaterThanEquals", *_NEGATED}


def condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    """One key of one condition operator block."""
    expected = [str(v) for v in _as_list(expected)]
    actual = _lookup(context, key)
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op[: -len("IfExists")] if if_exists else op
    if op == "Null":  # "true": the key must be absent; "false": present
        return bool(expected) and (actual is None) == (expected[0].lower() == "true")
    if op not in _KNOWN:
        return False  # Date*, IpAddress ...: not modelled, so the statement does not apply
    if actual is None:  # "ForAnyValue" needs a value even with a negated operator
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or op in _NEGATED
    negated = op in _NEGATED

    def one(value: str) -> bool:
        hit = any(_string(op, e, value, context) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in actual)
    return all(one(v) for v in actual) if negated else any(one(v) for v in actual)


def conditions_hold(conditions: dict | None, context: Context) -> bool:
    return all(condition_holds(operator, key, expected, context)
               for operator, block in (conditions or {}).items() for key, expected in block.items())


def _principal_matches(element: Any, principal: tuple[str, str] | None) -> bool:
    """principal is ("AWS", arn) or ("Service", "sagemaker.amazonaws.com")."""
    if element == "*":
        return True
    if principal is None or not isinstance(element, dict):
        return False
    kind, name = principal
    for candidate in _as_list(element.get(kind)):
        if candidate == "*" or candidate == name:
            return True
        if kind == "AWS":  # an account (123456789012 or its :root ARN) names all its principals
            account = candidate.split(":")[4] if candidate.startswith("arn:") else candidate
            if (candidate.endswith(":root") or candidate.isdigit()) and f"::{account}:" in name:
                return True
            if ":role/" in candidate and ":assumed-role/" in name:  # the role's sessions
                role = candidate.split(":role/")[-1].split("/")[-1]
                if name.split(":assumed-role/")[-1].split("/")[0] == role:
                    return True
    return False


def statement_applies(statement: dict, action: str, resource: str | None, context: Context,
                      principal: tuple[str, str] | None = None) -> bool:
    """Does this statement's Action, Resource, Principal and Condition all cover the request?
    resource None: a trust policy (no Resource element)."""
    if "NotAction" in statement:
        if any(_glob(p, action, ignore_case=True) for p in _as_list(statement["NotAction"])):
            return False
    elif not any(_glob(p, action, ignore_case=True) for p in _as_list(statement.get("Action"))):
        return False
    if resource is not None:
        if "NotResource" in statement:
            if any(_matches_pattern(p, resource, context) for p in _as_list(statement["NotResource"])):
                return False
        elif not any(_matches_pattern(p, resource, context) for p in _as_list(statement.get("Resource"))):
            return False
    if "Principal" in statement and not _principal_matches(statement["Principal"], principal):
        return False
    if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], principal):
        return False
    return conditions_hold(statement.get("Condition"), context)


def decide(statements: Iterable[dict], action: str, resource: str | None, context: Context,
           principal: tuple[str, str] | None = None) -> str:
    """"Deny" (an explicit deny applies), "Allow", or "" (nothing applies: implicit deny)."""
    allowed = False
    for statement in statements:
        if statement_applies(statement, action, resource, context, principal):
            if statement.get("Effect") == "Deny":
                return "Deny"
            allowed = True
    return "Allow" if allowed else ""


def statements_of(document: dict) -> list[dict]:
    return _as_list(document.get("Statement"))



