"""Batch transform's DataProcessing: InputFilter, JoinSource and OutputFilter.

As AWS documents them: a CSV record is seen as a JSON array of its fields, a JSON record as
itself; the InputFilter picks what the model receives (e.g. `$[1:]` drops a label column),
`JoinSource=Input` puts each prediction beside its full input record (appended fields for
CSV, a `SageMakerOutput` member for JSON), and the OutputFilter picks what is written
(e.g. `$[0,-1]`: the label and the prediction). The JSONPath subset SageMaker's examples use
is supported: `$`, `.name`, `['a','b']`, `[i]`, `[i,j,...]`, `[i:j]` with negative indexes.
"""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from .algorithms.base import ClientError

_SEGMENT = re.compile(r"\.([A-Za-z_][\w-]*)|\[([^\]]+)\]")


def _indexes(selector: str, length: int) -> list[int] | int:
    if ":" in selector:
        start, _, stop = selector.partition(":")
        return list(range(length))[slice(int(start) if start.strip() else None, int(stop) if stop.strip() else None)]
    if "," in selector:
        return [int(part) for part in selector.split(",")]
    return int(selector)


def select(path: str, value: Any) -> Any:
    """Apply a JSONPath (the subset above) to a parsed record."""
    path = (path or "$").strip()
    if not path.startswith("$"):
        raise ClientError(f"JSONPath {path!r} must start with '$'")
    position, rest = 1, path[1:]
    for match in _SEGMENT.finditer(rest):
        if match.start() != position - 1:
            raise ClientError(f"JSONPath {path!r} is not supported offline")
        position = match.end() + 1
        name, bracket = match.groups()
        try:
            if name is not None:
                value = value[name]
            elif bracket.strip().startswith(("'", '"')):
                keys = [k.strip().strip("'\"") for k in bracket.split(",")]
                value = value[keys[0]] if len(keys) == 1 else {k: value[k] for k in keys}
            else:
                picked = _indexes(bracket, len(value))
                value = [value[i] for i in picked] if isinstance(picked, list) else value[picked]
        except (KeyError, IndexError, TypeError, ValueError):
            raise ClientError(f"JSONPath {path!r} does not match the record {json.dumps(value)[:200]}") from None
    if position - 1 != len(rest):
        raise ClientError(f"JSONPath {path!r} is not supported offline")
    return value


def _parse(record: bytes, is_csv: bool) -> Any:
    text = record.decode("utf-8")
    if is_csv:
        return next(csv.reader([text]))
    try:
        return json.loads(text)
    except ValueError:
        raise ClientError(f"record is not JSON: {text[:200]}") from None


def _render(value: Any, is_csv: bool) -> bytes:
    if is_csv:
        fields = value if isinstance(value, list) else [value]
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(fields)
        return out.getvalue().encode()
    return json.dumps(value).encode()


class DataProcessing:
    def __init__(self, config: dict | None, content_type: str | None, accept: str | None):
        config = config or {}
        self.input_filter = config.get("InputFilter", "$")
        self.output_filter = config.get("OutputFilter", "$")
        self.join = config.get("JoinSource", "None") == "Input"
        self.input_csv = (content_type or "text/csv").split(";")[0].strip() == "text/csv"
        self.output_csv = (accept or "text/csv").split(";")[0].strip() == "text/csv"

    @property
    def active(self) -> bool:
        return self.join or self.input_filter != "$" or self.output_filter != "$"

    def model_input(self, records: list[bytes]) -> list[bytes]:
        if self.input_filter == "$":
            return records
        return [_render(select(self.input_filter, _parse(r, self.input_csv)), self.input_csv) for r in records]

    def outputs(self, records: list[bytes], answer: bytes) -> list[bytes]:
        """The lines to write for a batch: one per input record."""
        lines = [line for line in answer.splitlines() if line.strip()]
        if self.join or self.output_filter != "$":
            if len(lines) != len(records):
                raise ClientError(f"{len(records)} records gave {len(lines)} output lines; joining and "
                                  "filtering need one line per record (SplitType=Line, AssembleWith=Line)")
        if not self.join:
            return [_render(select(self.output_filter, _parse(line, self.output_csv)), self.output_csv)
                    for line in lines] if self.output_filter != "$" else lines
        if self.input_csv != self.output_csv:
            raise ClientError("joining CSV with JSON (or JSON with CSV) records is not emulated offline")
        joined = []
        for record, line in zip(records, lines):
            source, result = _parse(record, self.input_csv), _parse(line, self.output_csv)
            if self.input_csv:
                merged: Any = source + (result if isinstance(result, list) else [result])
            else:
                merged = {**source, "SageMakerOutput": result} if isinstance(source, dict) else [source, result]
            joined.append(_render(select(self.output_filter, merged), self.input_csv))
        return joined
