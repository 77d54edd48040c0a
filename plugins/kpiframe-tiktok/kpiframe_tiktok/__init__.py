"""TikTok as a kpiframe platform.

TikTok has no Fivetran layout in SPEC §4, so it reads the canonical layout only. TikTok's
API reports no link clicks on organic videos, so `clicks` is absent (NULL), and its
"favourites" are saves.
"""

from __future__ import annotations

import kpiframe
from kpiframe.platform import Platform, canonical_layout

__version__ = "0.1.0"

POST_FIELDS = [
    "post_id", "account_id", "post_type", "is_paid",
    "impressions", "reach", "video_views", "likes", "comments", "shares", "saves",
]

PLATFORM = Platform(
    name="tiktok",
    label="TikTok",
    description="TikTok business accounts",
    layouts=[
        canonical_layout(
            {
                "posts": ["published_at", *POST_FIELDS],
                "post_daily": ["date", *POST_FIELDS[:3], *POST_FIELDS[4:]],
                "account_daily": [
                    "account_id", "date", "followers", "followers_gained", "followers_lost",
                    "profile_views", "impressions", "reach",
                ],
                "mentions": [
                    "mention_id", "mentioned_at", "brand", "is_own_brand", "sentiment",
                    "sentiment_score", "author_followers",
                ],
                "messages": [
                    "message_id", "received_at", "account_id", "needs_response",
                    "responded_at", "response_seconds",
                ],
                "web_sessions": [
                    "date", "landing_page", "sessions", "new_users", "goal_completions",
                    "conversions", "revenue",
                ],
            }
        ),
    ],
    interactions={
        "likes": "likes",
        "comments": "comments",
        "shares": "shares",
        "saves": "favourites",
    },
    # a share carries the video to a new audience; a favourite signals intent to rewatch
    weights={"likes": 1.0, "comments": 2.0, "shares": 3.0, "saves": 2.0},
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
