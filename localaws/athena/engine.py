"""Run one Athena query: load the Glue tables it names from S3 into DuckDB, then run it.

Athena's engine is Trino (Presto); DuckDB's SQL dialect agrees with it on the SELECT,
WHERE, GROUP BY, ORDER BY, LIMIT, JOIN and aggregate queries of the book, not on every
function. Tables are read in full (partitions and partition pruning are not emulated),
which suits the small data of offline runs.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..paths import inside
from ..protocol import AwsError
from .exceptions import QueryFailed

HIVE_TO_DUCKDB = {
    "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER", "integer": "INTEGER",
    "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "boolean": "BOOLEAN",
    "string": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB",
}
DUCKDB_TO_ATHENA = {  # result column type names as Athena reports them, and their precision
    "TINYINT": ("tinyint", 3), "SMALLINT": ("smallint", 5), "INTEGER": ("integer", 10),
    "BIGINT": ("bigint", 19), "HUGEINT": ("bigint", 19), "FLOAT": ("float", 17),
    "DOUBLE": ("double", 17), "BOOLEAN": ("boolean", 0), "VARCHAR": ("varchar", 2147483647),
    "DATE": ("date", 0), "TIMESTAMP": ("timestamp", 3), "BLOB": ("varbinary", 1073741824),
}


@dataclass
class Column:
    name: str
    type: str  # Athena's name for it: double, varchar, decimal ...
    precision: int = 0
    scale: int = 0


@dataclass
class Result:
    columns: list[Column]
    rows: list[list[str | None]]  # Athena hands every value back as text
    bytes_scanned: int


def duckdb_type(hive_type: str) -> str:
    kind = hive_type.strip().lower()
    if kind in HIVE_TO_DUCKDB:
        return HIVE_TO_DUCKDB[kind]
    if re.fullmatch(r"(var)?char\(\d+\)", kind):
        return "VARCHAR"
    if re.fullmatch(r"decimal\(\d+,\s*\d+\)", kind):
        return kind.upper()
    raise QueryFailed("NOT_SUPPORTED", f"localaws cannot read columns of type {hive_type} "
                      "(scalar types only)")


def athena_column(name: str, duck_type: str) -> Column:
    duck_type = str(duck_type).upper()
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    if decimal:
        return Column(name, "decimal", int(decimal.group(1)), int(decimal.group(2)))
    kind, precision = DUCKDB_TO_ATHENA.get(duck_type, ("varchar", 2147483647))
    return Column(name, kind, precision)


def as_text(value) -> str | None:
    """A value as Athena's result set writes it (NULL stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        return value.isoformat(sep=" ", timespec="milliseconds")
    return str(value)


