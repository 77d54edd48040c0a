"""The plugin vocabulary for what layouts share: default weights and conform helpers.

Each case runs the built queries on DuckDB over a few hand-written canonical rows and
compares with values worked out by hand from the helper's documented rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kpiframe.layouts import conform_fields, conform_posts_to_days, recode
from kpiframe.platform import (
    DEFAULT_WEIGHTS,
    Layout,
    Platform,
    Select,
    canonical_layout,
    default_weights,
)
from kpiframe.testing import conform

D1, D2, D3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)

POSTS: list[dict[str, Any]] = [
    {"post_id": "p1", "account_id": "a", "post_type": "photo", "likes": 99, "comments": 7,
     "published_at": dt.datetime(2025, 3, 1, 9)},
    {"post_id": "p2", "account_id": "a", "post_type": "video", "likes": 5, "comments": 1},
    {"post_id": "p3", "account_id": None, "post_type": "photo", "likes": 3},
]
POST_DAILY: list[dict[str, Any]] = [
    {"post_id": "p1", "date": D2, "account_id": "z", "post_type": "x", "likes": 2,
     "comments": 4},
    {"post_id": "p1", "date": D1, "account_id": "z", "post_type": "x", "likes": None,
     "comments": 1},
    {"post_id": "p3", "date": D1, "account_id": None, "post_type": "photo", "likes": 1},
    {"post_id": "p9", "date": D3, "account_id": "a", "post_type": "photo", "likes": 8},
]


def conformed(rules: dict[str, Select]) -> dict[str, list[dict[str, Any]]]:
    platform = Platform(name="demo", label="Demo", layouts=[
        canonical_layout(), Layout(name="native", sources={}, conform=rules)])
    out = conform(platform, "native", {"posts": POSTS, "post_daily": POST_DAILY})
    return {s: sorted(rows, key=lambda r: (r["post_id"], str(r.get("date"))))
            for s, rows in out.items()}


def test_default_weights_are_the_baseline_for_what_a_platform_has() -> None:
    assert default_weights({"likes": "hearts", "shares": "boosts", "clicks": "taps"}) == {
        "likes": 1.0, "shares": 3.0, "clicks": 0.5}
    assert default_weights(["saves", "likes"], saves=3) == {"likes": 1.0, "saves": 3.0}
    assert default_weights(DEFAULT_WEIGHTS) == dict(DEFAULT_WEIGHTS)
    with pytest.raises(ValueError, match="not an interaction: hugs"):
        default_weights(["likes", "hugs"])
    with pytest.raises(ValueError, match="lacks: saves"):
        default_weights(["likes"], saves=2)


def test_post_totals_are_the_sums_of_their_days() -> None:
    out = conformed(conform_posts_to_days(
        totals=["likes", "comments"],
        from_post={"account_id": "p.account_id",
                   "post_type": recode("p.post_type", {"photo": "IMAGE"}, default="'OTHER'")},
        daily={"likes": "COALESCE(d.likes, 0)"},
        posts={"published_at": "CAST(d.first_day AS TIMESTAMP)"},
        where="p.account_id IS NOT NULL",
    ))
    # p1: likes 0 + 2 (a NULL day counts 0), comments 1 + 4, first day D1; p2 has no
    # days, so NULL totals and no first day; p3 has no account and is dropped
    assert [(p["post_id"], p["post_type"], p["likes"], p["comments"], p["published_at"])
            for p in out["posts"]] == [
        ("p1", "IMAGE", 2, 5, dt.datetime(2025, 3, 1)),
        ("p2", "OTHER", None, None, None),
    ]
    # days take their post's account and type; p3's day goes with p3, p9 has no post
    assert [(d["post_id"], d["date"], d["account_id"], d["post_type"], d["likes"])
            for d in out["post_daily"]] == [
        ("p1", D1, "a", "IMAGE", 0),
        ("p1", D2, "a", "IMAGE", 2),
    ]


def test_posts_without_days_can_be_dropped_and_other_fields_pass_through() -> None:
    out = conformed(conform_posts_to_days(totals=["likes"], posts_without_days=False))
    assert [(p["post_id"], p["likes"], p["comments"], p["published_at"])
            for p in out["posts"]] == [
        ("p1", 2, 7, dt.datetime(2025, 3, 1, 9)),  # comments are not a total: kept
        ("p3", 1, None, None),
    ]
    assert [(d["post_id"], d["account_id"], d["likes"]) for d in out["post_daily"]] == [
        ("p1", "z", None), ("p1", "z", 2), ("p3", None, 1)]


def test_conform_fields_steps_see_earlier_steps() -> None:
    rules = {
        source: conform_fields(
            source,
            {"post_type": recode("LOWER(post_type)", {"photo": "IMAGE", "video": "VIDEO"})},
            {"likes": "CASE WHEN post_type = 'IMAGE' THEN likes END"},
        )
        for source in ("posts", "post_daily")
    }
    out = conformed(rules)
    assert [(p["post_id"], p["post_type"], p["likes"], p["comments"])
            for p in out["posts"]] == [
        ("p1", "IMAGE", 99, 7), ("p2", "VIDEO", None, 1), ("p3", "IMAGE", 3, None)]
    # every row kept, an unlisted type recoded to NULL without a default
    assert [(d["post_id"], d["post_type"], d["likes"]) for d in out["post_daily"]] == [
        ("p1", None, None), ("p1", None, None), ("p3", "IMAGE", 1), ("p9", "IMAGE", 8)]


def test_helpers_refuse_fields_the_source_does_not_have() -> None:
    with pytest.raises(ValueError, match="posts has no field"):
        conform_fields("posts", {"date": "CURRENT_DATE"})
    with pytest.raises(ValueError, match="post_daily has no field"):
        conform_posts_to_days(totals=["likes"], posts={"published_at": "NULL"},
                              from_post=["published_at"])
    with pytest.raises(ValueError, match="given twice"):
        conform_posts_to_days(totals=["likes"], posts={"likes": "0"})
