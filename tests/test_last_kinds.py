"""`agg: last` over every kind of value and time the dialect adapters order differently.

DuckDB packs a whole-number value and its time into one INT128 (days or microseconds
since 1970, times 2^64, plus the value); PostgreSQL takes MAX(ARRAY[time, value]) for
whole and exact decimal values; every other value keeps the (time, value) pair or the
window. Each path must give the value at the latest time, the largest of rows tied at
that time, negative values included, at microsecond resolution. Expected values are
computed in plain Python from the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from tests.engines import ENGINES, canonical_table, engine_under_test

KPIS = """\
kpis:
  - name: net_followers
    type: simple
    source: account_daily
    agg: last
    expr: followers_gained - followers_lost
  - name: followers_scaled
    type: simple
    source: account_daily
    agg: last
    expr: followers * 1.5
  - name: followers_halved
    type: simple
    source: account_daily
    agg: last
    expr: followers / 2
  - name: post_likes
    type: simple
    source: posts
    agg: last
    expr: likes
  - name: mention_score
    type: simple
    source: mentions
    agg: last
    expr: sentiment_score
"""

D1, D2, D3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 4, 1)
T1 = dt.datetime(2025, 3, 1, 12, 0, 0)
T2 = dt.datetime(2025, 3, 1, 12, 0, 0, 1)  # one microsecond later
T3 = dt.datetime(2025, 4, 2, 8, 30)

#: account_daily: (account, day, followers, gained, lost), per platform
ACCOUNTS: dict[str, list[tuple[str, dt.date, int | None, int | None, int | None]]] = {
    "alpha": [("a", D1, 10, 5, 1), ("a", D2, 3, 1, 4), ("a", D2, 5, 2, 7), ("b", D1, 7, 0, 0),
              ("b", D2, None, None, None), ("a", D3, -4, 2, 9), ("a", D3, -6, 3, 3)],
    "beta": [("a", D2, 2**40, 2**40, 0), ("a", D2, 2**40 + 1, 2**40, 1), ("c", D3, 1, 1, 1)],
}
#: posts: (post, published_at, likes); mentions: (mention, mentioned_at, score)
POSTS: dict[str, list[tuple[str, dt.datetime, int | None]]] = {
    "alpha": [("p", T1, 9), ("p", T2, 2), ("p", T2, 3), ("q", T1, -1), ("q", T1, -8),
              ("r", T3, 4)],
    "beta": [("p", T2, 11), ("p", T1, 12), ("s", T3, None)],
}
MENTIONS: dict[str, list[tuple[str, dt.datetime, Decimal | None]]] = {
    "alpha": [("m", T1, Decimal("0.75")), ("m", T2, Decimal("-0.25")),
              ("m", T2, Decimal("-0.5")), ("n", T3, Decimal("0.1")),
              ("k", T1, Decimal("0.3")), ("k", T1, Decimal("0.31")), ("o", T3, None)],
}  # the test platform beta has no mentions

Row = tuple[str, dt.date | dt.datetime, Any]


def _accounts(value: Callable[[int | None, int | None, int | None], Any]) -> dict[str, list[Row]]:
    return {p: [(a, d, value(f, g, lo)) for a, d, f, g, lo in rows]
            for p, rows in ACCOUNTS.items()}


def _net(f: int | None, g: int | None, lo: int | None) -> int | None:
    return None if g is None or lo is None else g - lo


def _scaled(f: int | None, g: int | None, lo: int | None) -> Decimal | None:
    return None if f is None else f * Decimal("1.5")


def _halved(f: int | None, g: int | None, lo: int | None) -> float | None:
    return None if f is None else f / 2


#: each KPI's rows as (entity, time, value) per platform, the values as the KPI computes them
SERIES: dict[str, dict[str, list[Row]]] = {
    "net_followers": _accounts(_net),
    "followers_scaled": _accounts(_scaled),
    "followers_halved": _accounts(_halved),
    "post_likes": {p: list(rows) for p, rows in POSTS.items()},
    "mention_score": {p: list(rows) for p, rows in MENTIONS.items()},
}


def expected(kpi: str, grain: str | None, by_platform: bool) -> list[dict[str, Any]]:
    def period(when: dt.date | dt.datetime) -> dt.date | None:
        day = when.date() if isinstance(when, dt.datetime) else when
        return day.replace(day=1) if grain == "month" else None

    latest: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    for platform, rows in SERIES[kpi].items():
        for entity, when, value in rows:
            if value is None:
                continue
            key = (period(when), platform, entity)
            if key not in latest or (when, value) > latest[key]:
                latest[key] = (when, value)
    # the answer's rows: every period with data (March and April here, no gap) for every
    # platform with rows, empty where a platform has no value
    totals: dict[tuple[Any, ...], Any] = {
        (period(when), platform if by_platform else None): None
        for platform, rows in SERIES[kpi].items() for _, when, _ in rows}
    for (when, platform, _), (_, value) in latest.items():
        cell = (when, platform if by_platform else None)
        totals[cell] = (totals[cell] or 0) + value
    out = []
    for (when, platform), value in sorted(totals.items(), key=lambda kv: str(kv[0])):
        row: dict[str, Any] = {}
        if grain:
            row["period"] = when
        if by_platform:
            row["platform"] = platform
        row[kpi] = value
        out.append(row)
    return out


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=getattr(pytest.mark, name)) if name in ("postgres", "spark")
    else name for name in ENGINES])
def engine_url(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> str:
    engine = engine_under_test(request.param, request, tmp_path_factory)
    for platform in ("alpha", "beta"):
        engine.load(f"lastk_{platform}", {
            "account_daily": canonical_table("account_daily", [
                {"account_id": a, "date": d, "followers": f, "followers_gained": g,
                 "followers_lost": lo} for a, d, f, g, lo in ACCOUNTS[platform]]),
            "posts": canonical_table("posts", [
                {"post_id": p, "published_at": t, "likes": v} for p, t, v in POSTS[platform]]),
            "mentions": canonical_table("mentions", [
                {"mention_id": m, "mentioned_at": t, "sentiment_score": v}
                for m, t, v in MENTIONS.get(platform, [])]),
        })
    return engine.url


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    folder = tmp_path
    (folder / "kpis.yaml").write_text(KPIS)
    (folder / "kpiframe.yaml").write_text(
        "plugins: [testplatforms]\n"
        "platforms:\n  alpha: {schema: lastk_alpha}\n  beta: {schema: lastk_beta}\n")
    return load_catalog(folder / "kpis.yaml", project=folder)


def _same(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is want
    if isinstance(want, (float, Decimal)) or isinstance(got, (float, Decimal)):
        return math.isclose(float(got), float(want), rel_tol=1e-12)
    if isinstance(want, dt.date) and isinstance(got, dt.datetime):
        return got.date() == want
    return bool(got == want)


@pytest.mark.parametrize("kpi", list(SERIES))
@pytest.mark.parametrize("grain", [None, "month"])
@pytest.mark.parametrize("by_platform", [False, True])
def test_last_is_the_largest_value_at_the_latest_time(engine_url: str, catalog: Catalog,
                                                      kpi: str, grain: str | None,
                                                      by_platform: bool) -> None:
    rows = [dict(r) for r in catalog.query([kpi], grain=grain,
                                           by=["platform"] if by_platform else [],
                                           engine=engine_url)]
    want = expected(kpi, grain, by_platform)
    assert len(rows) == len(want), (rows, want)
    for got, row in zip(rows, want, strict=True):
        assert got.keys() == row.keys(), (got, row)
        assert all(_same(got[k], row[k]) for k in row), (rows, want)
