"""The process environment every notebook kernel inherits (make run, make test).

Java for PySpark (tools/java.py), Spark's Python workers in this virtualenv, and the
one-machine Spark settings of tools/spark-conf/ unless SPARK_CONF_DIR is already set.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tools.java import ensure_java_home

SPARK_CONF_DIR = Path(__file__).resolve().parent / "spark-conf"


def prepare_notebook_environment() -> None:
    """Raises tools.java.JavaNotFound (with the fix in its message) when no Java fits."""
    ensure_java_home()
    os.environ["PYSPARK_PYTHON"] = sys.executable  # Spark workers use this virtualenv
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("SPARK_CONF_DIR", str(SPARK_CONF_DIR))
