"""A third-party engine: `alias:///path` opens the DuckDB file at path, and counts how
often it was asked, so tests can see their queries went through it."""

from __future__ import annotations

from kpiframe import hookimpl
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.platform import Connection, Engine

CONNECTIONS: list[str] = []


def _connect(url: str) -> Connection:
    CONNECTIONS.append(url)
    return DuckDBConnection("duckdb" + url[len("alias"):])


@hookimpl
def kpiframe_engines() -> list[Engine]:
    return [Engine("alias", "duckdb", _connect, "DuckDB under another name")]
