"""Facebook: the Fivetran facebook_pages layout and the canonical layout, fixture rows in,
canonical rows out; and the round trip canonical -> encoders -> bindings."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from kpiframe_facebook import PLATFORM

from kpiframe import canonical
from kpiframe.engines import sqlite as sqlite_engine
from kpiframe.plugins import load_registry
from kpiframe.testing import Fixture, TableData, as_text, encode, provided, read_source, roundtrip

T = dt.datetime
D = dt.date

PAGE = 104858571548394  # 15 digits, a bigint in the seeds
P1, P2, P3 = f"{PAGE}_7812", f"{PAGE}_7813", f"{PAGE}_7814"  # composite post ids

# --------------------------------------------------------------------------- fixtures

POST_HISTORY = Fixture(
    [
        ("id", "text"), ("page_id", "integer"), ("created_time", "timestamp"),
        ("updated_time", "timestamp"), ("status_type", "text"), ("share_count", "integer"),
        ("_fivetran_synced", "timestamp"),
    ],
    [
        [P1, PAGE, T(2024, 2, 29, 18), T(2024, 2, 29, 18), "added_photos", 3, T(2024, 3, 1, 1)],
        # a later version of the same post: its share count wins
        [P1, PAGE, T(2024, 2, 29, 18), T(2024, 3, 3, 18), "added_photos", 5, T(2024, 3, 4, 1)],
        # P2 has metrics but no post_history row; P3 has a post but no metrics yet
        [P3, PAGE, T(2024, 3, 3, 18), T(2024, 3, 3, 18), "added_video", 0, T(2024, 3, 4, 1)],
    ],
)

REACTIONS = ("like", "love", "wow", "haha", "sorry", "anger")

LIFETIME = Fixture(
    [
        ("post_id", "text"), ("date", "timestamp"), ("post_clicks", "integer"),
        ("post_impressions", "integer"), ("post_media_view", "decimal"),
        ("post_video_views", "integer"),
        *((f"post_reactions_{r}_total", "integer") for r in REACTIONS),
    ],
    [
        # P1: lifetime snapshots at 07:00 UTC; no row on March 3 (a missing day);
        # views start on March 2, impressions stop on March 4
        #  post    date              clk  impr  views  video like love wow haha sorry anger
        [P1, T(2024, 3, 1, 7), 5, 100, None, None, 10, 2, None, None, None, None],
        [P1, T(2024, 3, 2, 7), 9, 150, 160.0, None, 15, 3, None, 1, None, None],
        [P1, T(2024, 3, 4, 7), 14, None, 260.0, None, 20, 4, 1, 1, 0, 1],
        # P2: a video whose view count goes down (it happens: increments can be negative)
        [P2, T(2024, 3, 1, 7), 1, 10, None, 30, 1, 0, 0, 0, 0, 0],
        [P2, T(2024, 3, 2, 7), 1, 12, None, 25, 1, 0, 0, 0, 0, 0],
    ],
)

PAGE_METRICS = Fixture(
    [
        ("page_id", "integer"), ("date", "timestamp"), ("page_fans", "integer"),
        ("page_fan_adds", "integer"), ("page_fan_removes", "integer"),
        ("page_views_total", "integer"), ("page_impressions", "integer"),
        ("page_media_view", "decimal"),
    ],
    [
        [PAGE, T(2024, 3, 1, 7), 1000, 5, 1, 40, 900, None],
        [PAGE, T(2024, 3, 2, 7), 1004, 6, 2, 41, 950, 1000.0],
        # a page in Berlin (UTC+1): local midnight of March 2 is March 1, 23:00 UTC
        [222, T(2024, 3, 1, 23), 70, 1, 0, 3, None, 55.0],
    ],
)

TABLES: dict[str, TableData] = {
    "post_history": POST_HISTORY,
    "lifetime_post_metrics_total": LIFETIME,
    "daily_page_metrics_total": PAGE_METRICS,
}

EXPECTED: dict[str, list[dict[str, Any]]] = {
    "posts": [
        {
            "platform": "facebook", "post_id": P1, "published_at": T(2024, 2, 29, 18),
            "account_id": str(PAGE), "post_type": "added_photos", "is_paid": None,
            "impressions": 260,  # the latest snapshot (March 4): views 260.0
            "reach": None, "video_views": None,
            "likes": 27,  # 20 + 4 + 1 + 1 + 0 + 1: all six reactions of the latest snapshot
            "comments": None,
            "shares": 5,  # the latest post_history version
            "saves": None, "clicks": 14,
        },
        {
            "platform": "facebook", "post_id": P2, "published_at": None,
            "account_id": str(PAGE),  # no post_history: the page part of the post id
            "post_type": None, "is_paid": None,
            "impressions": 12,  # no views: falls back to impressions
            "reach": None, "video_views": 25, "likes": 1, "comments": None,
            "shares": None, "saves": None, "clicks": 1,
        },
        {
            "platform": "facebook", "post_id": P3, "published_at": T(2024, 3, 3, 18),
            "account_id": str(PAGE), "post_type": "added_video", "is_paid": None,
            "impressions": None, "reach": None, "video_views": None,
            "likes": None,  # no snapshot at all: unknown, not 0
            "comments": None, "shares": 0, "saves": None, "clicks": None,
        },
    ],
    "post_daily": [
        {
            "platform": "facebook", "post_id": P1, "date": D(2024, 3, 1),
            "account_id": str(PAGE), "post_type": "added_photos",
            "impressions": 100,  # first snapshot, in full: views NULL -> impressions 100
            "reach": None, "video_views": None,
            "likes": 12,  # 10 + 2
            "comments": None, "shares": None, "saves": None,
            "clicks": 5,
        },
        {
            "platform": "facebook", "post_id": P1, "date": D(2024, 3, 2),
            "account_id": str(PAGE), "post_type": "added_photos",
            # views 160 - NULL is NULL (no false jump of 160): impressions 150 - 100
            "impressions": 50,
            "reach": None, "video_views": None,
            "likes": 7,  # (15 + 3 + 1) - 12
            "comments": None, "shares": None, "saves": None,
            "clicks": 4,  # 9 - 5
        },
        {
            "platform": "facebook", "post_id": P1,
            "date": D(2024, 3, 4),  # March 3 is missing: two days of growth land here
            "account_id": str(PAGE), "post_type": "added_photos",
            "impressions": 100,  # views 260 - 160
            "reach": None, "video_views": None,
            "likes": 8,  # 27 - 19
            "comments": None, "shares": None, "saves": None,
            "clicks": 5,  # 14 - 9
        },
        {
            "platform": "facebook", "post_id": P2, "date": D(2024, 3, 1),
            "account_id": str(PAGE), "post_type": None, "impressions": 10, "reach": None,
            "video_views": 30, "likes": 1, "comments": None, "shares": None, "saves": None,
            "clicks": 1,
        },
        {
            "platform": "facebook", "post_id": P2, "date": D(2024, 3, 2),
            "account_id": str(PAGE), "post_type": None,
            "impressions": 2,  # 12 - 10
            "reach": None,
            "video_views": -5,  # 25 - 30
            "likes": 0, "comments": None, "shares": None, "saves": None,
            "clicks": 0,
        },
    ],
    "account_daily": [
        {
            "platform": "facebook", "account_id": str(PAGE), "date": D(2024, 3, 1),
            "followers": 1000, "followers_gained": 5, "followers_lost": 1,
            "profile_views": 40,
            "impressions": 900,  # no views yet: page_impressions
            "reach": None,
        },
        {
            "platform": "facebook", "account_id": str(PAGE), "date": D(2024, 3, 2),
            "followers": 1004, "followers_gained": 6, "followers_lost": 2,
            "profile_views": 41,
            "impressions": 1000,  # page_media_view preferred over page_impressions (950)
            "reach": None,
        },
        {
            "platform": "facebook", "account_id": "222",
            "date": D(2024, 3, 2),  # 2024-03-01 23:00 UTC + 12 h
            "followers": 70, "followers_gained": 1, "followers_lost": 0, "profile_views": 3,
            "impressions": 55, "reach": None,
        },
    ],
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def sqlite() -> Iterator[sqlite_engine.SQLiteConnection]:
    """An in-memory SQLite connection."""
    con = sqlite_engine.SQLiteConnection("sqlite://")
    yield con
    con.close()


def _provided(rows: Sequence[Mapping[str, Any]], source: str) -> list[dict[str, Any]]:
    return provided(PLATFORM, "fivetran", source, rows)


# --------------------------------------------------------------------------- fivetran


@pytest.mark.parametrize("source", ["posts", "post_daily", "account_daily"])
def test_fivetran_source_on_duckdb(source: str) -> None:
    assert read_source(PLATFORM, source, TABLES, layout="fivetran") == EXPECTED[source]


@pytest.mark.parametrize("source", ["posts", "post_daily", "account_daily"])
def test_fivetran_source_on_sqlite(
    source: str, sqlite: sqlite_engine.SQLiteConnection
) -> None:
    rows = read_source(PLATFORM, source, TABLES, layout="fivetran", con=sqlite)
    assert as_text(rows) == as_text(EXPECTED[source])


def test_post_daily_adds_up_to_the_latest_snapshot() -> None:
    daily = read_source(PLATFORM, "post_daily", TABLES, layout="fivetran")
    posts = {p["post_id"]: p for p in read_source(PLATFORM, "posts", TABLES, layout="fivetran")}
    for metric in ("likes", "clicks"):
        for post_id in (P1, P2):
            total = sum(r[metric] for r in daily if r["post_id"] == post_id)
            assert total == posts[post_id][metric]


def test_fivetran_layout_shape() -> None:
    layout = PLATFORM.layout("fivetran")
    assert layout.default_schema == "facebook_pages"
    assert set(layout.sources) == {"posts", "post_daily", "account_daily"}
    assert set(layout.encoders) == {
        "post_history", "lifetime_post_metrics_total", "daily_page_metrics_total",
    }
    assert "comments" not in layout.sources["posts"].fields
    assert "shares" not in layout.sources["post_daily"].fields


# --------------------------------------------------------------------------- canonical


def test_canonical_layout_is_the_default() -> None:
    assert PLATFORM.layout().name == "canonical"
    assert PLATFORM.layout_names == ("canonical", "fivetran")
    assert set(PLATFORM.layout().sources) == set(canonical.SOURCES)
    assert "saves" not in PLATFORM.layout().sources["posts"].fields


def test_canonical_post_daily() -> None:
    rows = read_source(
        PLATFORM,
        "post_daily",
        {
            "post_daily": [
                {
                    "post_id": P1, "date": D(2024, 3, 2), "account_id": str(PAGE),
                    "post_type": "added_photos", "impressions": 50, "reach": 40,
                    "video_views": 0, "likes": 7, "comments": 2, "shares": 1,
                    "saves": 3,  # Facebook has no saves: ignored
                    "clicks": 4,
                }
            ]
        },
    )
    assert rows == [
        {
            "platform": "facebook", "post_id": P1, "date": D(2024, 3, 2),
            "account_id": str(PAGE), "post_type": "added_photos", "impressions": 50,
            "reach": 40, "video_views": 0, "likes": 7, "comments": 2, "shares": 1,
            "saves": None, "clicks": 4,
        }
    ]


# --------------------------------------------------------------------------- round trip

ROUND_TRIP: dict[str, list[dict[str, Any]]] = {
    "posts": [
        {
            "post_id": P1, "published_at": T(2025, 5, 30, 18), "account_id": str(PAGE),
            "post_type": "added_photos", "impressions": 420, "video_views": None,
            "likes": 37, "shares": 5, "clicks": 14,
        },
        {
            "post_id": P2, "published_at": T(2025, 5, 31, 9), "account_id": str(PAGE),
            "post_type": "added_video", "impressions": 95, "video_views": 55,
            "likes": 3, "shares": 0, "clicks": 2,
        },
        {  # no daily rows yet: lifetime metrics NULL
            "post_id": P3, "published_at": T(2025, 6, 2, 9), "account_id": str(PAGE),
            "post_type": "added_photos", "impressions": None, "video_views": None,
            "likes": None, "shares": None, "clicks": None,
        },
    ],
    "post_daily": [
        # P1 spans the start of post_media_view (2025-06-01 in the encoder) and skips a day
        {"post_id": P1, "date": D(2025, 5, 31), "account_id": str(PAGE),
         "post_type": "added_photos", "impressions": 300, "video_views": None,
         "likes": 20, "clicks": 9},
        {"post_id": P1, "date": D(2025, 6, 1), "account_id": str(PAGE),
         "post_type": "added_photos", "impressions": 100, "video_views": None,
         "likes": 16, "clicks": 5},
        {"post_id": P1, "date": D(2025, 6, 3), "account_id": str(PAGE),
         "post_type": "added_photos", "impressions": 20, "video_views": None,
         "likes": 1, "clicks": 0},
        {"post_id": P2, "date": D(2025, 5, 31), "account_id": str(PAGE),
         "post_type": "added_video", "impressions": 90, "video_views": 60,
         "likes": 3, "clicks": 2},
        {"post_id": P2, "date": D(2025, 6, 1), "account_id": str(PAGE),
         "post_type": "added_video", "impressions": 5, "video_views": -5,
         "likes": 0, "clicks": 0},
    ],
    "account_daily": [
        {"account_id": str(PAGE), "date": D(2025, 5, 31), "followers": 1000,
         "followers_gained": 5, "followers_lost": 1, "profile_views": 40, "impressions": 900},
        {"account_id": str(PAGE), "date": D(2025, 6, 1), "followers": 1004,
         "followers_gained": 6, "followers_lost": 2, "profile_views": None,
         "impressions": 950},
        {"account_id": "222", "date": D(2025, 6, 1), "followers": None,
         "followers_gained": None, "followers_lost": None, "profile_views": 3,
         "impressions": None},
    ],
}


def test_round_trip_gives_back_every_provided_field() -> None:
    out = roundtrip(PLATFORM, "fivetran", ROUND_TRIP)
    for source, rows in ROUND_TRIP.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def _generated(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Random canonical rows that satisfy the module's round-trip conditions."""
    rng = random.Random(seed)
    start = D(2025, 5, 20)
    posts: list[dict[str, Any]] = []
    daily: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for page in ("104858571548394", "222"):
        followers = rng.randrange(100, 10_000)
        for day in range(20):
            gained, lost = rng.randrange(0, 50), rng.randrange(0, 20)
            followers += gained - lost
            accounts.append({
                "account_id": page, "date": start + dt.timedelta(days=day),
                "followers": followers, "followers_gained": gained, "followers_lost": lost,
                "profile_views": rng.randrange(0, 100), "impressions": rng.randrange(0, 9999),
            })
        for _ in range(6):
            post_id = f"{page}_{rng.randrange(10**15, 10**16)}"
            published = start + dt.timedelta(days=rng.randrange(0, 15))
            post_type = rng.choice(["added_photos", "added_video", "mobile_status_update"])
            video = post_type == "added_video"
            rows = []
            for day in sorted(rng.sample(range(15), rng.randrange(0, 8))):
                rows.append({
                    "post_id": post_id, "date": published + dt.timedelta(days=day),
                    "account_id": page, "post_type": post_type,
                    "impressions": rng.randrange(0, 5000),
                    "video_views": rng.randrange(0, 900) if video else None,
                    "likes": rng.randrange(0, 300), "clicks": rng.randrange(0, 40),
                })
            daily.extend(rows)

            def total(metric: str, rows: list[dict[str, Any]] = rows) -> int | None:
                values = [r[metric] for r in rows if r[metric] is not None]
                return sum(values) if values else None

            posts.append({
                "post_id": post_id,
                "published_at": T.combine(published, dt.time(rng.randrange(24))),
                "account_id": page, "post_type": post_type, "shares": rng.randrange(0, 60),
                **{m: total(m) for m in ("impressions", "video_views", "likes", "clicks")},
            })
    return {"posts": posts, "post_daily": daily, "account_daily": accounts}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_of_generated_data(seed: int) -> None:
    tables = _generated(seed)
    out = roundtrip(PLATFORM, "fivetran", tables)
    for source, rows in tables.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def test_encoder_writes_running_totals_with_several_reactions() -> None:
    con = encode(PLATFORM, "fivetran", ROUND_TRIP)
    result = con.execute(
        "SELECT CAST(date AS DATE), post_impressions, post_media_view, "
        "post_reactions_like_total, post_reactions_love_total, post_reactions_haha_total "
        "FROM facebook_pages.lifetime_post_metrics_total "
        "WHERE post_id = '104858571548394_7812' ORDER BY 1"
    )
    assert result.rows == [
        # running likes 20 -> like 20 - 20 // 4 = 15, love 20 // 4 - 20 // 16 = 4, haha 1
        (D(2025, 5, 31), 300, None, 15, 4, 1),
        # 300 + 100 impressions; running likes 36 -> 27, 9 - 2 = 7, 2
        (D(2025, 6, 1), 400, 400.0, 27, 7, 2),
        # 400 + 20; running likes 37 -> 28, 9 - 2 = 7, 2
        (D(2025, 6, 3), 420, 420.0, 28, 7, 2),
    ]


