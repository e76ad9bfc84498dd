"""The field constraints of botocore's service models, checked as AWS checks them.

botocore's own ParamValidator checks types, required members and minimum lengths on the
client; AWS checks the rest on the server and answers ValidationException, e.g.

    1 validation error detected: Value 'ml.t2.medium' at 'resourceConfig.instanceType'
    failed to satisfy constraint: Member must satisfy enum value set: [ml.m4.xlarge, ...]

(the wording of AWS's JSON-protocol services; the member path is the request's, with
each name's first letter in lower case and list items as `N.member`). Checked here: enum
values, string and list lengths, numeric ranges, and patterns (those Python's `re` can
compile; a value over its length limit is not matched against its pattern, so no pattern
runs on unbounded text).
"""
from __future__ import annotations

import functools
import re
from typing import Any

from botocore.model import Shape

MAX_REPORTED = 10


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:  # Java-only syntax (\p{...} and friends): not checked
        return None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 256 else text[:256] + "..."


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if len(errors) >= MAX_REPORTED or value is None:
        return
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and member.serialization.get("location") is None:
                _check(member, value[name], f"{path}.{_lower_first(name)}" if path else _lower_first(name), errors)
        return
    if kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
                          f"Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value[:1000]):
            _check(shape.member, item, f"{path}.{i + 1}.member", errors)
        return
    if kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{path}' failed to satisfy constraint: "
                          f"Member must have length less than or equal to {meta['max']}")
        for key, item in list(value.items())[:1000]:
            _check(shape.key, key, f"{path}.{key}.key", errors)
            _check(shape.value, item, f"{path}.{key}.member", errors)
        return
    if kind == "string" and isinstance(value, str):
        where = f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must"
        if shape.enum and value not in shape.enum:
            errors.append(f"{where} satisfy enum value set: [{', '.join(shape.enum)}]")
        elif "max" in meta and len(value) > meta["max"]:
            errors.append(f"{where} have length less than or equal to {meta['max']}")
        elif "min" in meta and len(value) < meta["min"]:
            errors.append(f"{where} have length greater than or equal to {meta['min']}")
        elif "pattern" in meta:
            compiled = _pattern(meta["pattern"])
            if compiled is not None and compiled.fullmatch(value) is None:
                errors.append(f"{where} satisfy regular expression pattern: {meta['pattern']}")
        return
    if kind == "timestamp" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not -62135596800 <= value <= 253402300799:  # years 1 to 9999, what timestamps can hold
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: Member must be a "
                          "timestamp between the years 1 and 9999")
        return
    if kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        where = f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value"
        if "max" in meta and value > meta["max"]:
            errors.append(f"{where} less than or equal to {meta['max']}")
        elif "min" in meta and value < meta["min"]:
            errors.append(f"{where} greater than or equal to {meta['min']}")


def violations(shape: Shape | None, params: dict) -> list[str]:
    """Each constraint the request breaks, in AWS's words (at most MAX_REPORTED)."""
    errors: list[str] = []
    if shape is not None:
        _check(shape, params, "", errors)
    return errors


def message(errors: list[str]) -> str:
    count = len(errors)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)
