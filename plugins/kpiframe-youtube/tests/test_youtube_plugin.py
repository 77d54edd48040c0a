"""YouTube: the Fivetran youtube_analytics layouts (without and with the optional `video`
table) and the canonical layout, fixture rows in, canonical rows out; and the round trip
canonical -> encoders -> bindings."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
import sqlglot
from kpiframe_youtube import PLATFORM
from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler.sources import parse, quoted
from kpiframe.engines import sqlite as sqlite_engine
from kpiframe.platform import Select
from kpiframe.plugins import load_registry
from kpiframe.testing import Fixture, TableData, as_text, encode, provided, read_source, roundtrip

T = dt.datetime
D = dt.date

CH = "UCa1b2c3d4e5f6g7h8i9j0kL"
CH_2 = "UCzz9y8x7w6v5u4t3s2r1q0P"
V1 = "-dQw4w9WgXc"  # video ids are case-sensitive and may start with '-'
V2 = "abcDEF12345"
V3 = "ABCdef12345"  # not V2: another video
V4 = "zyx987_-ABC"
V5 = "noReports01"  # in the video table only

# --------------------------------------------------------------------------- fixtures

COLUMNS = [
    ("_fivetran_id", "text"), ("date", "date"), ("channel_id", "text"),
    ("video_id", "text"), ("country_code", "text"), ("live_or_on_demand", "text"),
    ("subscribed_status", "text"), ("views", "integer"), ("likes", "integer"),
    ("dislikes", "integer"), ("comments", "integer"), ("shares", "integer"),
    ("subscribers_gained", "integer"), ("subscribers_lost", "integer"),
    ("average_view_duration_seconds", "decimal"), ("_fivetran_synced", "text"),
]

SYNCED = "2025-03-05 04:00:00.000000 UTC"  # text with a ' UTC' suffix, as in the seed

CHANNEL_BASIC_A_2 = Fixture(
    COLUMNS,
    [
        #  id   date          channel video country flag  status views likes dis comm shr
        #  gained lost avg-duration
        ["r1", D(2025, 3, 1), CH, V1, "US", "ON_DEMAND", "SUBSCRIBED", 100, 10, 1, 2, 1,
         3, 0, 120.5, SYNCED],
        ["r2", D(2025, 3, 1), CH, V1, "US", "ON_DEMAND", "UNSUBSCRIBED", 50, 4, 0, 0, 0,
         1, 0, 60.0, SYNCED],
        ["r3", D(2025, 3, 1), CH, V1, "GB", "LIVE", "SUBSCRIBED", 7, 1, 0, 1, 0,
         0, 1, 30.0, SYNCED],
        ["r4", D(2025, 3, 2), CH, V1, "US", "ON_DEMAND", "SUBSCRIBED", 30, 2, 0, 0, 2,
         0, 0, 100.0, SYNCED],
        ["r5", D(2025, 3, 2), CH, V1, "DE", "ON_DEMAND", "SUBSCRIBED", 5, None, 0, 0, 1,
         0, 0, 10.0, SYNCED],
        ["r6", D(2025, 3, 2), CH, V2, "US", "ON_DEMAND", "SUBSCRIBED", 40, 3, 0, 1, 0,
         2, 0, 50.0, SYNCED],
        ["r7", D(2025, 3, 2), CH, V3, "US", "ON_DEMAND", "SUBSCRIBED", 9, 0, 0, 0, 1,
         0, 0, 20.0, SYNCED],
        # channel-level activity: an empty video id, then a NULL one
        ["r8", D(2025, 3, 1), CH, "", "US", "ON_DEMAND", "SUBSCRIBED", 0, 0, 0, 0, 0,
         5, 2, None, SYNCED],
        ["r9", D(2025, 3, 2), CH, None, "GB", "ON_DEMAND", "UNSUBSCRIBED", 0, 0, 0, 0, 0,
         1, 1, None, SYNCED],
        ["r10", D(2025, 3, 2), CH_2, V4, "FR", "ON_DEMAND", "SUBSCRIBED", 12, 1, 0, 0, 0,
         0, 0, 33.0, SYNCED],
    ],
)

VIDEO = Fixture(
    [
        ("id", "text"), ("snippet_channel_id", "text"), ("snippet_published_at", "timestamp"),
        ("snippet_title", "text"), ("statistics_view_count", "integer"),
    ],
    [
        # published the day before its first report day
        [V1, CH, T(2025, 2, 28, 17), "launch", 5000],
        # loaded twice by the user's own job
        [V2, CH, T(2025, 3, 1, 12), "teaser", 40],
        [V2, CH, T(2025, 3, 1, 12), "teaser", 41],
        # no report rows yet: a post with NULL metrics
        [V5, CH_2, T(2025, 3, 3, 9), "new", 0],
    ],
)

TABLES: dict[str, TableData] = {"channel_basic_a_2": CHANNEL_BASIC_A_2}
TABLES_WITH_VIDEO: dict[str, TableData] = {**TABLES, "video": VIDEO}


def _row(source: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {f: None for f in canonical.SOURCES[source].fields}
    row.update(platform="youtube", **fields)
    if source != "account_daily":
        row["post_type"] = "video"
    return row


# ordered by post_id: '-' < 'A' < 'a' < 'z'
EXPECTED_POST_DAILY = [
    _row("post_daily", post_id=V1, date=D(2025, 3, 1), account_id=CH,
         video_views=157,  # 100 + 50 + 7: countries, flags and subscribed states
         likes=15,  # 10 + 4 + 1
         comments=3,  # 2 + 0 + 1
         shares=1),  # 1 + 0 + 0
    _row("post_daily", post_id=V1, date=D(2025, 3, 2), account_id=CH,
         video_views=35,  # 30 + 5
         likes=2,  # 2 + NULL
         comments=0, shares=3),  # 2 + 1
    _row("post_daily", post_id=V3, date=D(2025, 3, 2), account_id=CH,
         video_views=9, likes=0, comments=0, shares=1),
    _row("post_daily", post_id=V2, date=D(2025, 3, 2), account_id=CH,
         video_views=40, likes=3, comments=1, shares=0),
    _row("post_daily", post_id=V4, date=D(2025, 3, 2), account_id=CH_2,
         video_views=12, likes=1, comments=0, shares=0),
]

EXPECTED_POSTS = [
    _row("posts", post_id=V1,
         published_at=T(2025, 3, 1),  # its first day with data, at midnight UTC
         account_id=CH,
         video_views=192,  # 157 + 35
         likes=17, comments=3, shares=4),  # 15 + 2, 3 + 0, 1 + 3
    _row("posts", post_id=V3, published_at=T(2025, 3, 2), account_id=CH,
         video_views=9, likes=0, comments=0, shares=1),
    _row("posts", post_id=V2, published_at=T(2025, 3, 2), account_id=CH,
         video_views=40, likes=3, comments=1, shares=0),
    _row("posts", post_id=V4, published_at=T(2025, 3, 2), account_id=CH_2,
         video_views=12, likes=1, comments=0, shares=0),
]

EXPECTED_ACCOUNT_DAILY = [
    _row("account_daily", account_id=CH, date=D(2025, 3, 1),
         followers_gained=9,  # 3 + 1 + 0 + 5 (the empty video id counts)
         followers_lost=3),  # 0 + 0 + 1 + 2
    _row("account_daily", account_id=CH, date=D(2025, 3, 2),
         followers_gained=3,  # 0 + 0 + 2 + 0 + 1 (the NULL video id counts)
         followers_lost=1),  # 0 + 0 + 0 + 0 + 1
    _row("account_daily", account_id=CH_2, date=D(2025, 3, 2),
         followers_gained=0, followers_lost=0),
]

EXPECTED_POSTS_WITH_VIDEO = [
    {**EXPECTED_POSTS[0], "published_at": T(2025, 2, 28, 17)},  # snippet_published_at
    EXPECTED_POSTS[1],  # V3 is not in `video`: its first day with data
    {**EXPECTED_POSTS[2], "published_at": T(2025, 3, 1, 12)},  # one post, not two
    _row("posts", post_id=V5, published_at=T(2025, 3, 3, 9), account_id=CH_2),  # no data
    EXPECTED_POSTS[3],
]

EXPECTED: dict[str, list[dict[str, Any]]] = {
    "posts": EXPECTED_POSTS,
    "post_daily": EXPECTED_POST_DAILY,
    "account_daily": EXPECTED_ACCOUNT_DAILY,
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


@pytest.mark.parametrize("layout", ["fivetran", "fivetran_video"])
@pytest.mark.parametrize("source", ["post_daily", "account_daily"])
def test_fivetran_source_on_duckdb(source: str, layout: str) -> None:
    tables = TABLES if layout == "fivetran" else TABLES_WITH_VIDEO
    assert read_source(PLATFORM, source, tables, layout=layout) == EXPECTED[source]


def test_fivetran_posts_without_the_video_table() -> None:
    # TABLES has no `video` table: the default Fivetran layout never needs it
    assert read_source(PLATFORM, "posts", TABLES, layout="fivetran") == EXPECTED_POSTS


def test_fivetran_posts_with_the_video_table() -> None:
    rows = read_source(PLATFORM, "posts", TABLES_WITH_VIDEO, layout="fivetran_video")
    assert rows == EXPECTED_POSTS_WITH_VIDEO


@pytest.mark.parametrize("source", ["posts", "post_daily", "account_daily"])
def test_fivetran_source_on_sqlite(
    source: str, sqlite: sqlite_engine.SQLiteConnection
) -> None:
    rows = read_source(PLATFORM, source, TABLES, layout="fivetran", con=sqlite)
    assert as_text(rows) == as_text(EXPECTED[source])


def test_fivetran_video_posts_on_sqlite(sqlite: sqlite_engine.SQLiteConnection) -> None:
    rows = read_source(PLATFORM, "posts", TABLES_WITH_VIDEO, layout="fivetran_video",
                       con=sqlite)
    assert as_text(rows) == as_text(EXPECTED_POSTS_WITH_VIDEO)


def _tables_read(select: Any) -> set[str]:
    """The native tables a Select reads (its CTEs left out)."""
    assert isinstance(select, Select)
    tree = sqlglot.parse_one(select.sql, read="duckdb")
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table)} - ctes


def test_fivetran_layout_shape() -> None:
    layout = PLATFORM.layout("fivetran")
    assert layout.default_schema == "youtube_analytics"
    assert set(layout.sources) == {"posts", "post_daily", "account_daily"}
    assert set(layout.encoders) == {"channel_basic_a_2"}
    for binding in layout.sources.values():  # the optional video table is never read
        assert _tables_read(binding) == {"channel_basic_a_2"}
    with_video = PLATFORM.layout("fivetran_video")
    assert with_video.default_schema == "youtube_analytics"
    assert _tables_read(with_video.sources["posts"]) == {"channel_basic_a_2", "video"}
    assert set(with_video.encoders) == {"channel_basic_a_2", "video"}
    # views are video views, not clicks; no impressions, saves or clicks in this report
    for source in ("posts", "post_daily"):
        fields = layout.sources[source].fields
        assert "video_views" in fields
        assert not {"clicks", "impressions", "saves", "reach"} & set(fields)
    assert set(layout.sources["account_daily"].fields) == {
        "account_id", "date", "followers_gained", "followers_lost",
    }


# --------------------------------------------------------------------------- canonical


def test_canonical_layout_is_the_default() -> None:
    assert PLATFORM.layout().name == "canonical"
    assert PLATFORM.layout_names == ("canonical", "fivetran", "fivetran_video")
    assert set(PLATFORM.layout().sources) == set(canonical.SOURCES)
    assert "is_paid" not in PLATFORM.layout().sources["posts"].fields
    assert "profile_views" not in PLATFORM.layout().sources["account_daily"].fields


def test_canonical_post_daily() -> None:
    daily = [{
        "post_id": V1, "date": D(2025, 3, 1), "account_id": CH, "post_type": "short",
        "impressions": 900, "reach": 700, "video_views": 157, "likes": 15, "comments": 3,
        "shares": 1, "saves": 2, "clicks": 1,
    }]
    assert read_source(PLATFORM, "post_daily", {"post_daily": daily}) == [
        {"platform": "youtube", **daily[0]}
    ]


# --------------------------------------------------------------------------- round trip


def _consistent(
    daily: list[dict[str, Any]], accounts: list[dict[str, Any]], extra_posts: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """posts built from post_daily as the module's round-trip conditions require."""
    posts = []
    for post_id in sorted({r["post_id"] for r in daily}):
        rows = [r for r in daily if r["post_id"] == post_id]

        def total(metric: str, rows: list[dict[str, Any]] = rows) -> int | None:
            values = [r[metric] for r in rows if r[metric] is not None]
            return sum(values) if values else None

        posts.append({
            "post_id": post_id, "published_at": T.combine(min(r["date"] for r in rows),
                                                          dt.time()),
            "account_id": rows[0]["account_id"], "post_type": "video",
            **{m: total(m) for m in ("video_views", "likes", "comments", "shares")},
        })
    return {"posts": posts, "post_daily": daily, "account_daily": accounts}


