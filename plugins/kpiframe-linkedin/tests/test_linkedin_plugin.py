"""LinkedIn: the Fivetran linkedin_company_pages layout and the canonical layout, fixture rows
in, canonical rows out; and the round trip canonical -> encoders -> bindings."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from kpiframe_linkedin import PLATFORM

from kpiframe import canonical
from kpiframe.engines import sqlite as sqlite_engine
from kpiframe.plugins import load_registry
from kpiframe.testing import Fixture, TableData, as_text, encode, provided, read_source, roundtrip

T = dt.datetime
D = dt.date

ORG = 2414183  # organization ids: 5 to 8-digit integers
ORG_2 = 10441
ORG_3 = 99999

# 19-digit post ids, above 2^53: through a float they lose their last digits
S1 = 6999999999999999991  # a share (bigint id)
U1 = 7015970832908775001  # UGC posts, spelled as URNs in ugc_post_history
U2 = 7015970832908775002
U3 = 7015970832908775003
U4 = 7015970832908775004
U5 = 7015970832908775005
U6 = 7015970832908775006


def ugc(n: int) -> str:
    return f"urn:li:ugcPost:{n}"


def share(n: int) -> str:
    return f"urn:li:share:{n}"


def org(n: int) -> str:
    return f"urn:li:organization:{n}"


# --------------------------------------------------------------------------- fixtures

HISTORY_COLUMNS = [
    ("author", "text"), ("created_time", "timestamp"), ("first_published_at", "timestamp"),
    ("last_modified_time", "timestamp"), ("lifecycle_state", "text"),
    ("_fivetran_synced", "timestamp"),
]

UGC_POST_HISTORY = Fixture(
    [("id", "text"), *HISTORY_COLUMNS],
    [
        # U1: the draft was re-synced after the published version; versions are ordered by
        # last_modified_time, so the PUBLISHED one is the latest
        [ugc(U1), org(ORG), T(2024, 3, 1, 9), None, T(2024, 3, 1, 9), "DRAFT",
         T(2024, 3, 5)],
        [ugc(U1), org(ORG), T(2024, 3, 1, 9), T(2024, 3, 1, 10), T(2024, 3, 1, 10),
         "PUBLISHED", T(2024, 3, 2)],
        # U2: a UGC post spelled as a share URN, edited after publication, no
        # first_published_at
        [share(U2), org(ORG_2), T(2024, 3, 2, 8), None, T(2024, 3, 3), "PUBLISHED_EDITED",
         T(2024, 3, 3)],
        # U3: published, then deleted: left out
        [ugc(U3), org(ORG), T(2024, 3, 3), T(2024, 3, 3), T(2024, 3, 3), "PUBLISHED",
         T(2024, 3, 3)],
        [ugc(U3), org(ORG), T(2024, 3, 3), T(2024, 3, 3), T(2024, 3, 4), "DELETED",
         T(2024, 3, 4)],
        # U4: a draft only: left out
        [ugc(U4), org(ORG), T(2024, 3, 4), None, T(2024, 3, 4), "DRAFT", T(2024, 3, 4)],
        # U5, U6: a member's posts, without an organization bridge row
        [ugc(U5), "urn:li:person:AbC123", T(2024, 3, 5), T(2024, 3, 5, 12),
         T(2024, 3, 5, 12), "PUBLISHED", T(2024, 3, 6)],
        [ugc(U6), "urn:li:person:xYz789", T(2024, 3, 6), T(2024, 3, 6, 12),
         T(2024, 3, 6, 12), "PUBLISHED", T(2024, 3, 7)],
    ],
)

SHARE_HISTORY = Fixture(
    [("id", "integer"), *HISTORY_COLUMNS],
    [
        [S1, org(555), T(2024, 2, 1), None, T(2024, 2, 1), "PROCESSING", T(2024, 2, 1)],
        [S1, org(555), T(2024, 2, 1), T(2024, 2, 1, 14), T(2024, 2, 10), "PUBLISHED",
         T(2024, 2, 10)],
        # the same id as the UGC post U1: the UGC post is kept
        [U1, org(ORG), T(2024, 3, 1), T(2024, 3, 1), T(2024, 3, 1), "PUBLISHED",
         T(2024, 3, 1)],
    ],
)

ORGANIZATION_UGC_POST = Fixture(
    [("organization_id", "integer"), ("ugc_post_id", "text")],
    [
        [ORG, share(U1)],  # another spelling than ugc_post_history's
        [ORG_3, ugc(U1)],  # a second organization: the smaller id as text, '2414183'
        [ORG, ugc(U3)],
    ],
)

ORGANIZATION_SHARE = Fixture(
    [("organization_id", "integer"), ("share_id", "integer")],
    [[ORG_2, S1]],
)

UGC_POST_SHARE_STATISTIC = Fixture(
    [("ugc_post_id", "integer"), ("share_statistic_id", "text"),
     ("_fivetran_synced", "timestamp")],
    [
        # U1: three snapshots; the bridge row synced last names the current one
        [U1, "st-a", T(2024, 3, 2)],
        [U1, "st-b", T(2024, 3, 6)],
        [U1, "st-c", T(2024, 3, 4)],
        [U2, "st-d", T(2024, 3, 3)],
        [U5, "st-e", T(2024, 3, 6)],
    ],
)

SHARE_SHARE_STATISTIC = Fixture(
    [("share_id", "integer"), ("share_statistic_id", "text"),
     ("_fivetran_synced", "timestamp")],
    [
        [S1, "st-f", T(2024, 2, 11)],
        [S1, "st-g", T(2024, 2, 12)],
        [U1, "st-h", T(2024, 3, 10)],  # the share twin of U1: not used
    ],
)

SHARE_STATISTIC = Fixture(
    [
        ("_fivetran_id", "text"), ("_organization_entity_urn", "text"),
        ("impression_count", "integer"), ("click_count", "integer"),
        ("like_count", "integer"), ("comment_count", "integer"), ("share_count", "integer"),
        ("engagement", "decimal"), ("_fivetran_synced", "timestamp"),
    ],
    [
        # st-a is U1's oldest snapshot but the statistics table synced it last
        ["st-a", org(ORG), 100, 3, 10, 1, 0, 0.14, T(2024, 3, 9)],
        ["st-b", org(ORG), 400, 12, 25, 4, 2, 0.1075, T(2024, 3, 6)],
        ["st-c", org(ORG), 250, 8, 20, 2, 1, 0.124, T(2024, 3, 4)],
        ["st-d", org(ORG_2), 50, 1, -1, 0, 0, 0.0, T(2024, 3, 3)],  # likes can be < 0
        ["st-e", org(ORG), 70, 2, 5, 1, 0, 0.114, T(2024, 3, 6)],
        ["st-f", org(ORG_2), 500, 10, 30, 2, 3, 0.09, T(2024, 2, 11)],
        ["st-g", org(ORG_2), 900, 30, 60, 5, 7, 0.113, T(2024, 2, 12)],
        ["st-h", org(ORG), 1, 1, 1, 1, 1, 4.0, T(2024, 3, 10)],
    ],
)

POST_CONTENT = Fixture(
    [("_fivetran_id", "text"), ("post_id", "text"), ("type", "text")],
    [
        ["c1", ugc(U1), "article"],
        ["c2", share(U2), "multi_image"],
        ["c3", ugc(U5), "poll"],
    ],
)

SHARE_CONTENT = Fixture(
    [("_fivetran_id", "text"), ("share_id", "integer"), ("type", "text")],
    [["c4", S1, "image"], ["c5", U1, "text"]],
)

TABLES: dict[str, TableData] = {
    "ugc_post_history": UGC_POST_HISTORY,
    "share_history": SHARE_HISTORY,
    "organization_ugc_post": ORGANIZATION_UGC_POST,
    "organization_share": ORGANIZATION_SHARE,
    "ugc_post_share_statistic": UGC_POST_SHARE_STATISTIC,
    "share_share_statistic": SHARE_SHARE_STATISTIC,
    "share_statistic": SHARE_STATISTIC,
    "post_content": POST_CONTENT,
    "share_content": SHARE_CONTENT,
}


def _post(post_id: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "platform": "linkedin", "post_id": str(post_id), "published_at": None,
        "account_id": None, "post_type": None, "is_paid": None, "impressions": None,
        "reach": None, "video_views": None, "likes": None, "comments": None,
        "shares": None, "saves": None, "clicks": None,
    }
    row.update(fields)
    return row


# ordered by post_id as text: '6999...' first
EXPECTED_POSTS = [
    _post(
        S1, published_at=T(2024, 2, 1, 14),  # the latest version (PUBLISHED)
        account_id=str(ORG_2),  # organization_share wins over the author (555)
        post_type="image",
        impressions=900, likes=60, comments=5, shares=7, clicks=30,  # st-g, synced last
    ),
    _post(
        U1, published_at=T(2024, 3, 1, 10),  # first_published_at of the PUBLISHED version
        account_id=str(ORG),  # min('2414183', '99999') as text
        post_type="article",  # post_content, not the twin share's 'text'
        impressions=400, likes=25, comments=4, shares=2, clicks=12,  # st-b, not st-a/st-h
    ),
    _post(
        U2, published_at=T(2024, 3, 2, 8),  # no first_published_at: created_time
        account_id=str(ORG_2),  # no bridge row: the author's organization
        post_type="multi_image",
        impressions=50, likes=-1, comments=0, shares=0, clicks=1,
    ),
    _post(
        U5, published_at=T(2024, 3, 5, 12),
        account_id=str(ORG),  # a member author: the statistics' organization
        post_type="poll",
        impressions=70, likes=5, comments=1, shares=0, clicks=2,
    ),
    _post(
        U6, published_at=T(2024, 3, 6, 12),
        account_id="urn:li:person:xYz789",  # nothing else known: the author URN
    ),
]

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


def test_fivetran_posts_on_duckdb() -> None:
    assert read_source(PLATFORM, "posts", TABLES, layout="fivetran") == EXPECTED_POSTS


def test_fivetran_posts_on_sqlite(sqlite: sqlite_engine.SQLiteConnection) -> None:
    rows = read_source(PLATFORM, "posts", TABLES, layout="fivetran", con=sqlite)
    assert as_text(rows) == as_text(EXPECTED_POSTS)


def test_every_id_spelling_meets() -> None:
    """One post, four spellings: URN in the history, another URN in the organization
    bridge, a bigint in the statistics bridge, a text id in post_content."""
    tables: dict[str, TableData] = {
        **TABLES,
        "ugc_post_history": Fixture(
            UGC_POST_HISTORY.columns,
            [[ugc(U3), None, T(2024, 3, 3), None, T(2024, 3, 3), "PUBLISHED", T(2024, 3, 3)]],
        ),
        "organization_ugc_post": [{"organization_id": ORG_2, "ugc_post_id": share(U3)}],
        "ugc_post_share_statistic": Fixture(
            UGC_POST_SHARE_STATISTIC.columns, [[U3, "st-d", T(2024, 3, 3)]]
        ),
        "post_content": [{"_fivetran_id": "c", "post_id": str(U3), "type": "video"}],
        "share_history": Fixture(SHARE_HISTORY.columns, []),
    }
    assert read_source(PLATFORM, "posts", tables, layout="fivetran") == [
        _post(U3, published_at=T(2024, 3, 3), account_id=str(ORG_2), post_type="video",
              impressions=50, likes=-1, comments=0, shares=0, clicks=1),
    ]


def test_fivetran_layout_shape() -> None:
    layout = PLATFORM.layout("fivetran")
    assert layout.default_schema == "linkedin_company_pages"
    # lifetime statistics only and no follower tables: no post_daily, no account_daily
    assert set(layout.sources) == {"posts"}
    assert set(layout.encoders) == {
        "ugc_post_history", "share_history", "organization_ugc_post", "organization_share",
        "ugc_post_share_statistic", "share_share_statistic", "share_statistic",
        "post_content", "share_content",
    }
    assert set(layout.sources["posts"].fields) == {
        "post_id", "published_at", "account_id", "post_type",
        "impressions", "likes", "comments", "shares", "clicks",
    }


# --------------------------------------------------------------------------- canonical


def test_canonical_layout_is_the_default() -> None:
    assert PLATFORM.layout().name == "canonical"
    assert PLATFORM.layout_names == ("canonical", "fivetran")
    assert set(PLATFORM.layout().sources) == set(canonical.SOURCES)
    assert "saves" not in PLATFORM.layout().sources["posts"].fields
    assert "followers_lost" not in PLATFORM.layout().sources["account_daily"].fields


def test_canonical_posts_and_account_daily() -> None:
    posts = [{
        "post_id": str(U1), "published_at": T(2024, 3, 1, 10), "account_id": str(ORG),
        "post_type": "article", "is_paid": False, "impressions": 400, "reach": 300,
        "video_views": None, "likes": -1, "comments": 4, "shares": 2,
        "saves": 9,  # LinkedIn has no saves: ignored
        "clicks": 12,
    }]
    accounts = [{
        "account_id": str(ORG), "date": D(2024, 3, 1), "followers": 5000,
        "followers_gained": 12,
        "followers_lost": 3,  # not reported by LinkedIn: ignored
        "profile_views": 40, "impressions": 900, "reach": 700,
    }]
    tables: dict[str, TableData] = {"posts": posts, "account_daily": accounts}
    assert read_source(PLATFORM, "posts", tables) == [
        {"platform": "linkedin", **posts[0], "saves": None}
    ]
    assert read_source(PLATFORM, "account_daily", tables) == [
        {"platform": "linkedin", **accounts[0], "followers_lost": None}
    ]


# --------------------------------------------------------------------------- round trip

ROUND_TRIP: dict[str, list[dict[str, Any]]] = {
    "posts": [
        # ids ending in 0-9 cover both kinds (2, 5, 8: shares) and both URN spellings
        {"post_id": str(7015970832908775000 + i),
         "published_at": None if i == 3 else T(2024, 3, 1 + i, 10),
         "account_id": None if i == 4 else str(ORG if i % 2 else ORG_2),
         "post_type": [None, "article", "image", "poll", "text", "video", "multi_image",
                       "article", "poll", "document"][i],
         "impressions": 100 * i, "likes": i - 2,  # negative likes survive
         "comments": i, "shares": 2 * i, "clicks": None if i == 6 else 3 * i}
        for i in range(10)
    ],
}


def test_round_trip_gives_back_every_provided_field() -> None:
    out = roundtrip(PLATFORM, "fivetran", ROUND_TRIP)
    assert set(out) == {"posts"}
    assert _provided(out["posts"], "posts") == _provided(ROUND_TRIP["posts"], "posts")


def _generated(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Random canonical rows (the only condition: no URN prefix in an id)."""
    rng = random.Random(seed)
    posts = []
    for _ in range(60):
        def metric(top: int) -> int | None:
            return None if rng.random() < 0.1 else rng.randrange(0, top)

        posts.append({
            "post_id": str(rng.randrange(10**18, 9 * 10**18)),
            "published_at": T(2024, 1, 1) + dt.timedelta(minutes=rng.randrange(500_000)),
            "account_id": rng.choice([str(ORG), str(ORG_2), "12345678"]),
            "post_type": rng.choice(["article", "image", "video", "poll", None]),
            "impressions": metric(20_000), "likes": metric(400) if rng.random() < .9 else -2,
            "comments": metric(40), "shares": metric(30), "clicks": metric(800),
        })
    return {"posts": posts}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_of_generated_data(seed: int) -> None:
    tables = _generated(seed)
    out = roundtrip(PLATFORM, "fivetran", tables)
    assert _provided(out["posts"], "posts") == _provided(tables["posts"], "posts")


