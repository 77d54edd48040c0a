"""Terminal tables, CSV and JSON for query results and listings.

Hand-written rather than a dependency: aligned columns, numbers right-aligned with
thousands separators, NULL as a dash, is all a KPI table needs, and it costs nothing at
start-up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

NULL = "–"


def cell(value: Any, decimals: int | None = None) -> str:
    """One value as text; floats with `decimals` places (default: by their size)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and decimals is None:
        return f"{value:,}"
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        if math.isnan(number):
            return NULL
        if decimals is None:
            if number.is_integer() and abs(number) < 1e15:
                return f"{int(number):,}"
            decimals = 2 if abs(number) >= 1 else 4
        return f"{number:,.{decimals}f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _decimals(values: Sequence[Any]) -> int | None:
    """One number of decimal places for a whole column, so a rate column does not read
    20 beside 22.83: none when every value is whole, else 2 (4 when all are below 1)."""
    numbers = [
        float(v)
        for v in values
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
        and not math.isnan(float(v))
    ]
    if all(n.is_integer() for n in numbers):
        return None
    return 2 if any(abs(n) >= 1 for n in numbers) else 4


def _numeric(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in present
    )


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None,
          headers: dict[str, str] | None = None,
          styles: Mapping[str, Callable[[str], str]] | None = None) -> str:
    """An aligned table. `styles` maps a column to a function that dresses its cells'
    text (colour, say), applied after alignment so escape codes do not shift columns."""
    headers = headers or {}
    styles = styles or {}
    head = [headers.get(c, c) for c in columns]
    places = {c: _decimals([row.get(c) for row in rows]) for c in columns}
    body = [[cell(row.get(c), places[c]) for c in columns] for row in rows]
    right = [_numeric([row.get(c) for row in rows]) for c in columns]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(head)]

    def line(values: Sequence[str], dressed: bool = False) -> str:
        parts = []
        for name, v, w, r in zip(columns, values, widths, right, strict=True):
            text = v.rjust(w) if r else v.ljust(w)
            style = styles.get(name) if dressed and v != NULL else None
            parts.append(text.replace(v, style(v), 1) if style else text)
        return "  ".join(parts).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(head))
    out.append("  ".join("─" * w for w in widths))
    out.extend(line(r, dressed=True) for r in body)
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def to_json(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    return json.dumps(
        [{c: _json_value(row.get(c)) for c in columns} for row in rows], indent=2
    )


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = []
        for c in columns:
            value = _json_value(row.get(c))
            values.append("" if value is None else value)
        writer.writerow(values)
    return buffer.getvalue()
