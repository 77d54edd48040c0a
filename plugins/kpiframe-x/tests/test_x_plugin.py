"""X: the Fivetran twitter_organic layout and the canonical layout, fixture rows in,
canonical rows out; and the round trip canonical -> encoders -> bindings."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from kpiframe_x import PLATFORM

from kpiframe import canonical
from kpiframe.engines import sqlite as sqlite_engine
from kpiframe.plugins import load_registry
from kpiframe.testing import Fixture, TableData, as_text, provided, read_source, roundtrip

T = dt.datetime
D = dt.date

BIG = 1790000000000000123  # a real-looking tweet id: 19 digits, above 2^53
assert BIG > 2**53 and float(BIG) != BIG

# --------------------------------------------------------------------------- fixtures

TWEET = Fixture(
    [
        ("id", "integer"), ("account_id", "text"), ("user_id", "integer"),
        ("created_at", "timestamp"), ("tweet_type", "text"),
        ("in_reply_to_status_id", "integer"), ("media_key", "text"),
        ("favorite_count", "integer"), ("retweet_count", "integer"),
    ],
    [
        # lifetime snapshots (favorite_count, retweet_count) are never read: 999 shows it
        [BIG, "18ce54d4x5t", 42, T(2024, 3, 1, 15, 30), "PUBLISHED", None, "3_17", 999, 999],
        [1001, "18ce54d4x5t", 42, T(2024, 3, 2, 9), "PUBLISHED", BIG, None, 999, 999],
        [2002, "berlin01", 77, T(2024, 3, 1, 20), "PUBLISHED", None, None, 999, 999],
    ],
)

REPORT_COLUMNS = [
    ("account_id", "text"), ("organic_tweet_id", "integer"), ("date", "timestamp"),
    ("placement", "text"), ("impressions", "integer"), ("likes", "integer"),
    ("replies", "integer"), ("retweets", "integer"), ("clicks", "integer"),
    ("video_total_views", "integer"), ("follows", "integer"), ("unfollows", "integer"),
]
REPORT_ROWS: list[list[Any]] = [
    # a Los Angeles account: report days at 08:00 UTC (local midnight, PST)
    ["18ce54d4x5t", BIG, T(2024, 3, 1, 8), "ALL_ON_TWITTER", 1000, 40, 5, 8, 30, 200, 3, 1],
    # the same tweet and day on the second placement: must be added, not duplicated
    ["18ce54d4x5t", BIG, T(2024, 3, 1, 8), "PUBLISHER_NETWORK", 200, 2, 0, 1, 4, 50, 0, 0],
    ["18ce54d4x5t", BIG, T(2024, 3, 2, 8), "ALL_ON_TWITTER", 300, 10, 1, 2, 6, 80, 1, 0],
    ["18ce54d4x5t", 1001, T(2024, 3, 2, 8), "ALL_ON_TWITTER", 50, 3, 2, 0, 1, 0, 0, 1],
    # a Berlin account (UTC+1): local midnight of March 2 is March 1, 23:00 UTC
    ["berlin01", 2002, T(2024, 3, 1, 23), "ALL_ON_TWITTER", 70, 7, 0, 1, 2, 0, 2, 0],
]
REPORT = Fixture(REPORT_COLUMNS, REPORT_ROWS)

USER_HISTORY = Fixture(
    [
        ("id", "integer"), ("_fivetran_synced", "timestamp"), ("followers_count", "integer"),
        ("screen_name", "text"),
    ],
    [
        [42, T(2024, 3, 1, 10), 500, "brand"],
        [42, T(2024, 3, 1, 20), 505, "brand"],  # later the same day: this version wins
        [42, T(2024, 3, 3, 9), 510, "brand"],
        [77, T(2024, 3, 4, 6), 300, "brand_de"],
    ],
)

TABLES: dict[str, TableData] = {
    "tweet": TWEET,
    "organic_tweet_report": REPORT,
    "twitter_user_history": USER_HISTORY,
}

EXPECTED: dict[str, list[dict[str, Any]]] = {
    "posts": [
        {
            "platform": "x", "post_id": "1001", "published_at": T(2024, 3, 2, 9),
            "account_id": "18ce54d4x5t", "post_type": "reply", "is_paid": False,
            "impressions": 50, "reach": None, "video_views": 0, "likes": 3, "comments": 2,
            "shares": 0, "saves": None, "clicks": 1,
        },
        {
            "platform": "x", "post_id": "1790000000000000123",  # every digit kept
            "published_at": T(2024, 3, 1, 15, 30), "account_id": "18ce54d4x5t",
            "post_type": "media", "is_paid": False,
            "impressions": 1500,  # 1000 + 200 + 300: both placements, both days
            "reach": None,
            "video_views": 330,  # 200 + 50 + 80
            "likes": 52,  # 40 + 2 + 10, not favorite_count
            "comments": 6,  # 5 + 0 + 1
            "shares": 11,  # 8 + 1 + 2, not retweet_count
            "saves": None,
            "clicks": 40,  # 30 + 4 + 6
        },
        {
            "platform": "x", "post_id": "2002", "published_at": T(2024, 3, 1, 20),
            "account_id": "berlin01", "post_type": "text", "is_paid": False,
            "impressions": 70, "reach": None, "video_views": 0, "likes": 7, "comments": 0,
            "shares": 1, "saves": None, "clicks": 2,
        },
    ],
    "post_daily": [
        {
            "platform": "x", "post_id": "1001", "date": D(2024, 3, 2),
            "account_id": "18ce54d4x5t", "post_type": "reply", "impressions": 50,
            "reach": None, "video_views": 0, "likes": 3, "comments": 2, "shares": 0,
            "saves": None, "clicks": 1,
        },
        {
            "platform": "x", "post_id": "1790000000000000123", "date": D(2024, 3, 1),
            "account_id": "18ce54d4x5t", "post_type": "media",
            "impressions": 1200,  # 1000 + 200: the two placements of one day
            "reach": None,
            "video_views": 250,  # 200 + 50
            "likes": 42,  # 40 + 2
            "comments": 5,  # 5 + 0
            "shares": 9,  # 8 + 1
            "saves": None,
            "clicks": 34,  # 30 + 4
        },
        {
            "platform": "x", "post_id": "1790000000000000123", "date": D(2024, 3, 2),
            "account_id": "18ce54d4x5t", "post_type": "media", "impressions": 300,
            "reach": None, "video_views": 80, "likes": 10, "comments": 1, "shares": 2,
            "saves": None, "clicks": 6,
        },
        {
            "platform": "x", "post_id": "2002",
            "date": D(2024, 3, 2),  # 2024-03-01 23:00 UTC + 12 h -> March 2, its Berlin day
            "account_id": "berlin01", "post_type": "text", "impressions": 70, "reach": None,
            "video_views": 0, "likes": 7, "comments": 0, "shares": 1, "saves": None,
            "clicks": 2,
        },
    ],
    "account_daily": [
        {
            "platform": "x", "account_id": "18ce54d4x5t", "date": D(2024, 3, 1),
            "followers": 505,  # the 20:00 version beats the 10:00 one
            "followers_gained": 3,  # 3 + 0 over the two placements
            "followers_lost": 1,  # 1 + 0
            "profile_views": None,
            "impressions": 1200,  # 1000 + 200
            "reach": None,
        },
        {
            "platform": "x", "account_id": "18ce54d4x5t", "date": D(2024, 3, 2),
            "followers": 505,  # no sync that day: the latest earlier version
            "followers_gained": 1,  # 1 (tweet BIG) + 0 (tweet 1001)
            "followers_lost": 1,  # 0 + 1
            "profile_views": None,
            "impressions": 350,  # 300 + 50
            "reach": None,
        },
        {
            "platform": "x", "account_id": "18ce54d4x5t", "date": D(2024, 3, 3),
            "followers": 510,  # a sync day without report rows
            "followers_gained": None, "followers_lost": None, "profile_views": None,
            "impressions": None, "reach": None,
        },
        {
            "platform": "x", "account_id": "berlin01", "date": D(2024, 3, 2),
            "followers": None,  # user 77 was first synced on March 4
            "followers_gained": 2, "followers_lost": 0, "profile_views": None,
            "impressions": 70, "reach": None,
        },
        {
            "platform": "x", "account_id": "berlin01", "date": D(2024, 3, 4),
            "followers": 300, "followers_gained": None, "followers_lost": None,
            "profile_views": None, "impressions": None, "reach": None,
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


def _provided(
    rows: Sequence[Mapping[str, Any]], source: str, layout: str = "fivetran"
) -> list[dict[str, Any]]:
    return provided(PLATFORM, layout, source, rows)


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


def test_fivetran_ids_as_text_join_bigint_to_text() -> None:
    # the report's tweet id as text, the tweet table's as bigint: the join still matches
    report = Fixture(
        [(n, "text" if n == "organic_tweet_id" else t) for n, t in REPORT_COLUMNS],
        [[row[0], str(row[1]), *row[2:]] for row in REPORT_ROWS],
    )
    tables = {**TABLES, "organic_tweet_report": report}
    assert read_source(PLATFORM, "posts", tables, layout="fivetran") == EXPECTED["posts"]


def test_fivetran_layout_shape() -> None:
    layout = PLATFORM.layout("fivetran")
    assert layout.default_schema == "twitter"
    assert set(layout.sources) == {"posts", "post_daily", "account_daily"}
    assert set(layout.encoders) == {"tweet", "organic_tweet_report", "twitter_user_history"}
    assert "saves" not in layout.sources["posts"].fields  # no bookmarks in this layout
    assert "reach" not in layout.sources["posts"].fields


# --------------------------------------------------------------------------- canonical


def test_canonical_layout_is_the_default() -> None:
    assert PLATFORM.layout().name == "canonical"
    assert PLATFORM.layout_names == ("canonical", "fivetran")
    for source in canonical.SOURCES:
        assert source in PLATFORM.layout().sources
    assert "reach" not in PLATFORM.layout().sources["posts"].fields
    assert "saves" in PLATFORM.layout().sources["posts"].fields


def test_canonical_posts_and_account_daily() -> None:
    posts = read_source(
        PLATFORM,
        "posts",
        {
            "posts": [
                {
                    "post_id": "1790000000000000123", "published_at": T(2024, 3, 1, 15, 30),
                    "account_id": "brand", "post_type": "text", "is_paid": False,
                    "impressions": 1500, "reach": 1200,  # X has no reach: ignored
                    "video_views": 0, "likes": 52, "comments": 6, "shares": 11,
                    "saves": 4, "clicks": 40,
                }
            ]
        },
    )
    assert posts == [
        {
            "platform": "x", "post_id": "1790000000000000123",
            "published_at": T(2024, 3, 1, 15, 30), "account_id": "brand",
            "post_type": "text", "is_paid": False, "impressions": 1500, "reach": None,
            "video_views": 0, "likes": 52, "comments": 6, "shares": 11, "saves": 4,
            "clicks": 40,
        }
    ]
    account = read_source(
        PLATFORM,
        "account_daily",
        {
            "account_daily": [
                {
                    "account_id": "brand", "date": D(2024, 3, 1), "followers": 505,
                    "followers_gained": 7, "followers_lost": 2, "profile_views": 31,
                    "impressions": 4000,
                }
            ]
        },
    )
    assert account == [
        {
            "platform": "x", "account_id": "brand", "date": D(2024, 3, 1), "followers": 505,
            "followers_gained": 7, "followers_lost": 2, "profile_views": 31,
            "impressions": 4000, "reach": None,
        }
    ]


# --------------------------------------------------------------------------- round trip

ROUND_TRIP_POSTS = [
    {
        "post_id": "1790000000000000123", "published_at": T(2024, 3, 1, 15, 30),
        "account_id": "18ce54d4x5t", "post_type": "media", "is_paid": False,
        "impressions": 1507, "video_views": 333, "likes": 53, "comments": 6, "shares": 11,
        "clicks": 41,
    },
    {
        "post_id": "1001", "published_at": T(2024, 3, 2, 9), "account_id": "18ce54d4x5t",
        "post_type": "reply", "is_paid": False, "impressions": 51, "video_views": None,
        "likes": 3, "comments": 2, "shares": 0, "clicks": 1,
    },
    {
        "post_id": "2002", "published_at": T(2024, 3, 1, 20), "account_id": "berlin01",
        "post_type": "text", "is_paid": False, "impressions": 7, "video_views": None,
        "likes": 1, "comments": 0, "shares": 1, "clicks": 3,
    },
    {  # published, never reported on: metrics NULL
        "post_id": "3003", "published_at": T(2024, 3, 4, 8), "account_id": "berlin01",
        "post_type": "text", "is_paid": False, "impressions": None, "video_views": None,
        "likes": None, "comments": None, "shares": None, "clicks": None,
    },
]

ROUND_TRIP_POST_DAILY = [
    {
        "post_id": "1790000000000000123", "date": D(2024, 3, 1), "account_id": "18ce54d4x5t",
        "post_type": "media", "impressions": 1207, "video_views": 251, "likes": 43,
        "comments": 5, "shares": 9, "clicks": 35,
    },
    {
        "post_id": "1790000000000000123", "date": D(2024, 3, 2), "account_id": "18ce54d4x5t",
        "post_type": "media", "impressions": 300, "video_views": 82, "likes": 10,
        "comments": 1, "shares": 2, "clicks": 6,
    },
    {
        "post_id": "1001", "date": D(2024, 3, 2), "account_id": "18ce54d4x5t",
        "post_type": "reply", "impressions": 51, "video_views": None, "likes": 3,
        "comments": 2, "shares": 0, "clicks": 1,
    },
    {
        "post_id": "2002", "date": D(2024, 3, 2), "account_id": "berlin01",
        "post_type": "text", "impressions": 7, "video_views": None, "likes": 1,
        "comments": 0, "shares": 1, "clicks": 3,
    },
]

ROUND_TRIP_ACCOUNT_DAILY = [
    {
        "account_id": "18ce54d4x5t", "date": D(2024, 3, 1), "followers": 505,
        "followers_gained": 9, "followers_lost": 2, "impressions": 1207,
    },
    {
        "account_id": "18ce54d4x5t", "date": D(2024, 3, 2), "followers": 512,
        "followers_gained": 7, "followers_lost": 0, "impressions": 351,  # 300 + 51
    },
    {  # no tweet activity: growth has nowhere to live in this layout (NULL)
        "account_id": "18ce54d4x5t", "date": D(2024, 3, 3), "followers": 512,
        "followers_gained": None, "followers_lost": None, "impressions": None,
    },
    {
        "account_id": "berlin01", "date": D(2024, 3, 2), "followers": 300,
        "followers_gained": 5, "followers_lost": 1, "impressions": 7,
    },
    {
        "account_id": "berlin01", "date": D(2024, 3, 3), "followers": None,
        "followers_gained": None, "followers_lost": None, "impressions": None,
    },
]


def test_round_trip_gives_back_every_provided_field() -> None:
    tables = {
        "posts": ROUND_TRIP_POSTS,
        "post_daily": ROUND_TRIP_POST_DAILY,
        "account_daily": ROUND_TRIP_ACCOUNT_DAILY,
    }
    out = roundtrip(PLATFORM, "fivetran", tables)
    for source, rows in tables.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def _generated(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Random canonical rows that satisfy the module's round-trip conditions."""
    rng = random.Random(seed)
    start = D(2024, 3, 1)
    metrics = ("impressions", "video_views", "likes", "comments", "shares", "clicks")
    posts: list[dict[str, Any]] = []
    daily: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for account in ("18ce54d4x5t", "berlin01", "4kq9"):
        account_rows: list[dict[str, Any]] = []
        for _ in range(5):
            post_id = str(rng.randrange(10**18, 2 * 10**18))  # 19 digits, above 2^53
            published = start + dt.timedelta(days=rng.randrange(0, 10))
            post_type = rng.choice(["text", "media", "reply"])
            rows = []
            for day in sorted(rng.sample(range(10), rng.randrange(0, 6))):
                rows.append({
                    "post_id": post_id, "date": published + dt.timedelta(days=day),
                    "account_id": account, "post_type": post_type,
                    "impressions": rng.randrange(0, 5000),
                    "video_views": rng.randrange(0, 900) if post_type == "media" else None,
                    "likes": rng.randrange(0, 300), "comments": rng.randrange(0, 30),
                    "shares": rng.randrange(0, 50), "clicks": rng.randrange(0, 40),
                })
            account_rows.extend(rows)

            def total(metric: str, rows: list[dict[str, Any]] = rows) -> int | None:
                values = [r[metric] for r in rows if r[metric] is not None]
                return sum(values) if values else None

            posts.append({
                "post_id": post_id, "account_id": account, "post_type": post_type,
                "published_at": T.combine(published, dt.time(rng.randrange(24))),
                "is_paid": False, **{m: total(m) for m in metrics},
            })
        daily.extend(account_rows)
        followers = rng.randrange(100, 10_000)
        for day in range(20):
            date = start + dt.timedelta(days=day)
            today = [r for r in account_rows if r["date"] == date]
            gained, lost = rng.randrange(0, 50), rng.randrange(0, 20)
            followers += gained - lost
            accounts.append({
                "account_id": account, "date": date,
                "followers": None if day == 7 else followers,  # a failed sync
                "followers_gained": gained if today else None,
                "followers_lost": lost if today else None,
                "impressions": sum(r["impressions"] for r in today) if today else None,
            })
    return {"posts": posts, "post_daily": daily, "account_daily": accounts}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_of_generated_data(seed: int) -> None:
    tables = _generated(seed)
    assert len(tables["post_daily"]) > 10
    out = roundtrip(PLATFORM, "fivetran", tables)
    for source, rows in tables.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def test_encoder_splits_report_rows_over_two_placements() -> None:
    from kpiframe.testing import encode

    con = encode(
        PLATFORM,
        "fivetran",
        {
            "posts": ROUND_TRIP_POSTS,
            "post_daily": ROUND_TRIP_POST_DAILY,
            "account_daily": ROUND_TRIP_ACCOUNT_DAILY,
        },
    )
    result = con.execute(
        "SELECT placement, impressions, follows FROM twitter.organic_tweet_report "
        "WHERE organic_tweet_id = '1790000000000000123' "
        "AND CAST(date AS DATE) = DATE '2024-03-01' ORDER BY placement"
    )
    assert result.rows == [
        ("ALL_ON_TWITTER", 906, 9),  # 1207 - 1207 // 4; the day's follows on one row
        ("PUBLISHER_NETWORK", 301, 0),  # 1207 // 4
    ]


