"""Fixture rows in the export layout in, canonical rows out."""

from __future__ import annotations

import datetime as dt

from kpiframe_bluesky import PLATFORM

from kpiframe.testing import read_source

FEED_POSTS = [
    {"uri": "at://p1", "created_at": dt.datetime(2025, 3, 1, 9), "stats_day": dt.date(2025, 3, 1),
     "author_did": "did:plc:brand", "like_count": 10, "reply_count": 2, "repost_count": 1,
     "quote_count": 1},
    {"uri": "at://p1", "created_at": dt.datetime(2025, 3, 1, 9), "stats_day": dt.date(2025, 3, 2),
     "author_did": "did:plc:brand", "like_count": 4, "reply_count": 0, "repost_count": 0,
     "quote_count": 2},
]


def test_post_daily() -> None:
    rows = read_source(PLATFORM, "post_daily", {"feed_posts": FEED_POSTS}, layout="export")
    assert [(r["date"], r["likes"], r["shares"]) for r in rows] == [
        (dt.date(2025, 3, 1), 10, 2),  # 1 repost + 1 quote
        (dt.date(2025, 3, 2), 4, 2),
    ]
    assert rows[0]["saves"] is None  # Bluesky has no saves


def test_posts_sum_the_days() -> None:
    [post] = read_source(PLATFORM, "posts", {"feed_posts": FEED_POSTS}, layout="export")
    assert (post["post_id"], post["likes"], post["comments"], post["shares"]) == (
        "at://p1", 14, 2, 4)
