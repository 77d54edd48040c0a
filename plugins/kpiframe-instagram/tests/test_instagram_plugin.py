"""Instagram: the Fivetran instagram_business layout and the canonical layout, fixture rows
in, canonical rows out; and the round trip canonical -> encoders -> bindings."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from kpiframe_instagram import PLATFORM
from sqlglot import exp

from kpiframe import canonical
from kpiframe.compiler.sources import parse, quoted
from kpiframe.engines import sqlite as sqlite_engine
from kpiframe.plugins import load_registry
from kpiframe.testing import Fixture, TableData, as_text, encode, provided, read_source, roundtrip

T = dt.datetime
D = dt.date

# Instagram ids are bigints above 2^53 (9007199254740992): through a float they lose digits
USER = 17841400000000001  # 17 digits
USER_2 = 17841400000000019
M1 = 17841405822304914  # feed photo, two media versions and two insight snapshots
M2 = 17841405822304915  # carousel: families filled twice
M3 = 17841405822304916  # reel
M4 = 17841405822304917  # story
M5 = 1800000000000000001  # 19 digits; float(M5) == 1.8e18 exactly, the trap
M6 = 17841405822304918  # no insights yet
M7 = 17841405822304919  # video with views in video_photo_views only
M8 = 17841405822304920  # video with deprecated impressions and video_views only
M9 = 17841405822304999  # insights without any media_history row: not a post

# --------------------------------------------------------------------------- fixtures

MEDIA_HISTORY = Fixture(
    [
        ("_fivetran_id", "text"), ("id", "integer"), ("user_id", "integer"),
        ("created_time", "timestamp"), ("media_type", "text"), ("is_story", "boolean"),
        ("caption", "text"), ("_fivetran_synced", "timestamp"),
    ],
    [
        # M1 was scheduled for 09:00, then published at 09:30: the later version wins
        ["a", M1, USER, T(2025, 5, 1, 9), "IMAGE", False, "soon", T(2025, 5, 1, 8)],
        ["b", M1, USER, T(2025, 5, 1, 9, 30), "IMAGE", False, "live", T(2025, 5, 2, 1)],
        ["c", M2, USER, T(2025, 5, 2, 12), "CAROUSEL_ALBUM", False, None, T(2025, 5, 3)],
        ["d", M3, USER, T(2025, 5, 3, 18), "VIDEO", False, None, T(2025, 5, 4)],
        ["e", M4, USER, T(2025, 5, 4, 7), "IMAGE", True, None, T(2025, 5, 4, 8)],
        ["f", M5, USER_2, T(2025, 1, 15, 12), "VIDEO", None, None, T(2025, 1, 16)],
        ["g", M6, USER, T(2025, 5, 5, 10), "IMAGE", False, None, T(2025, 5, 5, 11)],
        ["h", M7, USER_2, T(2025, 5, 6, 10), "VIDEO", False, None, T(2025, 5, 6, 11)],
        ["i", M8, USER_2, T(2024, 11, 6, 10), "VIDEO", False, None, T(2024, 11, 6, 11)],
    ],
)

INSIGHT_COLUMNS = [
    "id", "_fivetran_synced", "like_count", "comment_count",
    "video_photo_views", "video_photo_impressions", "video_photo_reach",
    "video_photo_shares", "video_photo_saved",
    "carousel_album_views", "carousel_album_reach", "carousel_album_shares",
    "carousel_album_saved",
    "reel_views", "reel_plays", "reel_reach", "reel_shares", "video_views",
    "story_views", "story_impressions", "story_reach", "story_shares",
]

MEDIA_INSIGHTS = Fixture(
    [(c, "timestamp" if c == "_fivetran_synced" else "integer") for c in INSIGHT_COLUMNS],
    [
        # M1: an early snapshot and the latest one (a snapshot has no date, only a sync)
        {"id": M1, "_fivetran_synced": T(2025, 5, 2, 1), "like_count": 10,
         "comment_count": 1, "video_photo_views": 120, "video_photo_reach": 90,
         "video_photo_shares": 1, "video_photo_saved": 2},
        {"id": M1, "_fivetran_synced": T(2025, 5, 5, 1), "like_count": 40,
         "comment_count": 5, "video_photo_views": 500, "video_photo_impressions": 450,
         "video_photo_reach": 300, "video_photo_shares": 4, "video_photo_saved": 6},
        # M2: the connector repeats the feed family in carousel_album_*; reel_* is junk
        # as in the Fivetran seed, which fills every family for every media
        {"id": M2, "_fivetran_synced": T(2025, 5, 4), "like_count": 80, "comment_count": 9,
         "video_photo_views": 900, "carousel_album_views": 900,
         "video_photo_reach": None, "carousel_album_reach": 700, "reel_reach": 999,
         "video_photo_shares": 12, "carousel_album_shares": 12, "reel_shares": 999,
         "video_photo_saved": None, "carousel_album_saved": 30},
        # M3: a reel (equal views in both families in real data; apart here to show
        # which one each field reads)
        {"id": M3, "_fivetran_synced": T(2025, 5, 5), "like_count": 150, "comment_count": 20,
         "video_photo_views": 2000, "reel_views": 2100, "reel_plays": 1,
         "video_photo_reach": None, "reel_reach": 1500, "carousel_album_reach": 999,
         "video_photo_shares": 20, "reel_shares": 21,
         "video_photo_saved": 15, "carousel_album_saved": 99},
        # M4: a story after the views switch but only with the deprecated impressions
        {"id": M4, "_fivetran_synced": T(2025, 5, 5), "like_count": None,
         "comment_count": None, "story_views": None, "story_impressions": 60,
         "story_reach": 50, "story_shares": 2,
         "video_photo_views": 999, "video_photo_saved": 7},
        # M5: before April 2025: only the deprecated impressions and plays
        {"id": M5, "_fivetran_synced": T(2025, 1, 20), "like_count": 33, "comment_count": 3,
         "video_photo_views": None, "video_photo_impressions": 800, "video_photo_reach": 610,
         "reel_views": None, "reel_plays": 650, "video_views": 640, "video_photo_shares": 0,
         "video_photo_saved": 1},
        # M7: a video whose only view count is video_photo_views
        {"id": M7, "_fivetran_synced": T(2025, 5, 7), "like_count": 1, "comment_count": 0,
         "video_photo_views": 300, "reel_views": None},
        # M8: 2024: impressions and the deprecated video_views only
        {"id": M8, "_fivetran_synced": T(2024, 11, 8), "like_count": 2, "comment_count": 0,
         "video_photo_impressions": 90, "video_views": 70},
        {"id": M9, "_fivetran_synced": T(2025, 5, 5), "like_count": 5},
    ],
)

USER_HISTORY = Fixture(
    [
        ("_fivetran_id", "text"), ("id", "integer"), ("followers_count", "integer"),
        ("username", "text"), ("_fivetran_synced", "timestamp"),
    ],
    [
        # two syncs on May 1 (UTC): the later one is the day's count
        ["u1", USER, 1000, "brand", T(2025, 5, 1, 8)],
        ["u2", USER, 1010, "brand", T(2025, 5, 1, 20)],
        # no sync on May 2: no row (agg: last carries May 1's count over)
        ["u3", USER, 1025, "brand", T(2025, 5, 3, 7)],
        # a second account, synced one second before and after midnight UTC
        ["u4", USER_2, 50, "other", T(2025, 5, 2, 23, 59, 59)],
        ["u5", USER_2, 51, "other", T(2025, 5, 3, 0, 0, 1)],
    ],
)

TABLES: dict[str, TableData] = {
    "media_history": MEDIA_HISTORY,
    "media_insights": MEDIA_INSIGHTS,
    "user_history": USER_HISTORY,
}


def _post(post_id: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "platform": "instagram", "post_id": str(post_id), "published_at": None,
        "account_id": str(USER), "post_type": None, "is_paid": None, "impressions": None,
        "reach": None, "video_views": None, "likes": None, "comments": None,
        "shares": None, "saves": None, "clicks": None,
    }
    row.update(fields)
    return row


# rows come ordered by post_id as text: '17841405822304914' ... '1800000000000000001'
EXPECTED_POSTS = [
    _post(
        M1, published_at=T(2025, 5, 1, 9, 30),  # the latest media version
        post_type="IMAGE",
        impressions=500,  # latest snapshot: views 500 preferred over impressions 450
        reach=300, likes=40, comments=5, shares=4, saves=6,  # not the early 10, 1, 1, 2
    ),
    _post(
        M2, published_at=T(2025, 5, 2, 12), post_type="CAROUSEL_ALBUM",
        impressions=900,  # video_photo_views; carousel_album_views (900) is not added
        reach=700,  # video_photo_reach NULL: the carousel family, not reel_reach
        likes=80, comments=9,
        shares=12,  # not 12 + 12
        saves=30,  # video_photo_saved NULL: carousel_album_saved
    ),
    _post(
        M3, published_at=T(2025, 5, 3, 18), post_type="VIDEO",
        impressions=2000,  # video_photo_views
        reach=1500,  # video_photo_reach NULL: the reel family, not carousel_album_reach
        video_views=2100,  # reel_views first
        likes=150, comments=20, shares=20,  # video_photo_shares before reel_shares
        saves=15,  # carousel_album_saved is not a video's family
    ),
    _post(
        M4, published_at=T(2025, 5, 4, 7), post_type="STORY",
        impressions=60,  # story_views NULL: the deprecated story_impressions
        reach=50, shares=2,  # the story family only: video_photo_* is ignored
        saves=None,  # stories have no saves (video_photo_saved 7 is ignored)
    ),
    _post(M6, published_at=T(2025, 5, 5, 10), post_type="IMAGE"),  # no insights: NULL
    _post(
        M7, account_id=str(USER_2), published_at=T(2025, 5, 6, 10), post_type="VIDEO",
        impressions=300, video_views=300,  # reel_views NULL: video_photo_views for both
        likes=1, comments=0,
    ),
    _post(
        M8, account_id=str(USER_2), published_at=T(2024, 11, 6, 10), post_type="VIDEO",
        impressions=90,  # video_photo_impressions
        video_views=70,  # reel_views, video_photo_views, reel_plays NULL: video_views
        likes=2, comments=0,
    ),
    _post(
        M5, account_id=str(USER_2), published_at=T(2025, 1, 15, 12),
        post_type="VIDEO",  # is_story NULL counts as feed
        impressions=800,  # video_photo_views NULL: video_photo_impressions
        reach=610,
        video_views=650,  # reel_views, video_photo_views NULL: reel_plays before video_views
        likes=33, comments=3, shares=0, saves=1,
    ),
]


def _account_day(account: int, day: D, followers: int) -> dict[str, Any]:
    return {
        "platform": "instagram", "account_id": str(account), "date": day,
        "followers": followers, "followers_gained": None, "followers_lost": None,
        "profile_views": None, "impressions": None, "reach": None,
    }


EXPECTED_ACCOUNT_DAILY = [
    _account_day(USER, D(2025, 5, 1), 1010),  # 20:00 beats 08:00 (1000)
    _account_day(USER, D(2025, 5, 3), 1025),
    _account_day(USER_2, D(2025, 5, 2), 50),  # 23:59:59 UTC is still May 2
    _account_day(USER_2, D(2025, 5, 3), 51),
]

EXPECTED: dict[str, list[dict[str, Any]]] = {
    "posts": EXPECTED_POSTS,
    "account_daily": EXPECTED_ACCOUNT_DAILY,
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


@pytest.mark.parametrize("source", ["posts", "account_daily"])
def test_fivetran_source_on_duckdb(source: str) -> None:
    assert read_source(PLATFORM, source, TABLES, layout="fivetran") == EXPECTED[source]


@pytest.mark.parametrize("source", ["posts", "account_daily"])
def test_fivetran_source_on_sqlite(
    source: str, sqlite: sqlite_engine.SQLiteConnection
) -> None:
    rows = read_source(PLATFORM, source, TABLES, layout="fivetran", con=sqlite)
    assert as_text(rows) == as_text(EXPECTED[source])


def test_ids_survive_as_text_when_stored_as_text() -> None:
    """Some warehouses load the ids as strings: the same text comes out."""
    media = [{"id": str(M5), "user_id": str(USER_2), "created_time": T(2025, 1, 15, 12),
              "media_type": "IMAGE", "is_story": False, "_fivetran_synced": T(2025, 1, 16)}]
    insights = Fixture(
        MEDIA_INSIGHTS.columns,
        [{"id": M5, "_fivetran_synced": T(2025, 1, 20), "like_count": 7}],  # a bigint here
    )
    [row] = read_source(
        PLATFORM, "posts", {**TABLES, "media_history": media, "media_insights": insights},
        layout="fivetran",
    )
    assert (row["post_id"], row["account_id"], row["likes"]) == (
        "1800000000000000001", "17841400000000019", 7)


def test_fivetran_layout_shape() -> None:
    layout = PLATFORM.layout("fivetran")
    assert layout.default_schema == "instagram_business"
    # no post_daily: insights are lifetime snapshots without a date
    assert set(layout.sources) == {"posts", "account_daily"}
    assert set(layout.encoders) == {"media_history", "media_insights", "user_history"}
    assert set(layout.sources["account_daily"].fields) == {"account_id", "date", "followers"}
    assert "clicks" not in layout.sources["posts"].fields
    assert "is_paid" not in layout.sources["posts"].fields


# --------------------------------------------------------------------------- canonical


def test_canonical_layout_is_the_default() -> None:
    assert PLATFORM.layout().name == "canonical"
    assert PLATFORM.layout_names == ("canonical", "fivetran")
    assert set(PLATFORM.layout().sources) == set(canonical.SOURCES)
    for source in canonical.SOURCES:  # Instagram fills every canonical field
        expected = set(canonical.SOURCES[source].fields) - {"platform"}
        assert set(PLATFORM.layout().sources[source].fields) == expected


def test_canonical_posts_and_account_daily() -> None:
    posts = [{
        "post_id": "17841405822304914", "published_at": T(2025, 5, 1, 9, 30),
        "account_id": "17841400000000001", "post_type": "REEL", "is_paid": True,
        "impressions": 500, "reach": 300, "video_views": 450, "likes": 40, "comments": 5,
        "shares": 4, "saves": 6, "clicks": 3,
    }]
    accounts = [{
        "account_id": "17841400000000001", "date": D(2025, 5, 1), "followers": 1010,
        "followers_gained": 12, "followers_lost": 2, "profile_views": 30,
        "impressions": 2000, "reach": 1500,
    }]
    tables: dict[str, TableData] = {"posts": posts, "account_daily": accounts}
    assert read_source(PLATFORM, "posts", tables) == [{"platform": "instagram", **posts[0]}]
    assert read_source(PLATFORM, "account_daily", tables) == [
        {"platform": "instagram", **accounts[0]}
    ]


# --------------------------------------------------------------------------- round trip

ROUND_TRIP: dict[str, list[dict[str, Any]]] = {
    "posts": [
        # before the views switch: deprecated columns; after: views columns
        {"post_id": "1800000000000000001", "published_at": T(2025, 3, 1, 10),
         "account_id": "17841400000000001", "post_type": "VIDEO", "impressions": 1000,
         "reach": 800, "video_views": 700, "likes": 50, "comments": 4, "shares": 3,
         "saves": 9},
        {"post_id": "17841405822304914", "published_at": T(2025, 5, 1, 10),
         "account_id": "17841400000000001", "post_type": "VIDEO", "impressions": 1000,
         "reach": 800, "video_views": 700, "likes": 50, "comments": 4, "shares": 3,
         "saves": 9},
        # a video with impressions but no video views (written as deprecated impressions)
        {"post_id": "17841405822304915", "published_at": T(2025, 5, 1, 11),
         "account_id": "17841400000000001", "post_type": "VIDEO", "impressions": 10,
         "reach": None, "video_views": None, "likes": 0, "comments": 0, "shares": 0,
         "saves": 0},
        {"post_id": "17841405822304916", "published_at": T(2025, 5, 2, 10),
         "account_id": "17841400000000001", "post_type": "CAROUSEL_ALBUM",
         "impressions": 333, "reach": 222, "video_views": None, "likes": 11, "comments": 1,
         "shares": 1, "saves": 5},
        {"post_id": "17841405822304917", "published_at": T(2024, 12, 24, 20),
         "account_id": "17841400000000002", "post_type": "STORY", "impressions": 90,
         "reach": 85, "video_views": None, "likes": None, "comments": None, "shares": 1,
         "saves": None},
        {"post_id": "17841405822304918", "published_at": None,
         "account_id": None, "post_type": None, "impressions": None, "reach": None,
         "video_views": None, "likes": None, "comments": None, "shares": None,
         "saves": None},
    ],
    "account_daily": [
        {"account_id": "17841400000000001", "date": D(2025, 5, 1), "followers": 1010,
         "followers_gained": 12},
        {"account_id": "17841400000000001", "date": D(2025, 5, 2), "followers": 1015},
        {"account_id": "17841400000000002", "date": D(2025, 5, 1), "followers": None},
    ],
}


def test_round_trip_gives_back_every_provided_field() -> None:
    out = roundtrip(PLATFORM, "fivetran", ROUND_TRIP)
    assert set(out) == {"posts", "account_daily"}
    for source, rows in ROUND_TRIP.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def _generated(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Random canonical rows that satisfy the module's round-trip conditions."""
    rng = random.Random(seed)
    start = D(2025, 3, 1)
    posts: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for account in ("17841400000000001", "17841400000000002"):
        followers = rng.randrange(100, 10_000)
        for day in range(60):
            gained = rng.randrange(0, 40)
            followers += gained - rng.randrange(0, 20)
            accounts.append({
                "account_id": account, "date": start + dt.timedelta(days=day),
                "followers": followers, "followers_gained": gained,
            })
        for _ in range(25):
            post_type = rng.choice(["IMAGE", "VIDEO", "CAROUSEL_ALBUM", "STORY"])

            def metric(top: int) -> int | None:
                return None if rng.random() < 0.1 else rng.randrange(0, top)

            posts.append({
                "post_id": str(rng.randrange(10**16, 10**19)),
                "published_at": T.combine(start, dt.time(rng.randrange(24)))
                + dt.timedelta(days=rng.randrange(60)),
                "account_id": account, "post_type": post_type,
                "impressions": metric(9000), "reach": metric(7000),
                "video_views": metric(5000) if post_type == "VIDEO" else None,
                "likes": metric(500), "comments": metric(50), "shares": metric(40),
                "saves": None if post_type == "STORY" else metric(60),
            })
    return {"posts": posts, "account_daily": accounts}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_of_generated_data(seed: int) -> None:
    tables = _generated(seed)
    out = roundtrip(PLATFORM, "fivetran", tables)
    for source, rows in tables.items():
        assert _provided(out[source], source) == _provided(rows, source), source


