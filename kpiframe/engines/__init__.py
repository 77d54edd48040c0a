"""The built-in engines, registered as a plugin like any third-party engine would be.

Each connector imports its driver only when a connection is opened, so listing engines
(and starting the CLI) costs nothing.
"""

from __future__ import annotations

from kpiframe.hookspecs import hookimpl
from kpiframe.platform import Connection, Engine


def _duckdb(url: str) -> Connection:
    from kpiframe.engines.duckdb import DuckDBConnection

    # an engine connection reads, so the database must exist: never create one
    return DuckDBConnection(url, missing_ok=False)


def _sqlite(url: str) -> Connection:
    from kpiframe.engines.sqlite import SQLiteConnection

    return SQLiteConnection(url, missing_ok=False)


def _postgres(url: str) -> Connection:
    from kpiframe.engines.postgres import PostgresConnection

    return PostgresConnection(url)


def _spark(url: str) -> Connection:
    from kpiframe.engines.spark import SparkConnection

    return SparkConnection(url)


def _spark_connect(url: str) -> Connection:
    from kpiframe.engines.spark import SparkConnectConnection

    return SparkConnectConnection(url)


@hookimpl
def kpiframe_engines() -> list[Engine]:
    return [
        Engine("duckdb", "duckdb", _duckdb, "DuckDB (embedded)", requires="duckdb"),
        Engine("sqlite", "sqlite", _sqlite, "SQLite", requires=None),
        Engine("postgresql", "postgres", _postgres, "PostgreSQL", requires="psycopg[binary]"),
        Engine("postgres", "postgres", _postgres, "PostgreSQL", requires="psycopg[binary]"),
        Engine("spark", "spark", _spark, "Apache Spark", requires="pyspark"),
        Engine("sc", "spark", _spark_connect, "Spark Connect", requires="pyspark[connect]"),
    ]
