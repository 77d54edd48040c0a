"""Calendar arithmetic as sqlglot expressions that run on every engine.

sqlglot prints `DATE_TRUNC` for SQLite, which has none, and SQLite's month arithmetic
normalises Jan 31 + 1 month to Mar 2. So the few calendar operations kpiframe needs are
named here once; how each engine spells them is its dialect adapter's business
(compiler/adapters.py), and the test suite executes them on every engine it starts.
Everything returns a DATE (text `YYYY-MM-DD` on SQLite).
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from kpiframe.compiler.adapters import adapter

GRAINS = ("day", "week", "month", "quarter", "year")

#: a grain as (unit, count) of the two units every engine can add: days and months
STEP = {
    "day": ("DAY", 1),
    "week": ("DAY", 7),
    "month": ("MONTH", 1),
    "quarter": ("MONTH", 3),
    "year": ("MONTH", 12),
}


def _int(value: int | exp.Expr) -> exp.Expr:
    return exp.Literal.number(value) if isinstance(value, int) else value


def to_date(value: exp.Expr, dialect: str) -> exp.Expr:
    """A date or timestamp (UTC) as a DATE."""
    return adapter(dialect).to_date(value)


def literal(day: dt.date, dialect: str) -> exp.Expr:
    return adapter(dialect).date_literal(day.isoformat())


def trunc(day: exp.Expr, grain: str, dialect: str) -> exp.Expr:
    """The first day of the period containing `day` (weeks start on Monday, ISO)."""
    if grain == "day":
        return day
    return adapter(dialect).trunc(day, grain)


def add(day: exp.Expr, n: int | exp.Expr, unit: str, dialect: str) -> exp.Expr:
    """`day` plus n DAYs or MONTHs; months clamp to the month's end (Mar 31 - 1 month = Feb 29)."""
    return adapter(dialect).add(day, _int(n), unit.upper())


def shift(day: exp.Expr, periods: int, grain: str, dialect: str) -> exp.Expr:
    """`day` moved by a whole number of periods of `grain` (negative: back)."""
    if periods == 0:
        return day
    unit, size = STEP[grain]
    return add(day, periods * size, unit, dialect)


def period_end(start: exp.Expr, grain: str, dialect: str) -> exp.Expr:
    """The last day of the period that starts on `start`."""
    if grain == "day":
        return start
    return add(shift(start, 1, grain, dialect), -1, "DAY", dialect)


def py_trunc(day: dt.date, grain: str) -> dt.date:
    """The same truncation in Python, for bounds known at compile time."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def py_add(day: dt.date, n: int, unit: str) -> dt.date:
    if unit.upper() == "DAY":
        return day + dt.timedelta(days=n)
    months = day.year * 12 + day.month - 1 + n
    year, month = divmod(months, 12)
    month += 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def py_shift(day: dt.date, periods: int, grain: str) -> dt.date:
    unit, size = STEP[grain]
    return py_add(day, periods * size, unit)
