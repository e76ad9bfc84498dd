"""Athena's DDL for the catalog, written through to Glue: what the book types in Athena's
query editor to create its table.

    CREATE DATABASE [IF NOT EXISTS] db [COMMENT '...']
    CREATE EXTERNAL TABLE [IF NOT EXISTS] [db.]name (col type [COMMENT '...'], ...)
        [ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' | ROW FORMAT SERDE '...' [WITH SERDEPROPERTIES (...)]]
        [STORED AS TEXTFILE | PARQUET] LOCATION 's3://...' [TBLPROPERTIES ('k'='v', ...)]
    DROP TABLE [IF EXISTS] [db.]name
    DROP DATABASE [IF EXISTS] db [CASCADE]

The statement is parsed by sqlglot (Athena's dialect, which reads Hive DDL), so its cost is
linear in its length and a hostile statement cannot make a regular expression backtrack.
Partitions (PARTITIONED BY, MSCK REPAIR) and ALTER TABLE are not emulated.
"""
from __future__ import annotations

from .exceptions import QueryFailed

TEXT = {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"}
PARQUET = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
           "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
           "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"}
SUPPORTED = ("localaws runs SELECT, CREATE/DROP DATABASE and CREATE EXTERNAL/DROP TABLE statements; "
             "use the Glue API for other catalog changes")


def run_ddl(sql: str, database: str, glue) -> None:
    """Carry out one DDL statement on the Glue catalog, or raise QueryFailed."""
    import sqlglot
    import sqlglot.expressions as exp

    try:
        statement = sqlglot.parse_one(sql, read="athena")
    except (sqlglot.errors.SqlglotError, RecursionError) as err:
        first = (getattr(err, "errors", None) or [{}])[0]
        raise QueryFailed("SYNTAX_ERROR", f"line {first.get('line', 1)}:{first.get('col', 1)}: cannot parse "
                          f"the statement near '{first.get('highlight') or '<EOF>'}'") from None
    kind = str(statement.args.get("kind") or "").upper()
    if isinstance(statement, exp.Create) and kind in ("DATABASE", "SCHEMA"):
        return _create_database(statement, glue)
    if isinstance(statement, exp.Create) and kind == "TABLE":
        return _create_table(statement, database, glue)
    if isinstance(statement, exp.Drop) and kind == "TABLE":
        return _drop_table(statement, database, glue)
    if isinstance(statement, exp.Drop) and kind in ("DATABASE", "SCHEMA"):
        return _drop_database(statement, glue)
    raise QueryFailed("NOT_SUPPORTED", SUPPORTED)


def _create_database(statement, glue) -> None:
    import sqlglot.expressions as exp

    name = statement.this.name
    database_input = {"Name": name.lower()}
    comment = statement.find(exp.SchemaCommentProperty)
    if comment is not None:
        database_input["Description"] = comment.this.name
    try:
        glue.create_database(DatabaseInput=database_input)
    except glue.exceptions.AlreadyExistsException:
        if not statement.args.get("exists"):
            raise QueryFailed("EXECUTION_ERROR", f"Database {name} already exists") from None