# --------------------------------------------------------------------------- plugin


def test_plugin_registers_through_its_entry_point() -> None:
    registry = load_registry()
    assert registry.platforms["x"][0] is PLATFORM
    assert not [f for f in registry.failures if f.plugin == "x"]


def test_interactions_and_weights() -> None:
    assert PLATFORM.label == "X (Twitter)"
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions) <= set(canonical.INTERACTIONS)
    assert PLATFORM.weights["shares"] > PLATFORM.weights["likes"]


def _generic(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Canonical rows as a generic generator makes them, breaking conditions 1, 2, 5, 6:
    other post types, paid posts, lifetime totals that are not the sum of the days,
    account impressions and follows on days without tweet activity."""
    tables = _generated(seed)
    rng = random.Random(seed)
    for post in tables["posts"]:
        post["post_type"] = rng.choice(["photo", "video", "text", "link", "reply"])
        post["is_paid"] = rng.random() < 0.3
        post["likes"] = (post["likes"] or 0) + rng.randrange(1, 50)
    for row in tables["account_daily"]:
        row["impressions"] = rng.randrange(0, 9000)
        row["followers_gained"] = rng.randrange(0, 40)
        row["followers_lost"] = rng.randrange(0, 10)
    return tables


@pytest.mark.parametrize("seed", [4, 5])
def test_conform_makes_generic_rows_round_trip(seed: int) -> None:
    from kpiframe.testing import conform

    generic = _generic(seed)
    raw = roundtrip(PLATFORM, "fivetran", generic)
    assert _provided(raw["posts"], "posts") != _provided(generic["posts"], "posts")
    conformed = conform(PLATFORM, "fivetran", generic)
    assert {p["post_type"] for p in conformed["posts"]} <= {"text", "media", "reply"}
    assert not any(p["is_paid"] for p in conformed["posts"])
    out = roundtrip(PLATFORM, "fivetran", conformed)
    for source in ("posts", "post_daily", "account_daily"):
        assert _provided(out[source], source) == _provided(conformed[source], source), source


def test_conform_leaves_conforming_rows_alone() -> None:
    from kpiframe.testing import conform

    tables = _generated(6)
    conformed = conform(PLATFORM, "fivetran", tables)
    for source in ("posts", "post_daily", "account_daily"):
        assert _provided(conformed[source], source) == _provided(tables[source], source)
