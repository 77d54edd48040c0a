"""TikTok as a kpiframe platform.

TikTok has no Fivetran layout in SPEC §4, so it reads the canonical layout only. TikTok's
API reports no link clicks on organic videos, so `clicks` is absent (NULL), and its
"favourites" are saves.
"""

from __future__ import annotations

import kpiframe
from kpiframe.platform import Platform, canonical_layout

__version__ = "0.1.0"

PLATFORM = Platform(
    name="tiktok",
    label="TikTok",
    description="TikTok business accounts",
    layouts=[
        canonical_layout(
            lacks={
                "posts": ["clicks"],
                "post_daily": ["clicks"],
            },
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
