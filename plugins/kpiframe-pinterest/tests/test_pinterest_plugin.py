"""Pinterest's canonical layout: fixture rows in, canonical rows out."""

from __future__ import annotations

import datetime as dt

from kpiframe_pinterest import PLATFORM

from kpiframe import canonical
from kpiframe.plugins import load_registry
from kpiframe.testing import read_source


def test_posts_read_through_the_canonical_layout() -> None:
    rows = read_source(
        PLATFORM,
        "posts",
        {
            "posts": [
                {
                    "post_id": "1055599903451234567", "published_at": dt.datetime(2024, 3, 1, 9),
                    "account_id": "brand", "post_type": "video", "is_paid": False,
                    "impressions": 12000, "reach": 9000,  # no per-pin reach: ignored
                    "video_views": 3100, "likes": 45, "comments": 6,
                    "shares": 80,  # a repin is a save: ignored, not counted twice
                    "saves": 80, "clicks": 210,
                }
            ]
        },
    )
    assert rows == [
        {
            "platform": "pinterest", "post_id": "1055599903451234567",
            "published_at": dt.datetime(2024, 3, 1, 9), "account_id": "brand",
            "post_type": "video", "is_paid": False, "impressions": 12000, "reach": None,
            "video_views": 3100, "likes": 45, "comments": 6, "shares": None, "saves": 80,
            "clicks": 210,
        }
    ]


def test_account_daily_read_through_the_canonical_layout() -> None:
    rows = read_source(
        PLATFORM,
        "account_daily",
        {
            "account_daily": [
                {
                    "account_id": "brand", "date": dt.date(2024, 3, 2), "followers": 5400,
                    "followers_gained": 12, "followers_lost": 3, "profile_views": 77,
                    "impressions": 40000, "reach": 31000,
                },
                {
                    "account_id": "brand", "date": dt.date(2024, 3, 1), "followers": 5391,
                    "followers_gained": 9, "followers_lost": 1, "profile_views": 70,
                    "impressions": 38000, "reach": 30000,
                },
            ]
        },
    )
    assert rows == [
        {
            "platform": "pinterest", "account_id": "brand", "date": dt.date(2024, 3, 1),
            "followers": 5391, "followers_gained": 9, "followers_lost": None,
            "profile_views": 70, "impressions": 38000, "reach": None,
        },
        {
            "platform": "pinterest", "account_id": "brand", "date": dt.date(2024, 3, 2),
            "followers": 5400, "followers_gained": 12, "followers_lost": None,
            "profile_views": 77, "impressions": 40000, "reach": None,
        },
    ]


def test_web_sessions_read_through_the_canonical_layout() -> None:
    rows = read_source(
        PLATFORM,
        "web_sessions",
        {
            "web_sessions": [
                {
                    "date": dt.date(2024, 3, 1), "landing_page": "/spring", "sessions": 140,
                    "new_users": 90, "goal_completions": 12, "conversions": 4,
                    "revenue": 212.5,
                }
            ]
        },
    )
    assert rows == [
        {
            "platform": "pinterest", "date": dt.date(2024, 3, 1), "landing_page": "/spring",
            "sessions": 140, "new_users": 90, "goal_completions": 12, "conversions": 4,
            "revenue": 212.5,
        }
    ]


def test_layout_covers_every_source_with_what_pinterest_has() -> None:
    assert PLATFORM.layout_names == ("canonical",)
    sources = PLATFORM.layout().sources
    assert set(sources) == set(canonical.SOURCES)
    assert "shares" not in sources["posts"].fields
    assert "reach" not in sources["posts"].fields
    assert "saves" in sources["post_daily"].fields


def test_interactions_and_weights() -> None:
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions) <= set(canonical.INTERACTIONS)
    assert PLATFORM.weights["saves"] == 3.0  # a save is Pinterest's share


def test_plugin_registers_through_its_entry_point() -> None:
    registry = load_registry()
    assert registry.platforms["pinterest"][0] is PLATFORM
    assert not [f for f in registry.failures if f.plugin == "pinterest"]
