"""`agg: last` takes one value per entity: two snapshot rows of one account at the same
latest time are not added up (followers 3 and 5 on one day once counted as 8). Of rows
tied at the latest time, the largest value counts, on every engine. Expected values are
computed in plain Python from the same rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from kpiframe.testing import canonical_columns
from tests.engines import ENGINES, engine_under_test

KPIS = """\
kpis:
  - name: followers
    type: simple
    source: account_daily
    agg: last
    expr: followers
"""

D1, D2, D3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 4, 1)
ROWS: dict[str, list[tuple[str, dt.date, int | None]]] = {
    "alpha": [("a", D1, 10), ("a", D2, 3), ("a", D2, 5), ("b", D1, 7), ("b", D2, None),
              ("a", D3, 4), ("a", D3, 4)],
    "beta": [("a", D2, 100), ("a", D2, 100), ("c", D3, 1)],
}


def expected(grain: str | None, by_platform: bool) -> list[dict[str, Any]]:
    def period(day: dt.date) -> dt.date | None:
        return day.replace(day=1) if grain == "month" else None

    latest: dict[tuple[Any, ...], tuple[dt.date, int]] = {}
    for platform, rows in ROWS.items():
        for account, day, value in rows:
            if value is None:
                continue
            key = (period(day), platform, account)
            if key not in latest or (day, value) > latest[key]:
                latest[key] = (day, value)
    totals: dict[tuple[Any, ...], int] = {}
    for (when, platform, _), (_, value) in latest.items():
        cell = (when, platform if by_platform else None)
        totals[cell] = totals.get(cell, 0) + value
    out = []
    for (when, platform), value in sorted(totals.items(), key=lambda kv: str(kv[0])):
        row: dict[str, Any] = {}
        if grain:
            row["period"] = when
        if by_platform:
            row["platform"] = platform
        row["followers"] = value
        out.append(row)
    return out


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=getattr(pytest.mark, name)) if name in ("postgres", "spark")
    else name for name in ENGINES])
def engine_url(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> str:
    engine = engine_under_test(request.param, request, tmp_path_factory)
    columns = canonical_columns("account_daily")
    for platform, rows in ROWS.items():
        table = []
        for account, day, value in rows:
            row = dict.fromkeys(n for n, _ in columns)
            row.update(account_id=account, date=day, followers=value)
            table.append([row[n] for n, _ in columns])
        engine.load(f"snap_{platform}", {"account_daily": (columns, table)})
    return engine.url


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    (tmp_path / "kpis.yaml").write_text(KPIS)
    (tmp_path / "kpiframe.yaml").write_text(
        "plugins: [testplatforms]\n"
        "platforms:\n  alpha: {schema: snap_alpha}\n  beta: {schema: snap_beta}\n")
    return load_catalog(tmp_path / "kpis.yaml", project=tmp_path)


@pytest.mark.parametrize("grain", [None, "month"])
@pytest.mark.parametrize("by_platform", [False, True])
def test_one_value_per_entity_even_with_tied_snapshots(engine_url: str, catalog: Catalog,
                                                       grain: str | None,
                                                       by_platform: bool) -> None:
    rows = catalog.query(["followers"], grain=grain, by=["platform"] if by_platform else [],
                         engine=engine_url)
    assert list(rows) == expected(grain, by_platform)