# --------------------------------------------------------------------------- plugin


def test_plugin_registers_through_its_entry_point() -> None:
    registry = load_registry()
    assert registry.platforms["facebook"][0] is PLATFORM
    assert not [f for f in registry.failures if f.plugin == "facebook"]


def test_interactions_and_weights() -> None:
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions) <= set(canonical.INTERACTIONS)
    assert "saves" not in PLATFORM.interactions
    assert PLATFORM.interactions["likes"] == "reactions"
    assert PLATFORM.weights["shares"] > PLATFORM.weights["likes"]


@pytest.mark.parametrize("seed", [4, 5])
def test_conform_makes_generic_rows_round_trip(seed: int) -> None:
    """Generic rows: lifetime totals that are not the sums of the days, a NULL like, a
    day whose account differs from its post's."""
    from kpiframe.testing import conform

    generic = _generated(seed)
    rng = random.Random(seed)
    for post in generic["posts"]:
        post["likes"] = (post["likes"] or 0) + rng.randrange(1, 30)
    generic["post_daily"][0]["likes"] = None
    generic["post_daily"][1]["account_id"] = "999"
    raw = roundtrip(PLATFORM, "fivetran", generic)
    assert _provided(raw["posts"], "posts") != _provided(generic["posts"], "posts")
    conformed = conform(PLATFORM, "fivetran", generic)
    out = roundtrip(PLATFORM, "fivetran", conformed)
    for source in ("posts", "post_daily", "account_daily"):
        assert _provided(out[source], source) == _provided(conformed[source], source), source