ROUND_TRIP = _consistent(
    [
        {"post_id": V1, "date": D(2025, 3, 1), "account_id": CH, "post_type": "video",
         "video_views": 157, "likes": 15, "comments": 3, "shares": 1},
        {"post_id": V1, "date": D(2025, 3, 3), "account_id": CH, "post_type": "video",
         "video_views": 35, "likes": None, "comments": -1, "shares": 3},
        {"post_id": V2, "date": D(2025, 3, 2), "account_id": CH, "post_type": "video",
         "video_views": 1, "likes": 2, "comments": None, "shares": None},
        {"post_id": V3, "date": D(2025, 3, 2), "account_id": CH_2, "post_type": "video",
         "video_views": None, "likes": None, "comments": None, "shares": None},
    ],
    [
        {"account_id": CH, "date": D(2025, 3, 1), "followers_gained": 10,
         "followers_lost": 4},
        {"account_id": CH, "date": D(2025, 3, 2), "followers_gained": None,
         "followers_lost": 1},
        {"account_id": CH, "date": D(2025, 3, 3), "followers_gained": 0,
         "followers_lost": 0},
        {"account_id": CH, "date": D(2025, 3, 4), "followers_gained": 2,
         "followers_lost": None},  # a day without video activity
        {"account_id": CH_2, "date": D(2025, 3, 2), "followers_gained": 1,
         "followers_lost": 0},
    ],
)


