"""A date spine too short for the data is refused, never a quiet answer without its latest
periods: one stray row dated 0001-01-01 once made a monthly query show 10,000 empty months
and none of the real ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from kpiframe.problems import KpiframeError
from kpiframe.testing import canonical_columns
from tests.engines import engine_under_test

KPIS = """\
kpis:
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
"""

ROWS = [("old", dt.date(1, 1, 1), 7), ("a", dt.date(2025, 1, 5), 10),
        ("b", dt.date(2025, 3, 7), 4)]


@pytest.fixture(params=["duckdb", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    engine = engine_under_test(request.param, request, tmp_path_factory)
    columns = canonical_columns("post_daily")
    names = [n for n, _ in columns]
    table = []
    for post_id, day, likes in ROWS:
        row = dict.fromkeys(names)
        row.update(post_id=post_id, date=day, likes=likes)
        table.append([row[n] for n in names])
    engine.load("alpha", {"post_daily": (columns, table)})
    engine.load("beta", {"post_daily": (columns, [])})
    return engine.url


def _catalog(tmp_path: Path) -> Catalog:
    (tmp_path / "kpis.yaml").write_text(KPIS)
    return load_catalog(tmp_path / "kpis.yaml", project=tmp_path, plugins=["testplatforms"])


def test_a_range_longer_than_the_spine_is_refused(engine_url: str, tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    with pytest.raises(KpiframeError) as caught:
        catalog.query(["likes"], grain="month", engine=engine_url)
    (problem,) = caught.value.problems
    assert problem.rule == "range-too-long"
    assert "0001-01-01" in problem.message and "--from" in (problem.hint or "")


def test_the_same_data_answers_within_bounds(engine_url: str, tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    rows = catalog.query(["likes"], grain="month", start="2025-01-01", engine=engine_url)
    expected: dict[dt.date, int | None] = {dt.date(2025, m, 1): None for m in (1, 2, 3)}
    for _, day, likes in ROWS:
        if day >= dt.date(2025, 1, 1):
            key = day.replace(day=1)
            expected[key] = (expected[key] or 0) + likes
    assert {r["period"]: r["likes"] for r in rows} == expected
    # --to alone still lets the data decide where the range starts: still refused
    with pytest.raises(KpiframeError):
        catalog.query(["likes"], grain="year", end="2025-12-31", engine=engine_url)
