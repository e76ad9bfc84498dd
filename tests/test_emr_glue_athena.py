"""Chapter 15's services through boto3: Glue (moto) keeps the catalog, Athena (localaws)
runs the SQL for real over the tables' S3 objects, EMR clusters count as leftovers."""
from __future__ import annotations

import io
import json
import os
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from tests.helpers import client, make_bucket, unique

HOUSING = Path(__file__).resolve().parent.parent / "data" / "samples" / "housing" / "train.csv"
LAZY = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"


@pytest.fixture(scope="module")
def catalog():
    """A bucket with the housing CSV and a Glue database holding a table over it."""
    s3, glue = client("s3"), client("glue")
    bucket, database = make_bucket(s3), unique("mastering_ml_test").replace("-", "_")  # the course policy's databases
    s3.upload_file(str(HOUSING), bucket, "housing/train.csv")
    glue.create_database(DatabaseInput={"Name": database})
    frame = pd.read_csv(HOUSING)
    columns = [{"Name": c.lower(), "Type": "bigint" if pd.api.types.is_integer_dtype(t) else "double"}
               for c, t in frame.dtypes.items()]
    create_table(database, "house_prices", columns, f"s3://{bucket}/housing/",
                 {"skip.header.line.count": "1"}, LAZY, {"field.delim": ","})
    return {"bucket": bucket, "database": database, "frame": frame, "output": f"s3://{bucket}/results/"}