def _create_table(statement, database: str, glue) -> None:
    import sqlglot.expressions as exp

    properties = statement.args.get("properties")
    found = {type(p).__name__: p for p in (properties.expressions if properties else [])}
    schema = statement.this
    if "ExternalProperty" not in found or not isinstance(schema, exp.Schema):
        raise QueryFailed("NOT_SUPPORTED", "Athena creates EXTERNAL tables with a column list; " + SUPPORTED)
    if "PartitionedByProperty" in found:
        raise QueryFailed("NOT_SUPPORTED", "localaws does not emulate partitioned tables")
    storage, serde_parameters = dict(TEXT), {}
    file_format = found.get("FileFormatProperty")
    if file_format is not None and file_format.name.upper() == "PARQUET":
        storage = dict(PARQUET)
    elif file_format is not None and file_format.name.upper() != "TEXTFILE":
        raise QueryFailed("NOT_SUPPORTED", f"localaws reads TEXTFILE and PARQUET tables, not {file_format.name}")
    delimited = found.get("RowFormatDelimitedProperty")
    if delimited is not None and delimited.args.get("fields") is not None:
        serde_parameters["field.delim"] = delimited.args["fields"].name.encode().decode("unicode_escape")
    serde = found.get("RowFormatSerdeProperty")
    if serde is not None:
        storage["SerializationLibrary"] = serde.this.name
        if serde.args.get("serde_properties") is not None:
            serde_parameters.update(_properties(serde.args["serde_properties"].expressions))
    location = found.get("LocationProperty")
    if location is None or not location.this.name.startswith("s3://"):
        raise QueryFailed("SYNTAX_ERROR", "an external table needs LOCATION 's3://bucket/folder/'")
    table = schema.this
    table_properties = _properties(p for p in properties.expressions if type(p) is exp.Property)
    table_input = {
        "Name": table.name.lower(), "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", **table_properties},
        "StorageDescriptor": {
            "Columns": [_column(c) for c in schema.expressions], "Location": location.this.name,
            "InputFormat": storage["InputFormat"], "OutputFormat": storage["OutputFormat"],
            "SerdeInfo": {"SerializationLibrary": storage["SerializationLibrary"], "Parameters": serde_parameters}},
    }
    in_database = (table.db or database).lower()
    try:
        glue.create_table(DatabaseName=in_database, TableInput=table_input)
    except glue.exceptions.AlreadyExistsException:
        if not statement.args.get("exists"):
            raise QueryFailed("EXECUTION_ERROR", f"Table {table.name} already exists") from None
    except glue.exceptions.EntityNotFoundException:
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{in_database}' does not exist") from None


def _dropped(statement):
    """The one table or database a DROP names (sqlglot lists them in `tables`)."""
    targets = statement.args.get("tables") or [statement.this]
    if len(targets) != 1 or targets[0] is None:
        raise QueryFailed("SYNTAX_ERROR", "DROP names one table or database")
    return targets[0]


def _drop_table(statement, database: str, glue) -> None:
    table = _dropped(statement)
    in_database = (table.db or database).lower()
    try:
        glue.delete_table(DatabaseName=in_database, Name=table.name.lower())
    except glue.exceptions.EntityNotFoundException:
        if not statement.args.get("exists"):
            raise QueryFailed("TABLE_NOT_FOUND", f"Table '{in_database}.{table.name}' does not exist") from None


def _drop_database(statement, glue) -> None:
    name = _dropped(statement).name
    try:
        tables = glue.get_tables(DatabaseName=name.lower())["TableList"]
    except glue.exceptions.EntityNotFoundException:
        if statement.args.get("exists"):
            return
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{name}' does not exist") from None
    if tables and not statement.args.get("cascade"):
        raise QueryFailed("EXECUTION_ERROR", f"Database {name} is not empty; use CASCADE")
    for table in tables:
        glue.delete_table(DatabaseName=name.lower(), Name=table["Name"])
    glue.delete_database(Name=name.lower())


def _column(definition) -> dict:
    """A Glue column from a column definition: Hive's type name, lower case, no spaces
    (`decimal(10,2)`, `array<string>`), as Athena writes it to the catalog."""
    import sqlglot.expressions as exp

    if not isinstance(definition, exp.ColumnDef) or definition.args.get("kind") is None:
        raise QueryFailed("SYNTAX_ERROR", f"cannot read the column definition {definition.sql('athena')!r}")
    column = {"Name": definition.name.lower(),
              "Type": definition.args["kind"].sql(dialect="hive").lower().replace(" ", "")}
    comment = definition.find(exp.CommentColumnConstraint)
    if comment is not None:
        column["Comment"] = comment.this.name
    return column


def _properties(pairs) -> dict[str, str]:
    return {pair.name: pair.args["value"].name for pair in pairs}
