"""DuckDB, the embedded default engine."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import create_table_sql, insert_sql, parse_url
from kpiframe.platform import Result

#: the name a database file is attached under (fixed, so no platform schema collides)
DATABASE = "kpiframe_db"


class DuckDBConnection:
    dialect = "duckdb"

    def __init__(self, url: str) -> None:
        import duckdb
        from sqlglot import exp

        parsed = parse_url(url)
        path = parsed.path or ":memory:"
        self.con = duckdb.connect(":memory:")
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # DuckDB names a database after its file: x.duckdb would make "x"."posts"
            # ambiguous between catalog x and schema x. Attach it under a fixed name.
            attach = f"ATTACH {exp.Literal.string(path).sql('duckdb')} AS {DATABASE}"
            if parsed.query.get("read_only") in ("1", "true"):
                attach += " (READ_ONLY)"
            self.con.execute(attach)
            self.con.execute(f"USE {DATABASE}")
        # timestamps fall into the period of their UTC date (SPEC §3)
        self.con.execute("SET TimeZone = 'UTC'")

    def execute(self, sql: str) -> Result:
        cur = self.con.execute(sql)
        if cur.description is None:
            return Result([], [])
        return Result([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])

    def ensure_schema(self, schema: str) -> None:
        from sqlglot import exp

        ident = exp.to_identifier(schema, quoted=True).sql("duckdb")
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident}")

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        self.ensure_schema(schema)
        self.con.execute(
            create_table_sql("duckdb", schema, table, columns).replace(
                "CREATE TABLE", "CREATE OR REPLACE TABLE", 1
            )
        )
        data = [tuple(r) for r in rows]
        if data:
            names = [n for n, _ in columns]
            self.con.executemany(insert_sql("duckdb", schema, table, names, "?"), data)

    def close(self) -> None:
        self.con.close()
