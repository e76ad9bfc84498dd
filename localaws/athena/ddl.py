"""Athena's DDL for the catalog, written through to Glue: what the book types in Athena's
query editor to create its table.

    CREATE DATABASE [IF NOT EXISTS] db
    CREATE EXTERNAL TABLE [IF NOT EXISTS] [db.]name (col type, ...)
        [ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' | ROW FORMAT SERDE '...' [WITH SERDEPROPERTIES (...)]]
        [STORED AS TEXTFILE | PARQUET] LOCATION 's3://...' [TBLPROPERTIES ('k'='v', ...)]
    DROP TABLE [IF EXISTS] [db.]name
    DROP DATABASE [IF EXISTS] db [CASCADE]

Partitions (PARTITIONED BY, MSCK REPAIR) and ALTER TABLE are not emulated.
"""
from __future__ import annotations

import re

from .exceptions import QueryFailed

FLAGS = re.IGNORECASE | re.DOTALL
NAME = r"`?(\w+)`?"
QUALIFIED = rf"(?:{NAME}\.)?{NAME}"
TEXT = {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"}
PARQUET = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
           "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
           "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"}


def run_ddl(sql: str, database: str, glue) -> None:
    """Carry out one DDL statement on the Glue catalog, or raise QueryFailed."""
    sql = sql.strip().rstrip(";")
    handlers = [
        (rf"^CREATE\s+(?:DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?{NAME}(?:\s+.*)?$", _create_database),
        (rf"^CREATE\s+EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{QUALIFIED}\s*\((.*)$", _create_table),
        (rf"^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?{QUALIFIED}$", _drop_table),
        (rf"^DROP\s+(?:DATABASE|SCHEMA)\s+(IF\s+EXISTS\s+)?{NAME}(\s+CASCADE)?$", _drop_database),
    ]
    for pattern, handler in handlers:
        match = re.match(pattern, sql, FLAGS)
        if match:
            return handler(match, database, glue)
    raise QueryFailed("NOT_SUPPORTED", "localaws runs SELECT, CREATE/DROP DATABASE and CREATE EXTERNAL/"
                      "DROP TABLE statements; use the Glue API for other catalog changes")


def _create_database(match, database, glue) -> None:
    if_not_exists, name = match.groups()
    try:
        glue.create_database(DatabaseInput={"Name": name.lower()})
    except glue.exceptions.AlreadyExistsException:
        if not if_not_exists:
            raise QueryFailed("EXECUTION_ERROR", f"Database {name} already exists") from None


def _create_table(match, database, glue) -> None:
    if_not_exists, schema, name, tail = match.groups()
    columns_text, rest = _until_closing_parenthesis(tail)
    storage = dict(TEXT)
    serde_parameters: dict[str, str] = {}
    if re.search(r"\bPARTITIONED\s+BY\b", rest, FLAGS):
        raise QueryFailed("NOT_SUPPORTED", "localaws does not emulate partitioned tables")
    stored = re.search(r"\bSTORED\s+AS\s+(\w+)", rest, FLAGS)
    if stored and stored.group(1).upper() == "PARQUET":
        storage = dict(PARQUET)
    elif stored and stored.group(1).upper() != "TEXTFILE":
        raise QueryFailed("NOT_SUPPORTED", f"localaws reads TEXTFILE and PARQUET tables, not {stored.group(1)}")
    delimited = re.search(r"\bFIELDS\s+TERMINATED\s+BY\s+'((?:\\.|[^'])*)'", rest, FLAGS)
    if delimited:
        serde_parameters["field.delim"] = delimited.group(1).encode().decode("unicode_escape")
    serde = re.search(r"\bROW\s+FORMAT\s+SERDE\s+'([^']+)'", rest, FLAGS)
    if serde:
        storage["SerializationLibrary"] = serde.group(1)
    serde_properties = re.search(r"\bWITH\s+SERDEPROPERTIES\s*\(([^)]*)\)", rest, FLAGS)
    if serde_properties:
        serde_parameters.update(_properties(serde_properties.group(1)))
    location = re.search(r"\bLOCATION\s+'([^']+)'", rest, FLAGS)
    if not location or not location.group(1).startswith("s3://"):
        raise QueryFailed("SYNTAX_ERROR", "an external table needs LOCATION 's3://bucket/folder/'")
    table_properties = re.search(r"\bTBLPROPERTIES\s*\(([^)]*)\)", rest, FLAGS)
    table_input = {
        "Name": name.lower(), "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", **(_properties(table_properties.group(1)) if table_properties else {})},
        "StorageDescriptor": {
            "Columns": [_column(c) for c in _split_top_level(columns_text)], "Location": location.group(1),
            "InputFormat": storage["InputFormat"], "OutputFormat": storage["OutputFormat"],
            "SerdeInfo": {"SerializationLibrary": storage["SerializationLibrary"], "Parameters": serde_parameters}},
    }
    try:
        glue.create_table(DatabaseName=(schema or database).lower(), TableInput=table_input)
    except glue.exceptions.AlreadyExistsException:
        if not if_not_exists:
            raise QueryFailed("EXECUTION_ERROR", f"Table {name} already exists") from None
    except glue.exceptions.EntityNotFoundException:
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{schema or database}' does not exist") from None


def _drop_table(match, database, glue) -> None:
    if_exists, schema, name = match.groups()
    try:
        glue.delete_table(DatabaseName=(schema or database).lower(), Name=name.lower())
    except glue.exceptions.EntityNotFoundException:
        if not if_exists:
            raise QueryFailed("TABLE_NOT_FOUND", f"Table '{schema or database}.{name}' does not exist") from None


def _drop_database(match, database, glue) -> None:
    if_exists, name, cascade = match.groups()
    try:
        tables = glue.get_tables(DatabaseName=name.lower())["TableList"]
    except glue.exceptions.EntityNotFoundException:
        if if_exists:
            return
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{name}' does not exist") from None
    if tables and not cascade:
        raise QueryFailed("EXECUTION_ERROR", f"Database {name} is not empty; use CASCADE")
    for table in tables:
        glue.delete_table(DatabaseName=name.lower(), Name=table["Name"])
    glue.delete_database(Name=name.lower())


def _until_closing_parenthesis(text: str) -> tuple[str, str]:
    for i, depth in _depths(text):
        if depth < 0:
            return text[:i], text[i + 1:]
    raise QueryFailed("SYNTAX_ERROR", "the column list has no closing parenthesis")


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes, parentheses and angle brackets (decimal(10,2), map<a,b>)."""
    cuts = [i for i, depth in _depths(text) if depth == 0 and text[i] == ","]
    bounds = zip([-1] + cuts, cuts + [len(text)])
    return [text[a + 1:b].strip() for a, b in bounds if text[a + 1:b].strip()]


def _depths(text: str):
    """(index, nesting depth after that character) for characters outside single quotes."""
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted:
            depth += {"(": 1, "<": 1, ")": -1, ">": -1}.get(char, 0)
            yield i, depth


def _column(text: str) -> dict:
    match = re.match(rf"^{NAME}\s+(.+?)(?:\s+COMMENT\s+'([^']*)')?$", text, FLAGS)
    if not match:
        raise QueryFailed("SYNTAX_ERROR", f"cannot read the column definition {text!r}")
    column = {"Name": match.group(1).lower(), "Type": re.sub(r"\s+", "", match.group(2)).lower()}
    if match.group(3):
        column["Comment"] = match.group(3)
    return column


def _properties(text: str) -> dict[str, str]:
    return dict(re.findall(r"'([^']*)'\s*=\s*'([^']*)'", text))
