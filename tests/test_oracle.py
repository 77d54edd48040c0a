"""The oracle suite: every KPI type, at every grain, with and without --by, --where, date
bounds and platform filters, on DuckDB, SQLite, PostgreSQL and Spark; each answer equal
to the one plain Python computes from the same rows (tests/oracle/model.py)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from tests.engines import ENGINES, EngineUnderTest, canonical_table, engine_under_test
from tests.oracle import data, model

HERE = Path(__file__).parent
DATA = data.build()
GRAINS = (None, "day", "week", "month", "quarter", "year")
ORDER = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Variant:
    id: str
    by: tuple[str, ...] = ()
    where_sql: str | None = None
    where: Any = None
    start: dt.date | None = None
    end: dt.date | None = None
    platforms: tuple[str, ...] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


VARIANTS = (
    Variant("plain"),
    Variant("by-platform", by=("platform",)),
    Variant("by-account", by=("account_id",)),
    Variant("by-platform-post-type", by=("platform", "post_type")),
    Variant("where", where_sql="platform = 'alpha'", where=lambda r: r["platform"] == "alpha"),
    Variant("bounds", start=dt.date(2024, 1, 17), end=dt.date(2024, 3, 9)),
    Variant("from-only", start=dt.date(2024, 2, 6)),
    Variant("to-only", end=dt.date(2024, 2, 29)),
    Variant("platform-beta", platforms=("beta",)),
    Variant("combined", by=("platform",), start=dt.date(2024, 1, 10), end=dt.date(2024, 3, 20),
            where_sql="platform IN ('alpha', 'beta') AND NOT platform = 'zeta'",
            where=lambda r: r["platform"] in ("alpha", "beta")),
)


def applicable(grain: str | None, by: tuple[str, ...]) -> tuple[str, ...]:
    """The catalog's KPIs this query shape can compute."""
    names = []
    for name, kpi in model.KPIS.items():
        if grain is None and model.has_change(name):
            continue
        if isinstance(kpi, model.Cumulative) and kpi.grain_to_date and (
            grain is not None and ORDER.index(grain) > ORDER.index(kpi.grain_to_date)
        ):
            continue
        if any(isinstance(model.KPIS[leaf], model.Cumulative) for leaf in model.refs(kpi)) \
                and isinstance(kpi, model.Change):
            inner = model.KPIS[kpi.of]
            assert isinstance(inner, model.Cumulative)
            if inner.grain_to_date and grain and ORDER.index(grain) > ORDER.index(
                    inner.grain_to_date):
                continue
        sources = {model.KPIS[leaf].source for leaf in model.leaves(name)}  # type: ignore[union-attr]
        if any(d not in model.DIMS[s] for s in sources for d in by):
            continue
        names.append(name)
    return tuple(names)


def canonical_tables(platform_rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {source: canonical_table(source, rows) for source, rows in platform_rows.items()}


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=getattr(pytest.mark, name)) if name in ("postgres", "spark")
    else name for name in ENGINES])
def engine(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> EngineUnderTest:
    under_test = engine_under_test(request.param, request, tmp_path_factory)
    for platform, tables in DATA.items():
        under_test.load(platform, canonical_tables(tables))
    return under_test


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return load_catalog(HERE / "oracle" / "catalog.yaml", project=tmp_path,
                        plugins=["testplatforms"])


def assert_same(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected), (len(actual), len(expected))
    for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert list(got) == list(want), f"row {index}: columns differ"
        for key, value in want.items():
            other = got[key]
            if isinstance(value, float) or isinstance(other, float):
                ok = value is not None and other is not None and math.isclose(
                    float(other), float(value), rel_tol=1e-9, abs_tol=1e-9)
                assert ok, f"row {index} {key}: got {other!r}, expected {value!r}\n{want}"
            else:
                assert other == value, f"row {index} {key}: got {other!r}, expected {value!r}" \
                                       f"\n{want}"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
@pytest.mark.parametrize("grain", GRAINS, ids=lambda g: g or "no-grain")
def test_engine_matches_oracle(engine: EngineUnderTest, catalog: Catalog, grain: str | None,
                               variant: Variant) -> None:
    kpis = applicable(grain, variant.by)
    rows = catalog.query(kpis, grain=grain, by=variant.by, where=variant.where_sql,
                         start=variant.start, end=variant.end, platforms=variant.platforms,
                         engine=engine.url)
    want = model.expected(DATA, model.Request(
        kpis=kpis, grain=grain, by=variant.by, where_sql=variant.where_sql,
        where=variant.where, start=variant.start, end=variant.end,
        platforms=variant.platforms))
    assert_same(list(rows), want)


def test_fixture_has_the_edges_the_suite_needs() -> None:
    """The rows really contain what the docstring of tests/oracle/data.py promises."""
    alpha, beta = DATA["alpha"], DATA["beta"]
    assert any(r["impressions"] == 0 for r in alpha["post_daily"])
    assert any(r["likes"] is None for r in alpha["post_daily"] + beta["post_daily"])
    assert any(r["followers"] is None for r in alpha["account_daily"])
    assert all(r["reach"] is None for r in beta["post_daily"])
    days = {r["date"] for r in alpha["post_daily"] + beta["post_daily"]}
    assert not days & data.QUIET
    assert any(r["published_at"].time() >= dt.time(23, 0) for r in alpha["posts"])
    assert min(days) < dt.date(2024, 1, 1)


ALONE_SHAPES = (
    ("month", VARIANTS[1]),  # by platform
    (None, VARIANTS[0]),
    ("week", VARIANTS[-1]),  # combined: by, bounds, where
)


@pytest.mark.parametrize("shape", range(len(ALONE_SHAPES)), ids=lambda i: str(i))
def test_each_kpi_alone_matches_oracle(engine: EngineUnderTest, catalog: Catalog,
                                       shape: int) -> None:
    """A KPI queried without any other beside it: the range, keys and scans come from its
    own sources (a ratio with average_over once answered no rows on its own)."""
    grain, variant = ALONE_SHAPES[shape]
    names = applicable(grain, variant.by)
    if engine.name == "spark":
        # a Spark query costs ~0.3 s: each KPI alone once there, in one of the shapes (the
        # SQL is the other engines' compiled again; Spark's own numbers are checked above)
        names = names[shape::len(ALONE_SHAPES)]
    for name in names:
        rows = catalog.query([name], grain=grain, by=variant.by, where=variant.where_sql,
                             start=variant.start, end=variant.end, engine=engine.url)
        want = model.expected(DATA, model.Request(
            kpis=(name,), grain=grain, by=variant.by, where_sql=variant.where_sql,
            where=variant.where, start=variant.start, end=variant.end))
        try:
            assert_same(list(rows), want)
        except AssertionError as error:
            raise AssertionError(f"{name} alone, {grain}, {variant.id}: {error}") from None
