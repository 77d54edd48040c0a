"""SQLite. It has no schemas, so a schema is an attached database: `<schema>.db` in the
main database's folder (in memory when the main database is)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import create_table_sql, drop_table_sql, insert_sql, parse_url
from kpiframe.platform import Result


class SQLiteConnection:
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        parsed = parse_url(url)
        self.path = parsed.path
        self.con = sqlite3.connect(self.path or ":memory:", isolation_level=None)
        self.attached: set[str] = {"main", "temp"}
        if self.path:
            folder = os.path.dirname(os.path.abspath(self.path))
            for name in sorted(os.listdir(folder)):
                stem, ext = os.path.splitext(name)
                full = os.path.join(folder, name)
                if ext == ".db" and full != os.path.abspath(self.path):
                    self.attach(stem)

    def ensure_schema(self, schema: str) -> None:
        self.attach(schema)

    def attach(self, schema: str) -> None:
        if schema in self.attached:
            return
        if self.path:
            target = os.path.join(os.path.dirname(os.path.abspath(self.path)), f"{schema}.db")
        else:
            target = ":memory:"
        self.con.execute("ATTACH DATABASE ? AS " + _quote(schema), (target,))
        self.attached.add(schema)

    def execute(self, sql: str) -> Result:
        cur = self.con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        return Result(columns, [tuple(r) for r in cur.fetchall()])

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        self.attach(schema)
        self.con.execute(drop_table_sql("sqlite", schema, table))
        self.con.execute(create_table_sql("sqlite", schema, table, columns))
        names = [n for n, _ in columns]
        kinds = [k for _, k in columns]
        data = [tuple(_value(v, k) for v, k in zip(r, kinds, strict=True)) for r in rows]
        if data:
            self.con.executemany(insert_sql("sqlite", schema, table, names, "?"), data)

    def close(self) -> None:
        self.con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(value: Any, kind: str) -> Any:
    """Dates and timestamps as ISO text, the form SQLite's date functions read."""
    if value is None:
        return None
    if kind == "date":
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind == "timestamp":
        if hasattr(value, "isoformat"):
            if getattr(value, "tzinfo", None) is not None:
                from datetime import timezone

                value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value.isoformat(sep=" ")
        return str(value)
    if kind == "boolean":
        return int(bool(value))
    return value
