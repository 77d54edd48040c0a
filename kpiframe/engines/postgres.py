"""PostgreSQL through psycopg 3.

A connection reads: its transactions are read-only (`default_transaction_read_only`)
until kpiframe itself writes (`create_table`, `ensure_schema`, `drop_schema`: test
fixtures), a second line of defence behind the checks on every generated statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import create_table_sql, drop_table_sql, insert_sql
from kpiframe.platform import Result


class PostgresConnection:
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        import psycopg

        conninfo = url.replace("postgres://", "postgresql://", 1)
        self.con = psycopg.connect(conninfo, autocommit=True)
        self.con.execute("SET TIME ZONE 'UTC'")
        self.con.execute("SET default_transaction_read_only = on")
        self.writing = False

    def _for_writing(self) -> None:
        if not self.writing:
            self.con.execute("SET default_transaction_read_only = off")
            self.writing = True

    def execute(self, sql: str) -> Result:
        cur = self.con.execute(sql)
        if cur.description is None:  # a statement without rows (CREATE, DROP...)
            return Result([], [])
        return Result([d.name for d in cur.description], [tuple(r) for r in cur.fetchall()])

    def ensure_schema(self, schema: str) -> None:
        from psycopg import sql

        self._for_writing()
        self.con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))

    def drop_schema(self, schema: str) -> None:
        """Remove a schema kpiframe made (a KPI test's), with its tables."""
        from psycopg import sql

        self._for_writing()
        self.con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        self.ensure_schema(schema)
        self.con.execute(drop_table_sql("postgres", schema, table))
        self.con.execute(create_table_sql("postgres", schema, table, columns))
        data = [tuple(r) for r in rows]
        if data:
            names = [n for n, _ in columns]
            with self.con.cursor() as cur:
                cur.executemany(insert_sql("postgres", schema, table, names, "%s"), data)

    def close(self) -> None:
        self.con.close()

    def columns(self, schema: str, table: str) -> frozenset[str] | None:
        """The columns of `schema.table` from information_schema (views included), None
        when there is no such table: checked before a query runs."""
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s", (schema, table)).fetchall()
        return frozenset(str(r[0]) for r in rows) if rows else None
