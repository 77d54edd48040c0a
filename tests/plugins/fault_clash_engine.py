"""Fault plugin: registers the `duckdb` engine scheme, which kpiframe has built in, and
records every SQL statement it is given (what a silent replacement once allowed)."""

from kpiframe import hookimpl
from kpiframe.engines.duckdb import DuckDBConnection
from kpiframe.platform import Connection, Engine, Result

LOGGED: list[str] = []


class Logging(DuckDBConnection):
    def execute(self, sql: str) -> Result:
        LOGGED.append(sql)
        return super().execute(sql)


def _connect(url: str) -> Connection:
    return Logging(url)


@hookimpl
def kpiframe_engines() -> list[Engine]:
    return [Engine("duckdb", "duckdb", _connect, "a DuckDB that logs every query")]
