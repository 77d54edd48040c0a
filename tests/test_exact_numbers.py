"""Money and large counts stay exact on every engine.

Revenue (a decimal in the canonical model) was cast to DOUBLE, so 0.1 + 0.21 came out as
0.31000000000000005 and 123456789012345.67 as ...69. A weighted KPI multiplied in 64-bit
integers and overflowed where a plain sum of the same values widened. Expected values are
plain Python (Decimal and int arithmetic), never SQL kpiframe generated.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kpiframe import load_catalog
from kpiframe.catalog import Catalog
from tests.engines import ENGINES, canonical_table, engine_under_test

KPIS = """\
kpis:
  - name: revenue
    type: simple
    source: web_sessions
    agg: sum
    expr: revenue
  - name: likes
    type: simple
    source: post_daily
    agg: sum
    expr: likes
  - name: weighted_likes
    type: weighted
    source: post_daily
    weights: {likes: 3}
    interactions: [likes]
  - name: half_comments
    type: weighted
    source: post_daily
    weights: {comments: 0.5}
    interactions: [comments]
"""

DAY = dt.date(2025, 3, 1)
#: as a warehouse holds money: exact decimals (a float would already be off when loaded)
REVENUE = {"alpha": [Decimal("0.1"), Decimal("0.21")], "beta": [Decimal("123456789012345.67")]}
BIG = 2**62
POSTS = {"alpha": [("p1", BIG, 1), ("p2", 0, 2)], "beta": []}


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=getattr(pytest.mark, name)) if name in ("postgres", "spark")
    else name for name in ENGINES])
def engine_url(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    engine = engine_under_test(request.param, request, tmp_path_factory)
    for platform in ("alpha", "beta"):
        sessions = [{"date": DAY, "landing_page": f"/{i}", "sessions": 1, "revenue": value}
                    for i, value in enumerate(REVENUE[platform])]
        posts = [{"post_id": pid, "date": DAY, "likes": likes, "comments": comments}
                 for pid, likes, comments in POSTS[platform]]
        engine.load(f"x{platform}", {"web_sessions": canonical_table("web_sessions", sessions),
                                     "post_daily": canonical_table("post_daily", posts)})
    return request.param, engine.url


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    root = tmp_path
    (root / "kpis.yaml").write_text(KPIS)
    (root / "kpiframe.yaml").write_text(
        "plugins: [testplatforms]\n"
        "platforms:\n  alpha: {schema: xalpha}\n  beta: {schema: xbeta}\n")
    return load_catalog(root / "kpis.yaml", project=root)


def _expected() -> dict[str, Any]:
    revenue = sum((v for vs in REVENUE.values() for v in vs), Decimal(0))
    likes = sum(likes for vs in POSTS.values() for _, likes, _ in vs)
    comments = sum(Decimal(c) for vs in POSTS.values() for _, _, c in vs)
    return {"revenue": float(revenue), "likes": likes, "weighted_likes": 3 * likes,
            "half_comments": float(comments * Decimal("0.5"))}


def test_money_and_large_counts_are_exact(engine_url: tuple[str, str], catalog: Catalog) -> None:
    name, url = engine_url
    (row,) = catalog.query(["revenue", "likes", "weighted_likes", "half_comments"],
                           engine=url)
    want = _expected()
    assert row["likes"] == want["likes"]
    assert row["half_comments"] == want["half_comments"]
    if name == "sqlite":
        # SQLite has no exact decimal and no integer wider than 64 bits: a total of 17
        # significant digits, or 3 * 2^62, can only be a float there
        assert math.isclose(row["revenue"], want["revenue"], rel_tol=1e-15)
        assert math.isclose(row["weighted_likes"], want["weighted_likes"], rel_tol=1e-15)
    else:
        assert row["revenue"] == want["revenue"]
        assert row["weighted_likes"] == want["weighted_likes"]


def test_money_per_platform(engine_url: tuple[str, str], catalog: Catalog) -> None:
    _, url = engine_url
    rows = catalog.query(["revenue"], by=["platform"], engine=url)
    want = {p: float(sum(vs, Decimal(0))) for p, vs in REVENUE.items()}
    assert {r["platform"]: r["revenue"] for r in rows} == want


def test_compiled_sql_keeps_money_decimal(catalog: Catalog) -> None:
    sql = catalog.compile(["revenue"], dialect="duckdb", pretty=False)
    assert "DECIMAL(38, 10)" in sql and "DOUBLE" not in sql
