"""Athena's state: query executions, each run at once, its result written to S3 as on AWS.

SELECT queries run in DuckDB (engine.py); CREATE/DROP of databases and external tables
change the Glue catalog (ddl.py). A query runs within StartQueryExecution and is SUCCEEDED
or FAILED when the call returns (AWS queues it for a moment first; callers poll
GetQueryExecution either way). A SELECT's result is `<OutputLocation>/<QueryExecutionId>.csv`,
every value quoted, as Athena writes it (a DDL statement's, an empty `.txt`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .ddl import run_ddl
from .engine import Result, run_query
from .exceptions import QueryFailed, invalid_request

DDL = ("create", "alter", "drop", "msck")
UTILITY = ("show", "describe", "explain")
WRITES = ("insert", "update", "delete", "merge", "unload")  # Athena can, localaws does not
ENGINE = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}


@dataclass
class QueryExecution:
    id: str
    query: str
    database: str
    catalog: str
    work_group: str
    output: str | None
    submitted: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    state: str = "QUEUED"
    reason: str | None = None
    error_category: int | None = None
    completed: dt.datetime | None = None
    result: Result | None = None
    millis: int = 0

    @property
    def first_word(self) -> str:
        return (self.query.lstrip(" \t\n(").split(None, 1) or [""])[0].lower()

    @property
    def statement_type(self) -> str:
        first = self.first_word
        return "DDL" if first in DDL else "UTILITY" if first in UTILITY else "DML"

    def describe(self) -> dict:
        status = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
            status["AthenaError"] = {"ErrorCategory": self.error_category or 2, "Retryable": False,
                                     "ErrorMessage": self.reason}
        scanned = self.result.bytes_scanned if self.result else 0
        described = {
            "QueryExecutionId": self.id, "Query": self.query, "StatementType": self.statement_type,
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "Status": status, "WorkGroup": self.work_group, "EngineVersion": ENGINE,
            "Statistics": {"EngineExecutionTimeInMillis": self.millis, "TotalExecutionTimeInMillis": self.millis,
                           "QueryQueueTimeInMillis": 0, "DataScannedInBytes": scanned},
        }
        if self.output:
            described["ResultConfiguration"] = {"OutputLocation": self.output}
        return described


def check_syntax(sql: str) -> None:
    """Athena refuses a query it cannot parse at StartQueryExecution itself, with
    InvalidRequestException (AthenaErrorCode MALFORMED_QUERY) and the parser's "line L:C:"
    message, before any query exists (DESIGN.md §10; Athena API reference, StartQueryExecution
    errors). Queries and statements other than DDL are parsed as Athena's SQL by sqlglot; DDL
    (Hive's CREATE EXTERNAL TABLE ...) is left to ddl.py, whose errors end the query FAILED."""
    import sqlglot

    if (sql.lstrip(" \t\n(").split(None, 1) or [""])[0].lower() in DDL:
        return
    try:
        sqlglot.parse(sql, read="athena")
    except (sqlglot.errors.SqlglotError, RecursionError) as err:  # ParseError, TokenError (an open quote) ...
        first = (getattr(err, "errors", None) or [{}])[0]
        # Trino's wording ("line 1:35: mismatched input 'WHERE'. ..."), sqlglot's reason after it
        reason = re.sub(r"<class 'sqlglot\.[\w.]*?(\w+)'>", lambda m: m.group(1).upper(),
                        str(first.get("description") or err).splitlines()[0])
        raise invalid_request(f"line {first.get('line', 1)}:{first.get('col', 1)}: mismatched input "
                              f"'{first.get('highlight') or '<EOF>'}'. {reason}", code="MALFORMED_QUERY") from None


class AthenaBackend:
    WORK_GROUPS = ("primary",)  # the work group every account has; others are not emulated

    def __init__(self, s3, glue, scratch: Path):
        self.s3, self.glue, self.scratch = s3, glue, scratch
        self.queries: dict[str, QueryExecution] = {}
        self.tokens: dict[str, str] = {}
        self.lock = threading.Lock()

    def start(self, params: dict) -> str:
        token = params.get("ClientRequestToken")
        if token and token in self.tokens:  # idempotent retry: the same query, not a new one
            return self.tokens[token]
        work_group = params.get("WorkGroup", "primary")
        if work_group not in self.WORK_GROUPS:
            raise invalid_request(f"WorkGroup {work_group} is not found.")
        location = (params.get("ResultConfiguration") or {}).get("OutputLocation")
        if not location:
            raise invalid_request("No output location provided. An output location is required either "
                                  "through the Workgroup result configuration setting or as an API input.")
        if not location.startswith("s3://"):
            raise invalid_request(f"{location} is not a valid s3:// output location")
        context = params.get("QueryExecutionContext") or {}
        check_syntax(params["QueryString"])
        query_id = str(uuid.uuid4())
        query = QueryExecution(query_id, params["QueryString"], context.get("Database", "default"),
                               context.get("Catalog", "AwsDataCatalog"), work_group, None)
        suffix = "txt" if query.statement_type == "DDL" else "csv"  # as Athena names its result files
        query.output = f"{location.rstrip('/')}/{query_id}.{suffix}"
        with self.lock:
            self.queries[query_id] = query
            if token:
                self.tokens[token] = query_id
        self._run(query)
        return query_id

    def _run(self, query: QueryExecution) -> None:
        started = time.perf_counter()
        query.state = "RUNNING"
        try:
            if query.statement_type == "DDL":
                run_ddl(query.query, query.database, self.glue)
                query.result = Result([], [], 0)
                self.s3.write(query.output, b"")
            elif query.statement_type == "DML" and query.first_word not in WRITES:
                query.result = run_query(query.query, query.database, self.s3, self.glue,
                                         self.scratch / query.id)
                self.s3.write(query.output, result_csv(query.result))
            else:
                raise QueryFailed("NOT_SUPPORTED", f"localaws does not run {query.first_word.upper()} "
                                  "statements; see localaws/athena for what it runs")
            query.state = "SUCCEEDED"
        except QueryFailed as err:
            query.state, query.reason, query.error_category = "FAILED", str(err), err.category
        except Exception as err:  # our bug or S3 trouble: Athena calls these internal errors
            logging.getLogger("localaws").exception("Athena query %s failed inside localaws", query.id)
            query.state, query.reason, query.error_category = "FAILED", f"INTERNAL_ERROR_QUERY_ENGINE: {err}", 1
        query.millis = int((time.perf_counter() - started) * 1000)
        query.completed = dt.datetime.now(dt.timezone.utc)

    def get(self, query_id: str) -> QueryExecution:
        with self.lock:
            if query_id not in self.queries:
                raise invalid_request(f"QueryExecution {query_id} was not found")
            return self.queries[query_id]

    def results(self, query_id: str) -> Result:
        query = self.get(query_id)
        if query.state == "FAILED":
            raise invalid_request(f"Query did not finish successfully. Final query state: FAILED. "
                                  f"{query.reason}")
        if query.state != "SUCCEEDED":
            raise invalid_request(f"Query has not yet finished. Current state: {query.state}")
        return query.result

    def stop(self, query_id: str) -> None:
        query = self.get(query_id)
        if query.state in ("QUEUED", "RUNNING"):
            query.state, query.completed = "CANCELLED", dt.datetime.now(dt.timezone.utc)

    def ids(self, work_group: str) -> list[str]:
        with self.lock:
            found = [q for q in self.queries.values() if q.work_group == work_group]
        return [q.id for q in sorted(found, key=lambda q: q.submitted, reverse=True)]


def result_csv(result: Result) -> bytes:
    """Athena's result file: a header, then every value in double quotes (NULL left empty)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        out.write(",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n")
    return out.getvalue().encode()