def test_round_trip_gives_back_every_provided_field() -> None:
    out = roundtrip(PLATFORM, "fivetran", ROUND_TRIP)
    for source, rows in ROUND_TRIP.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def test_round_trip_with_the_video_table_keeps_publication_times() -> None:
    tables = {
        **ROUND_TRIP,
        "posts": [
            *({**p, "published_at": p["published_at"] - dt.timedelta(hours=7, minutes=3)}
              for p in ROUND_TRIP["posts"]),
            # a video without any daily rows: only the video table knows it
            {"post_id": V5, "published_at": T(2025, 3, 4, 9), "account_id": CH_2,
             "post_type": "video"},
        ],
    }
    out = roundtrip(PLATFORM, "fivetran_video", tables)
    for source, rows in tables.items():
        assert _provided(out[source], source, "fivetran_video") == _provided(
            rows, source, "fivetran_video"
        ), source


def _generated(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Random canonical rows that satisfy the module's round-trip conditions."""
    rng = random.Random(seed)
    start = D(2025, 1, 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    daily: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for channel in (CH, CH_2):
        for day in range(30):
            accounts.append({
                "account_id": channel, "date": start + dt.timedelta(days=day),
                "followers_gained": rng.randrange(0, 50), "followers_lost": rng.randrange(0, 9),
            })
        for _ in range(8):
            video = "".join(rng.choice(alphabet) for _ in range(11))
            first = rng.randrange(25)
            for day in sorted(rng.sample(range(first, 30), rng.randrange(1, 6))):
                daily.append({
                    "post_id": video, "date": start + dt.timedelta(days=day),
                    "account_id": channel, "post_type": "video",
                    "video_views": rng.randrange(0, 10_000), "likes": rng.randrange(0, 500),
                    "comments": rng.randrange(0, 50),
                    "shares": None if rng.random() < 0.2 else rng.randrange(0, 30),
                })
    return _consistent(daily, accounts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_of_generated_data(seed: int) -> None:
    tables = _generated(seed)
    for layout in ("fivetran", "fivetran_video"):
        out = roundtrip(PLATFORM, layout, tables)
        for source, rows in tables.items():
            assert _provided(out[source], source, layout) == _provided(
                rows, source, layout
            ), (layout, source)


def test_encoder_splits_rows_over_countries() -> None:
    con = encode(PLATFORM, "fivetran", ROUND_TRIP)
    result = con.execute(
        "SELECT video_id, country_code, subscribed_status, views, likes, "
        "subscribers_gained, subscribers_lost FROM youtube_analytics.channel_basic_a_2 "
        "WHERE \"date\" = DATE '2025-03-01' AND channel_id = 'UCa1b2c3d4e5f6g7h8i9j0kL' "
        "ORDER BY video_id, country_code DESC"
    )
    assert result.rows == [
        # channel-level rows: 10 gained -> 10 - 10 // 3 = 7 and 3; 4 lost -> 3 and 1
        ("", "US", "SUBSCRIBED", 0, 0, 7, 3),
        ("", "GB", "UNSUBSCRIBED", 0, 0, 3, 1),
        # 157 views -> 157 - 52 = 105 and 157 // 3 = 52; 15 likes -> 10 and 5
        (V1, "US", "SUBSCRIBED", 105, 10, None, None),
        (V1, "GB", "UNSUBSCRIBED", 52, 5, None, None),
    ]


# --------------------------------------------------------------------------- conform


def _conformed(
    layout: str, tables: Mapping[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """What `kpiframe sample-data` does: each conform query reads the canonical rows as
    they were, and its rows replace its source."""
    con = encode(PLATFORM, layout, tables)  # stages the rows in kpiframe_canonical
    out = {source: list(rows) for source, rows in tables.items()}
    for source, select in PLATFORM.layout(layout).conform.items():
        tree = parse(select.sql, select.dialect)
        ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if (not table.args.get("db") and table.name in canonical.SOURCES
                    and table.name not in ctes):
                table.set("db", quoted("kpiframe_canonical"))
        result = con.execute(tree.sql(dialect="duckdb", identify=True))
        out[source] = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return out


def _generic(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Canonical rows as the sample generator draws them for any platform: generic post
    types, publication at any time of day, every metric filled, an account row a day."""
    rng = random.Random(seed)
    start = D(2025, 2, 1)
    metrics = ("impressions", "reach", "video_views", "likes", "comments", "shares",
               "saves", "clicks")
    posts, daily = [], []
    for n in range(30):
        channel = rng.choice([CH, CH_2])
        published = T.combine(start, dt.time(rng.randrange(6, 23), rng.randrange(60))) \
            + dt.timedelta(days=rng.randrange(25))
        post_type = rng.choice(["photo", "video", "text", "link", "carousel"])
        days: list[dict[str, Any]] = [
            {"post_id": f"v{n:010d}", "date": published.date() + dt.timedelta(days=age),
             "account_id": channel, "post_type": post_type,
             **{m: rng.randrange(0, 900) for m in metrics}}
            for age in range(rng.randrange(1, 5))
        ]
        daily += days
        posts.append({
            "post_id": f"v{n:010d}", "published_at": published, "account_id": channel,
            "post_type": post_type, "is_paid": False,
            **{m: sum(d[m] for d in days) for m in metrics},
        })
    accounts = [
        {"account_id": channel, "date": start + dt.timedelta(days=d), "followers": 100 + d,
         "followers_gained": rng.randrange(9), "followers_lost": rng.randrange(3)}
        for channel in (CH, CH_2) for d in range(40)
    ]
    return {"posts": posts, "post_daily": daily, "account_daily": accounts}


def test_conform_makes_posts_what_the_report_shows() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "posts": [
            {"post_id": V1, "published_at": T(2025, 3, 1, 15, 30), "account_id": CH,
             "post_type": "photo", "video_views": 999, "likes": 5, "impressions": 70},
            {"post_id": V2, "published_at": T(2025, 3, 2, 9), "account_id": CH,
             "post_type": "video", "video_views": 1},  # no days
        ],
        "post_daily": [
            {"post_id": V1, "date": D(2025, 3, 1), "account_id": "elsewhere",
             "post_type": "photo", "video_views": 10, "likes": 2},
            {"post_id": V1, "date": D(2025, 3, 2), "account_id": CH, "post_type": "photo",
             "video_views": 5, "likes": 3},
            {"post_id": V4, "date": D(2025, 3, 2), "account_id": CH, "post_type": "video",
             "video_views": 5},  # not a post
        ],
    }
    out = _conformed("fivetran", tables)
    assert out["posts"] == [{
        "post_id": V1,
        "published_at": T(2025, 3, 1),  # midnight of its first day
        "account_id": CH, "post_type": "video", "is_paid": None,
        "impressions": 70,  # not provided by the layout: untouched
        "reach": None,
        "video_views": 15,  # 10 + 5, the sum of its days (not 999)
        "likes": 5, "comments": None, "shares": None, "saves": None, "clicks": None,
    }]  # V2 has no days: a layout without the video table cannot show it
    assert sorted((d["post_id"], d["date"], d["account_id"], d["post_type"])
                  for d in out["post_daily"]) == [
        (V1, D(2025, 3, 1), CH, "video"),  # the post's channel
        (V1, D(2025, 3, 2), CH, "video"),
    ]
    with_video = _conformed("fivetran_video", tables)
    assert sorted((p["post_id"], p["published_at"], p["video_views"])
                  for p in with_video["posts"]) == [
        (V1, T(2025, 3, 1, 15, 30), 15),  # the video table keeps the time
        (V2, T(2025, 3, 2, 9), None),  # and knows a video without days
    ]


@pytest.mark.parametrize("layout", ["fivetran", "fivetran_video"])
def test_conformed_generic_rows_round_trip(layout: str) -> None:
    tables = _conformed(layout, _generic(7))
    out = roundtrip(PLATFORM, layout, tables)
    for source in ("posts", "post_daily", "account_daily"):
        assert _provided(out[source], source, layout) == _provided(
            tables[source], source, layout
        ), source


# --------------------------------------------------------------------------- plugin


def test_plugin_registers_through_its_entry_point() -> None:
    registry = load_registry()
    assert registry.platforms["youtube"][0] is PLATFORM
    assert not [f for f in registry.failures if f.plugin == "youtube"]


def test_interactions_and_weights() -> None:
    assert PLATFORM.label == "YouTube"
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions) <= set(canonical.INTERACTIONS)
    assert PLATFORM.interactions["saves"] == "added to playlists"
    assert PLATFORM.weights["shares"] > PLATFORM.weights["likes"]