def create_table(database, name, columns, location, parameters=None, serde=LAZY, serde_parameters=None,
                 input_format="org.apache.hadoop.mapred.TextInputFormat"):
    client("glue").create_table(DatabaseName=database, TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": parameters or {},
        "StorageDescriptor": {"Columns": columns, "Location": location, "InputFormat": input_format,
                              "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters or {}}}})


def start(catalog, sql, database=None, **extra):
    return client("athena").start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": database or catalog["database"]},
        ResultConfiguration={"OutputLocation": catalog["output"]}, **extra)["QueryExecutionId"]


def execution(query_id):
    return client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"]


def rows(query_id, page_size=None):
    paginator = client("athena").get_paginator("get_query_results")
    config = {"PageSize": page_size} if page_size else {}
    pages = list(paginator.paginate(QueryExecutionId=query_id, PaginationConfig=config))
    values = [[cell.get("VarCharValue") for cell in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]
    return values, pages


def test_aggregate_matches_pandas(catalog):
    query_id = start(catalog, "SELECT chas, count(*) AS n, avg(medv) AS mean_medv FROM house_prices "
                              "GROUP BY chas ORDER BY chas")
    described = execution(query_id)
    assert described["Status"]["State"] == "SUCCEEDED"
    assert described["StatementType"] == "DML"
    assert described["Statistics"]["DataScannedInBytes"] == HOUSING.stat().st_size
    values, pages = rows(query_id)
    assert values[0] == ["chas", "n", "mean_medv"]
    expected = catalog["frame"].groupby("chas")["medv"].agg(["size", "mean"]).reset_index()
    assert [int(r[1]) for r in values[1:]] == expected["size"].tolist()
    assert [float(r[2]) for r in values[1:]] == pytest.approx(expected["mean"].tolist(), rel=1e-12)
    types = [c["Type"] for c in pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    assert types == ["bigint", "bigint", "double"]


def test_results_page_through_next_token(catalog):
    query_id = start(catalog, "SELECT id, medv FROM house_prices WHERE id <= 10 ORDER BY id")
    values, pages = rows(query_id, page_size=4)
    assert [len(p["ResultSet"]["Rows"]) for p in pages] == [4, 4, 3]  # header + 10 rows
    assert [int(r[0]) for r in values[1:]] == list(range(1, 11))
    assert all("ResultSetMetadata" in p["ResultSet"] for p in pages)


def test_result_csv_is_written_to_the_output_location(catalog):
    query_id = start(catalog, "SELECT id, crim FROM house_prices ORDER BY id LIMIT 2")
    location = execution(query_id)["ResultConfiguration"]["OutputLocation"]
    assert location == f"{catalog['output']}{query_id}.csv"
    body = client("s3").get_object(Bucket=catalog["bucket"], Key=f"results/{query_id}.csv")["Body"].read()
    assert body.decode() == '"id","crim"\n"1","0.00632"\n"2","0.02731"\n'


@pytest.mark.parametrize("sql, reason", [
    ("SELECT * FROM no_such_table", "TABLE_NOT_FOUND"),
    ("SELECT no_such_column FROM house_prices", "COLUMN_NOT_FOUND"),
    ("CREATE EXTERNAL TABLE t (a int) PARTITIONED BY (d string) LOCATION 's3://x/y/'", "NOT_SUPPORTED"),
    ("CREATE EXTERNAL TABLE t (a int)", "SYNTAX_ERROR"),  # no LOCATION
    ("INSERT INTO house_prices (id) VALUES (1)", "NOT_SUPPORTED"),
    ("SELECT * FROM read_csv('/etc/hostname')", "GENERIC_USER_ERROR"),  # local files are not tables
])
def test_bad_queries_fail_with_a_reason(catalog, sql, reason):
    query_id = start(catalog, sql)
    status = execution(query_id)["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith(reason)
    assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
    with pytest.raises(ClientError, match="FAILED") as err:
        client("athena").get_query_results(QueryExecutionId=query_id)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"


@pytest.mark.parametrize("sql", ["SELECT medv FROM house_prices WHERE", "SELEC 1", "SELECT (1"])
def test_a_syntax_error_is_refused_at_start_with_no_query_created(catalog, sql):
    """DESIGN.md §10: Athena raises InvalidRequestException from StartQueryExecution itself."""
    athena = client("athena")
    before = athena.list_query_executions()["QueryExecutionIds"]
    with pytest.raises(ClientError) as err:
        start(catalog, sql)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert err.value.response["AthenaErrorCode"] == "MALFORMED_QUERY"
    assert err.value.response["Error"]["Message"].startswith("line 1:")
    assert athena.list_query_executions()["QueryExecutionIds"] == before


def test_unknown_database_fails_the_query(catalog):
    query_id = start(catalog, "SELECT 1 FROM house_prices", database="no_such_database")
    assert execution(query_id)["Status"]["StateChangeReason"].startswith("SCHEMA_NOT_FOUND")


def test_api_errors(catalog):
    athena = client("athena")
    with pytest.raises(ClientError, match="output location") as err:
        athena.start_query_execution(QueryString="SELECT 1")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError, match="was not found"):
        athena.get_query_execution(QueryExecutionId="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ClientError, match="not found"):
        start(catalog, "SELECT 1", WorkGroup="no-such-group")


def test_client_request_token_makes_start_idempotent(catalog):
    token = unique("token-0123456789abcdefghij")  # Athena wants at least 32 characters
    first = start(catalog, "SELECT count(*) FROM house_prices", ClientRequestToken=token)
    again = start(catalog, "SELECT count(*) FROM house_prices", ClientRequestToken=token)
    assert first == again
    assert first in client("athena").list_query_executions()["QueryExecutionIds"]


def test_qualified_names_nulls_and_empty_tables(catalog):
    s3, database = client("s3"), catalog["database"]
    s3.put_object(Bucket=catalog["bucket"], Key="tsv/part-0.tsv", Body=b"a\t1\nb\t\n\t3\n")
    create_table(database, "letters", [{"Name": "letter", "Type": "string"}, {"Name": "n", "Type": "int"}],
                 f"s3://{catalog['bucket']}/tsv/", serde_parameters={"field.delim": "\t"})
    create_table(database, "nothing", [{"Name": "x", "Type": "double"}], f"s3://{catalog['bucket']}/empty/")
    other = unique("other").replace("-", "_")
    client("glue").create_database(DatabaseInput={"Name": other})
    query_id = start(catalog, f"SELECT letter, n FROM {database}.letters ORDER BY n NULLS LAST", database=other)
    values, pages = rows(query_id)
    assert values == [["letter", "n"], ["a", "1"], [None, "3"], ["b", None]]
    assert [c["Type"] for c in pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]] == ["varchar", "integer"]
    assert rows(start(catalog, "SELECT * FROM nothing"))[0] == [["x"]]


def test_parquet_and_quoted_csv_tables(catalog, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    s3, database = client("s3"), catalog["database"]
    buffer = io.BytesIO()
    pq.write_table(pa.table({"name": ["x", "y"], "score": [1.5, 2.5]}), buffer)
    s3.put_object(Bucket=catalog["bucket"], Key="parquet/part-0.parquet", Body=buffer.getvalue())
    create_table(database, "scores", [{"Name": "name", "Type": "string"}, {"Name": "score", "Type": "double"}],
                 f"s3://{catalog['bucket']}/parquet/",
                 serde="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                 input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
    assert rows(start(catalog, "SELECT sum(score) AS total FROM scores"))[0] == [["total"], ["4.0"]]
    s3.put_object(Bucket=catalog["bucket"], Key="quoted/a.csv", Body=b'"Smith, J",7\n"Doe, A",9\n')
    create_table(database, "people", [{"Name": "name", "Type": "string"}, {"Name": "age", "Type": "string"}],
                 f"s3://{catalog['bucket']}/quoted/", serde="org.apache.hadoop.hive.serde2.OpenCSVSerde",
                 serde_parameters={"separatorChar": ",", "quoteChar": '"'})
    assert rows(start(catalog, "SELECT name FROM people ORDER BY name"))[0] == [["name"], ["Doe, A"], ["Smith, J"]]


def test_running_emr_cluster_is_a_leftover_until_terminated():
    emr = client("emr")
    cluster_id = emr.run_job_flow(
        Name=unique("cluster"), ReleaseLabel="emr-7.5.0", Applications=[{"Name": "Spark"}],
        Instances={"InstanceGroups": [{"InstanceRole": "MASTER", "InstanceType": "m5.xlarge", "InstanceCount": 1}],
                   "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="EMR_EC2_DefaultRole", ServiceRole="EMR_DefaultRole")["JobFlowId"]

    def leftovers():
        with urllib.request.urlopen(f"{os.environ['LOCALAWS_ENDPOINT']}/_localaws/leftovers") as answer:
            return json.loads(answer.read()).get("EMR clusters", [])

    assert cluster_id in leftovers()
    emr.terminate_job_flows(JobFlowIds=[cluster_id])
    assert cluster_id not in leftovers()


def test_batch_get_reports_unknown_ids(catalog):
    known = start(catalog, "SELECT 1 AS one")
    unknown = "00000000-0000-0000-0000-000000000000"
    answer = client("athena").batch_get_query_execution(QueryExecutionIds=[known, unknown])
    assert [q["QueryExecutionId"] for q in answer["QueryExecutions"]] == [known]
    assert answer["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == unknown


def test_ddl_creates_and_drops_catalog_entries(catalog):
    """The book's way: CREATE EXTERNAL TABLE typed into Athena, then queried."""
    database = unique("ddl").replace("-", "_")
    glue = client("glue")

    def run(sql):
        query_id = start(catalog, sql)
        assert execution(query_id)["Status"]["State"] == "SUCCEEDED", execution(query_id)["Status"]
        return query_id

    ddl = run(f"CREATE DATABASE IF NOT EXISTS {database}")
    assert execution(ddl)["StatementType"] == "DDL"
    assert execution(ddl)["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    run(f"""CREATE EXTERNAL TABLE {database}.house_prices (
              id bigint, crim double, zn double, indus double, chas bigint, nox double, rm double,
              age double, dis double, rad bigint, tax bigint, ptratio double, black double,
              lstat double, medv decimal(10, 2) COMMENT 'median value, $1000s')
            ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
            STORED AS TEXTFILE
            LOCATION 's3://{catalog['bucket']}/housing/'
            TBLPROPERTIES ('skip.header.line.count'='1')""")
    table = glue.get_table(DatabaseName=database, Name="house_prices")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": ","}
    assert table["StorageDescriptor"]["Columns"][-1] == {"Name": "medv", "Type": "decimal(10,2)",
                                                         "Comment": "median value, $1000s"}
    values, pages = rows(start(catalog, f"SELECT count(*) AS n, max(medv) AS top FROM {database}.house_prices"))
    assert values == [["n", "top"], [str(len(catalog["frame"])), "50.00"]]
    column = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][1]
    assert (column["Type"], column["Precision"], column["Scale"]) == ("decimal", 10, 2)
    failed = start(catalog, f"DROP DATABASE {database}")
    assert "not empty" in execution(failed)["Status"]["StateChangeReason"]
    run(f"DROP TABLE {database}.house_prices")
    run(f"DROP DATABASE {database}")
    assert database not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]


def test_ddl_reads_serdes_parquet_and_comments_through_sqlglot(catalog):
    """DDL is parsed by sqlglot's Athena dialect (issue 20: the regular-expression parser
    could backtrack on hostile input). The Glue entry has the SerDe, its properties, the
    Parquet formats and the comments the statement gave."""
    database = unique("serde").replace("-", "_")
    glue = client("glue")
    for sql in (f"CREATE DATABASE {database} COMMENT 'for the SerDe test'",
                f"""CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.events (
                      id bigint COMMENT 'the key', tags array<string>, price decimal(8, 2))
                    ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
                    WITH SERDEPROPERTIES ('ignore.malformed.json'='true')
                    LOCATION 's3://{catalog['bucket']}/events/'""",
                f"CREATE EXTERNAL TABLE {database}.facts (n int) STORED AS PARQUET LOCATION 's3://{catalog['bucket']}/facts/'"):
        query_id = start(catalog, sql)
        assert execution(query_id)["Status"]["State"] == "SUCCEEDED", execution(query_id)["Status"]
    assert glue.get_database(Name=database)["Database"]["Description"] == "for the SerDe test"
    events = glue.get_table(DatabaseName=database, Name="events")["Table"]["StorageDescriptor"]
    assert events["SerdeInfo"] == {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                                   "Parameters": {"ignore.malformed.json": "true"}}
    assert events["Columns"] == [{"Name": "id", "Type": "bigint", "Comment": "the key"},
                                 {"Name": "tags", "Type": "array<string>"},
                                 {"Name": "price", "Type": "decimal(8,2)"}]
    facts = glue.get_table(DatabaseName=database, Name="facts")["Table"]["StorageDescriptor"]
    assert facts["InputFormat"].endswith("MapredParquetInputFormat")
    failed = start(catalog, f"CREATE EXTERNAL TABLE {database}.facts (n int) LOCATION 's3://{catalog['bucket']}/facts/'")
    assert execution(failed)["Status"]["StateChangeReason"] == "EXECUTION_ERROR: Table facts already exists"
    query_id = start(catalog, f"DROP DATABASE {database} CASCADE")
    assert execution(query_id)["Status"]["State"] == "SUCCEEDED"


@pytest.mark.parametrize("sql", [
    "CREATE EXTERNAL TABLE t (a int LOCATION 's3://x/y/'",                      # unclosed column list
    "CREATE EXTERNAL TABLE t (a " + "array<" * 3000 + "int" + ">" * 3000 + ") LOCATION 's3://x/y/'",
    "CREATE EXTERNAL TABLE t (" + ", ".join(f"c{i} int COMMENT '" + "'" * 2 for i in range(2000)),
])
def test_malformed_ddl_fails_as_a_syntax_error(catalog, sql):
    query_id = start(catalog, sql)
    status = execution(query_id)["Status"]
    assert status["State"] == "FAILED" and status["StateChangeReason"].startswith("SYNTAX_ERROR"), status
