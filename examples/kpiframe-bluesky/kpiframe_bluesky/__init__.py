"""Bluesky as a kpiframe platform: the canonical layout, plus the layout of a
(hypothetical) nightly export with one table of posts and their daily stats."""

from __future__ import annotations

from kpiframe import hookimpl
from kpiframe.platform import Layout, Platform, Select, Table, canonical_layout, default_weights

__version__ = "0.1.0"

EXPORT = Layout(
    name="export",
    default_schema="bsky_export",
    description="the nightly export: feed_posts (one row per post and day)",
    sources={
        # one row per post and day, already daily increments: map the columns
        "post_daily": Table(
            table="feed_posts",
            columns={
                "post_id": "CAST(uri AS TEXT)",
                "date": "CAST(stats_day AS DATE)",
                "account_id": "author_did",
                "likes": "like_count",
                "comments": "reply_count",
                "shares": "repost_count + quote_count",
            },
        ),
        # lifetime totals: one row per post, summed over its days
        "posts": Select(
            """
            SELECT CAST(uri AS TEXT) AS post_id,
                   MIN(created_at) AS published_at,
                   MIN(author_did) AS account_id,
                   SUM(like_count) AS likes,
                   SUM(reply_count) AS comments,
                   SUM(repost_count + quote_count) AS shares
            FROM feed_posts
            GROUP BY CAST(uri AS TEXT)
            """
        ),
    },
)

INTERACTIONS = {"likes": "likes", "comments": "replies", "shares": "reposts and quotes"}

PLATFORM = Platform(
    name="bluesky",
    label="Bluesky",
    layouts=[
        canonical_layout({
            "posts": ["post_id", "published_at", "account_id", "likes", "comments", "shares"],
            "post_daily": ["post_id", "date", "account_id", "likes", "comments", "shares"],
            "account_daily": ["account_id", "date", "followers", "followers_gained"],
        }),
        EXPORT,
    ],
    interactions=INTERACTIONS,
    # the house baseline for what Bluesky has: a like 1, a reply 2, a repost 3
    weights=default_weights(INTERACTIONS),
)


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
