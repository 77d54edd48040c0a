"""TikTok's canonical layout: fixture rows in, canonical rows out."""

from __future__ import annotations

import datetime as dt

from kpiframe_tiktok import PLATFORM

from kpiframe.testing import read_source


def test_posts_read_through_the_canonical_layout() -> None:
    rows = read_source(
        PLATFORM,
        "posts",
        {
            "posts": [
                {
                    "post_id": "7301", "published_at": dt.datetime(2024, 3, 1, 18, 30),
                    "account_id": "brand", "post_type": "video", "is_paid": False,
                    "impressions": 5200, "reach": 4100, "video_views": 4900,
                    "likes": 310, "comments": 12, "shares": 40, "saves": 22,
                    "clicks": 999,  # TikTok has no clicks: the column is ignored
                }
            ]
        },
    )
    assert rows == [
        {
            "platform": "tiktok", "post_id": "7301",
            "published_at": dt.datetime(2024, 3, 1, 18, 30),
            "account_id": "brand", "post_type": "video", "is_paid": False,
            "impressions": 5200, "reach": 4100, "video_views": 4900,
            "likes": 310, "comments": 12, "shares": 40, "saves": 22, "clicks": None,
        }
    ]


def test_platform_declares_no_clicks() -> None:
    assert "clicks" not in PLATFORM.layout("canonical").sources["posts"].fields
    assert set(PLATFORM.weights) <= set(PLATFORM.interactions)
