"""Execute a compiled request on an engine and hand back rows every engine agrees on.

Engines return dates as text (SQLite), decimals (PostgreSQL sums) or 0/1 for booleans;
the compiler knows each output column's type, so values are normalised here once and
every engine's rows compare equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kpiframe.columns import discovering
from kpiframe.platform import Connection, Engine
from kpiframe.problems import KpiframeError, Problem, did_you_mean

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.compiler import Compiled, Request


class Rows(list[dict[str, Any]]):
    """Query results: a list of dicts, convertible to a DataFrame when pandas or polars
    is installed."""

    columns: list[str]
    #: what the answer should be read with: a missing column read as NULL, say
    warnings: list[Problem]

    def __init__(self, rows: list[dict[str, Any]], columns: list[str],
                 warnings: list[Problem] | None = None) -> None:
        super().__init__(rows)
        self.columns = columns
        self.warnings = list(warnings or ())

    def to_pandas(self) -> Any:
        import pandas  # type: ignore[import-untyped, import-not-found, unused-ignore]

        return pandas.DataFrame(list(self), columns=self.columns)

    def to_polars(self) -> Any:
        import polars  # type: ignore[import-not-found, unused-ignore]

        return polars.DataFrame(list(self), schema=self.columns, orient="row")

    def df(self) -> Any:
        """A pandas DataFrame, or a polars one when only polars is installed."""
        try:
            return self.to_pandas()
        except ImportError:
            return self.to_polars()


def engine_for(catalog: Catalog, url: str) -> Engine:
    return engine_in(catalog.registry.engines, url)


def engine_in(engines: Mapping[str, Engine], url: str) -> Engine:
    """The engine registered for `url`'s scheme, or an error naming the ones there are."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in engines:
        raise KpiframeError(Problem(
            "unknown-engine", f"no engine for URLs starting '{scheme}:'",
            hint=did_you_mean(scheme, engines)
            or "engines: " + ", ".join(f"{s}://" for s in sorted(engines))))
    return engines[scheme]


def connect(catalog: Catalog, url: str) -> tuple[Engine, Connection]:
    engine = engine_for(catalog, url)
    return engine, open_with(engine, url)


def open_with(engine: Engine, url: str) -> Connection:
    """`engine.connect(url)`, its failures as problems: a missing package, or the
    engine's own first line."""
    try:
        return engine.connect(url)
    except ImportError as exc:
        raise KpiframeError(Problem(
            "engine-missing", f"the {engine.label or engine.scheme} engine needs a package "
            f"that is not installed ({exc.name or exc})",
            hint=f"pip install '{engine.requires}'" if engine.requires else None)) from None
    except KpiframeError:
        raise
    except Exception as exc:
        raise KpiframeError(Problem(
            "engine-connect", f"cannot connect to {url}: {_first_line(exc)}",
            hint="check the engine URL (--engine, KPIFRAME_ENGINE or `engine:` in "
            "kpiframe.yaml)")) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def execute(engine: Engine, con: Connection, sql: str) -> Any:
    """Run one statement. Missing tables and columns were found before it ran (see
    kpiframe.columns), so an engine message is passed on as it is, without a guessed
    hint: matching its words named the wrong cause."""
    try:
        return con.execute(sql)
    except KpiframeError:
        raise
    except Exception as exc:
        raise KpiframeError(Problem(
            "engine-error", f"{engine.label or engine.scheme} could not run the query: "
            f"{_first_line(exc)}")) from None


def normalise(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            return dt.date.fromisoformat(value[:10])
        return value
    if kind == "boolean":
        return bool(value)
    if kind == "decimal" and isinstance(value, float):
        # an engine without exact decimals summed floats: 0.31000000000000005 is 0.31
        return round(value, 10)
    if kind in ("number", "integer", "decimal"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value
    return value


def check_spine(engine: Engine, con: Connection, compiled: Compiled,
                rows: Sequence[Sequence[Any]]) -> None:
    """The date spine holds a fixed number of periods when the data decides the range. One
    row dated 0001-01-01 made a monthly query show 10,000 empty months and none of the real
    ones. When the answer comes near that many periods, ask the data for its range, and
    refuse an answer the spine could not cover."""
    cap, grain = compiled.spine_cap, compiled.request.grain
    if cap is None or grain is None:
        return
    periods = {row[0] for row in rows}
    if len(periods) < cap * 0.8:
        return
    (found,) = execute(engine, con, compiled.bounds_probe()).rows
    lo = compiled.known_bounds.get("spine_lo") or normalise(found[0], "date")
    hi = compiled.known_bounds.get("hi") or normalise(found[1], "date")
    from kpiframe.compiler.dates import py_shift

    try:
        covered = lo is None or hi is None or py_shift(lo, cap - 1, grain) >= hi
    except OverflowError:  # past year 9999: the spine reaches further than any date
        covered = True
    if covered:
        return
    raise KpiframeError(Problem(
        "range-too-long",
        f"the data runs from {lo} to {hi}, more than {cap:,} {grain}s: kpiframe will not "
        "answer with the latest periods left out",
        hint="pass --from (and --to) to query a range, or find the rows dated far in the "
        f"past or future (the earliest is in the {grain} starting {lo})"))


def run(catalog: Catalog, request: Request, url: str,
        connection: tuple[Engine, Connection] | None = None) -> Rows:
    """Run on the engine at `url`, or on an open (engine, connection) left open after.
    (kpiframe.targets, a later stage, adds success indicators to the rows.)"""
    from kpiframe.compiler import compile_query

    engine, con = connection or connect(catalog, url)
    try:
        label = engine.label or engine.scheme
        with discovering(catalog, request, con, label) as found:
            compiled = compile_query(catalog.resolved, request, engine.dialect)
        if found.errors:
            raise KpiframeError(found.errors)
        result = execute(engine, con, compiled.sql())
        if compiled.spine_cap is not None:
            check_spine(engine, con, compiled, result.rows)
    finally:
        if connection is None:
            con.close()
    names = [n for n, _ in compiled.columns]
    kinds = [k for _, k in compiled.columns]
    rows = [{n: normalise(v, k) for n, v, k in zip(names, row, kinds, strict=True)}
            for row in result.rows]
    return Rows(rows, names, found.warnings)