def test_encoder_writes_two_snapshots_and_repeats_families() -> None:
    con = encode(PLATFORM, "fivetran", ROUND_TRIP)
    result = con.execute(
        "SELECT CAST(_fivetran_synced AS DATE), video_photo_views, carousel_album_views, "
        "video_photo_reach, carousel_album_reach, like_count "
        "FROM instagram_business.media_insights WHERE id = '17841405822304916' ORDER BY 1"
    )
    assert result.rows == [
        # an early snapshot, every count halved (333 // 2, 222 // 2, 11 // 2), then the
        # current one; the carousel family repeats the feed family
        (D(2025, 5, 3), 166, 166, 111, 111, 5),
        (D(2025, 5, 4), 333, 333, 222, 222, 11),
    ]
    old = con.execute(
        "SELECT video_photo_views, video_photo_impressions, reel_views, reel_plays, "
        "reel_reach FROM instagram_business.media_insights "
        "WHERE id = '1800000000000000001' ORDER BY _fivetran_synced DESC LIMIT 1"
    )
    # published before April 2025: impressions and plays in the deprecated columns
    assert old.rows == [(None, 1000, None, 700, 800)]


# --------------------------------------------------------------------------- conform


def _conformed(tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """What `kpiframe sample-data` does: each conform query reads the canonical rows as
    they were, and its rows replace its source."""
    con = encode(PLATFORM, "fivetran", tables)  # stages the rows in kpiframe_canonical
    out = {source: list(rows) for source, rows in tables.items()}
    for source, select in PLATFORM.layout("fivetran").conform.items():
        tree = parse(select.sql, select.dialect)
        for table in tree.find_all(exp.Table):
            if not table.args.get("db") and table.name in canonical.SOURCES:
                table.set("db", quoted("kpiframe_canonical"))
        result = con.execute(tree.sql(dialect="duckdb", identify=True))
        out[source] = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return out


def _generic(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Canonical rows as the sample generator draws them for any platform: generic post
    types, a video view count on every post, lifetime totals summing the days."""
    rng = random.Random(seed)
    posts, daily = [], []
    for n in range(40):
        post_type = rng.choice(["photo", "video", "text", "link", "carousel"])
        post_id = str(10**18 + n)
        published = T(2025, 3, 1, 6) + dt.timedelta(hours=rng.randrange(24 * 60))
        days: list[dict[str, Any]] = [
            {"post_id": post_id, "date": published.date() + dt.timedelta(days=age),
             "account_id": "brand", "post_type": post_type,
             **{m: rng.randrange(0, 900) for m in (
                 "impressions", "reach", "likes", "comments", "shares", "saves", "clicks")},
             "video_views": rng.randrange(0, 500) if post_type == "video" else 0}
            for age in range(rng.randrange(1, 4))
        ]
        daily += days
        posts.append({
            "post_id": post_id, "published_at": published, "account_id": "brand",
            "post_type": post_type, "is_paid": rng.random() < 0.1,
            **{m: sum(d[m] for d in days) for m in (
                "impressions", "reach", "video_views", "likes", "comments", "shares",
                "saves", "clicks")},
        })
    accounts = [{"account_id": "brand", "date": D(2025, 3, 1) + dt.timedelta(days=d),
                 "followers": 5000 + d, "followers_gained": 3, "followers_lost": 2,
                 "profile_views": 9, "impressions": 100, "reach": 80} for d in range(65)]
    return {"posts": posts, "post_daily": daily, "account_daily": accounts}


def test_conform_puts_generic_rows_in_instagram_terms() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "posts": [
            {"post_id": "1", "post_type": "photo", "video_views": 0, "saves": 4, "likes": 9},
            {"post_id": "2", "post_type": "video", "video_views": 70, "saves": 1},
            {"post_id": "3", "post_type": "carousel", "video_views": 0, "saves": 2},
            {"post_id": "4", "post_type": "story", "video_views": 5, "saves": 3},
            {"post_id": "5", "post_type": "REEL", "video_views": 8, "saves": 0},
            {"post_id": "6", "post_type": "guide", "video_views": 0, "saves": 1},
        ],
        "post_daily": [
            {"post_id": "1", "date": D(2025, 3, 1), "post_type": "text", "video_views": 0},
        ],
    }
    out = _conformed(tables)
    assert [(p["post_id"], p["post_type"], p["video_views"], p["saves"])
            for p in sorted(out["posts"], key=lambda p: str(p["post_id"]))] == [
        ("1", "IMAGE", None, 4),  # only videos have video views
        ("2", "VIDEO", 70, 1),
        ("3", "CAROUSEL_ALBUM", None, 2),
        ("4", "STORY", None, None),  # stories have no saves either
        ("5", "VIDEO", 8, 0),
        ("6", "guide", None, 1),  # unknown types are kept
    ]
    assert out["posts"][0]["likes"] == 9  # the other fields are untouched
    assert [(d["post_type"], d["video_views"]) for d in out["post_daily"]] == [("IMAGE", None)]


@pytest.mark.parametrize("seed", [1, 2])
def test_conformed_generic_rows_round_trip(seed: int) -> None:
    tables = _conformed(_generic(seed))
    out = roundtrip(PLATFORM, "fivetran", tables)
    for source in ("posts", "account_daily"):
        assert _provided(out[source], source) == _provided(tables[source], source), source


# --------------------------------------------------------------------------- plugin


def test_plugin_registers_through_its_entry_point() -> None:
    registry = load_registry()
    assert registry.platforms["instagram"][0] is PLATFORM
    assert not [f for f in registry.failures if f.plugin == "instagram"]


def test_interactions_and_weights() -> None:
    assert PLATFORM.label == "Instagram"
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions) <= set(canonical.INTERACTIONS)
    assert PLATFORM.interactions["saves"] == "saved"
    assert PLATFORM.weights["shares"] > PLATFORM.weights["likes"]