def test_encoder_writes_versions_snapshots_and_both_kinds() -> None:
    con = encode(PLATFORM, "fivetran", ROUND_TRIP)
    versions = con.execute(
        "SELECT id, lifecycle_state FROM linkedin_company_pages.ugc_post_history "
        "WHERE id LIKE '%7015970832908775001' ORDER BY last_modified_time"
    )
    # id ending in 1: a UGC post spelled as a share URN; a draft, then the published one
    assert versions.rows == [
        ("urn:li:share:7015970832908775001", "DRAFT"),
        ("urn:li:share:7015970832908775001", "PUBLISHED"),
    ]
    shares = con.execute(
        "SELECT id FROM linkedin_company_pages.share_history "
        "WHERE lifecycle_state = 'PUBLISHED' ORDER BY id"
    )
    assert shares.rows == [  # ids ending in 2, 5, 8
        ("7015970832908775002",), ("7015970832908775005",), ("7015970832908775008",),
    ]
    snapshots = con.execute(
        "SELECT s.impression_count, s.like_count "
        "FROM linkedin_company_pages.ugc_post_share_statistic AS b "
        "JOIN linkedin_company_pages.share_statistic AS s "
        "ON s._fivetran_id = b.share_statistic_id "
        "WHERE b.ugc_post_id = '7015970832908775009' ORDER BY b._fivetran_synced"
    )
    # an early snapshot (900 // 2, 7 // 2), then the current one
    assert snapshots.rows == [(450, 3), (900, 7)]


# --------------------------------------------------------------------------- plugin


def test_plugin_registers_through_its_entry_point() -> None:
    registry = load_registry()
    assert registry.platforms["linkedin"][0] is PLATFORM
    assert not [f for f in registry.failures if f.plugin == "linkedin"]


def test_interactions_and_weights() -> None:
    assert PLATFORM.label == "LinkedIn"
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions) <= set(canonical.INTERACTIONS)
    assert "saves" not in PLATFORM.interactions
    assert PLATFORM.interactions["shares"] == "reshares"
    assert PLATFORM.weights["shares"] > PLATFORM.weights["likes"]
