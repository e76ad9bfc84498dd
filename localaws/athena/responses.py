"""Athena's JSON-protocol operations: request parameters in, response dicts out."""
from __future__ import annotations

from ..protocol import AwsError, offset_page
from .engine import Column
from .exceptions import invalid_request
from .models import AthenaBackend

DEFAULT_PAGE = 1000  # GetQueryResults' largest page, and its default


def _page(items: list, p: dict, default_size: int) -> tuple[list, str | None]:
    return offset_page(items, p.get("NextToken"), p.get("MaxResults"), default_size,
                       invalid_request("The NextToken is not valid"))


def column_info(column: Column, database: str) -> dict:
    return {"CatalogName": "hive", "SchemaName": database, "TableName": "", "Name": column.name,
            "Label": column.name, "Type": column.type, "Precision": column.precision,
            "Scale": column.scale, "Nullable": "UNKNOWN", "CaseSensitive": column.type == "varchar"}


class AthenaResponses:
    def __init__(self, backend: AthenaBackend):
        self.backend = backend

    def start_query_execution(self, p: dict, region: str) -> dict:
        return {"QueryExecutionId": self.backend.start(p)}

    def get_query_execution(self, p: dict, region: str) -> dict:
        return {"QueryExecution": self.backend.get(p["QueryExecutionId"]).describe()}

    def batch_get_query_execution(self, p: dict, region: str) -> dict:
        found, missing = [], []
        for query_id in p["QueryExecutionIds"]:
            try:
                found.append(self.backend.get(query_id).describe())
            except AwsError:
                missing.append({"QueryExecutionId": query_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"QueryExecution {query_id} was not found"})
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def get_query_results(self, p: dict, region: str) -> dict:
        """The header row first (for SELECTs), then the rows, a page at a time."""
        query = self.backend.get(p["QueryExecutionId"])
        result = self.backend.results(query.id)
        rows = [[c.name for c in result.columns]] if result.columns else []
        rows += result.rows
        rows, token = _page(rows, p, DEFAULT_PAGE)
        page = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
        answer = {"UpdateCount": 0, "ResultSet": {
            "Rows": page,
            "ResultSetMetadata": {"ColumnInfo": [column_info(c, query.database) for c in result.columns]}}}
        if token:
            answer["NextToken"] = token
        return answer

    def stop_query_execution(self, p: dict, region: str) -> dict:
        self.backend.stop(p["QueryExecutionId"])
        return {}

    def list_query_executions(self, p: dict, region: str) -> dict:
        ids = self.backend.ids(p.get("WorkGroup", "primary"))
        page, token = _page(ids, p, 50)
        return {"QueryExecutionIds": page, **({"NextToken": token} if token else {})}