class TableLoader:
    """Reads a Glue table's objects from S3 into a DuckDB table of the catalog's schema."""

    def __init__(self, s3, glue, scratch: Path):
        self.s3, self.glue, self.scratch = s3, glue, scratch
        self.bytes_scanned = 0

    def databases(self) -> set[str]:
        pages = self.glue.get_paginator("get_databases").paginate()
        return {d["Name"].lower() for page in pages for d in page["DatabaseList"]}

    def tables(self, database: str) -> list[dict]:
        pages = self.glue.get_paginator("get_tables").paginate(DatabaseName=database)
        return [t for page in pages for t in page["TableList"]]

    def load(self, con, database: str, table: dict) -> None:
        storage = table.get("StorageDescriptor") or {}
        columns = [(c["Name"], duckdb_type(c["Type"])) for c in storage.get("Columns", [])]
        columns += [(c["Name"], duckdb_type(c["Type"])) for c in table.get("PartitionKeys", [])]
        if not columns:
            raise QueryFailed("HIVE_INVALID_METADATA", f"table {database}.{table['Name']} has no columns")
        target = f"{identifier(database)}.{identifier(table['Name'].lower())}"
        files = self._download(storage.get("Location", ""), database, table["Name"])
        if not files:  # an empty location is an empty table, as on Athena
            definition = ", ".join(f"{identifier(name)} {kind}" for name, kind in columns)
            con.execute(f"CREATE TABLE {target} ({definition})")
            return
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM {self._reader(table, storage, columns)}",
                    [[str(f) for f in files]])

    def _download(self, location: str, database: str, name: str) -> list[Path]:
        if not location.startswith("s3://"):
            raise QueryFailed("HIVE_INVALID_METADATA", f"table {database}.{name} has no s3:// location")
        try:
            dest = inside(self.scratch, f"{database}/{name}", "table")
            shutil.rmtree(dest, ignore_errors=True)
            files = self.s3.download_prefix(location.rstrip("/") + "/", dest)
        except FileNotFoundError:
            return []
        except AwsError as err:  # a key or name leading outside the query's directory
            raise QueryFailed("HIVE_INVALID_METADATA", err.message) from None
        files = [f for f in files if not f.name.startswith(("_", "."))]  # _SUCCESS, .crc ...
        self.bytes_scanned += sum(f.stat().st_size for f in files)
        return files

    @staticmethod
    def _reader(table: dict, storage: dict, columns: list[tuple[str, str]]) -> str:
        serde = storage.get("SerdeInfo") or {}
        library = (serde.get("SerializationLibrary") or "").lower()
        formats = f"{library} {(storage.get('InputFormat') or '').lower()}"
        if "parquet" in formats:
            return "read_parquet(?)"
        if "json" in formats:
            spec = ", ".join(f"'{_quoted(n)}': '{t}'" for n, t in columns)
            return f"read_json(?, format='newline_delimited', columns={{{spec}}})"
        params = {**(table.get("Parameters") or {}), **(serde.get("Parameters") or {})}
        if "opencsv" in library:
            delimiter, quote = params.get("separatorChar", ","), params.get("quoteChar", '"')
        else:  # LazySimpleSerDe, Athena's default for text: no quoting
            delimiter, quote = params.get("field.delim", params.get("serialization.format", ",")), ""
        if delimiter == "1":  # Hive's code for its default delimiter, \001
            delimiter = "\x01"
        skip = int(params.get("skip.header.line.count", "0"))
        spec = ", ".join(f"'{_quoted(n)}': '{t}'" for n, t in columns)  # types: duckdb_type's own names
        return (f"read_csv(?, header=false, skip={skip}, delim='{_quoted(delimiter)}', "
                f"quote='{_quoted(quote)}', columns={{{spec}}}, null_padding=true, "
                "ignore_errors=true)")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def identifier(name: str) -> str:
    """A catalog name as a quoted DuckDB identifier (sqlglot doubles any quote inside)."""
    import sqlglot.expressions as exp

    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def referenced_tables(sql: str, database: str, loader: TableLoader) -> dict[str, list[dict]]:
    """The catalog tables a query names, per database (unqualified names: the context
    database), from sqlglot's parse of the query (linear in its length)."""
    import sqlglot
    import sqlglot.expressions as exp

    try:
        trees = sqlglot.parse(sql, read="athena")
    except (sqlglot.errors.SqlglotError, RecursionError) as err:
        raise QueryFailed("SYNTAX_ERROR", (str(err).splitlines() or ["cannot parse the query"])[0]) from None
    named: dict[str, set[str]] = {}
    for tree in trees:
        for table in (tree.find_all(exp.Table) if tree is not None else []):
            named.setdefault((table.db or database).lower(), set()).add(table.name.lower())
    known = loader.databases()
    if database.lower() not in known:
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist")
    found = {}
    for name in set(named) & known:
        tables = [t for t in loader.tables(name) if t["Name"].lower() in named[name]]
        if tables:
            found[name] = tables
    return found


def run_query(sql: str, database: str, s3, glue, scratch: Path) -> Result:
    import duckdb

    loader = TableLoader(s3, glue, scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        # locked down before any SQL built from request data runs: files only under this
        # query's own scratch directory (the tables' downloaded objects), no settings changes
        con.execute("SET allowed_directories = ?", [[str(scratch.resolve()) + os.sep]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        tables = referenced_tables(sql, database, loader)
        for name in {database.lower(), *tables}:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {identifier(name)}")
        for name, entries in tables.items():
            for table in entries:
                loader.load(con, name, table)
        con.execute(f"SET schema = '{_quoted(database.lower())}'")
        try:
            cursor = con.execute(sql)
        except duckdb.ParserException as err:
            raise QueryFailed("SYNTAX_ERROR", _first_line(err)) from None
        except duckdb.CatalogException as err:
            raise QueryFailed("TABLE_NOT_FOUND" if "Table" in str(err) else "COLUMN_NOT_FOUND",
                              _first_line(err)) from None
        except duckdb.BinderException as err:
            raise QueryFailed("COLUMN_NOT_FOUND", _first_line(err)) from None
        except duckdb.Error as err:
            raise QueryFailed("GENERIC_USER_ERROR", _first_line(err)) from None
        if cursor.description is None:
            return Result([], [], loader.bytes_scanned)
        columns = [athena_column(d[0], d[1]) for d in cursor.description]
        rows = [[as_text(v) for v in row] for row in cursor.fetchall()]
        return Result(columns, rows, loader.bytes_scanned)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0]
