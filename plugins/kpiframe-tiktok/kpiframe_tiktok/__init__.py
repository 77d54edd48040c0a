"""TikTok as a kpiframe platform.

TikTok has no Fivetran layout, so it reads the canonical layout only. TikTok's
API reports no link clicks on organic videos, so `clicks` is absent (NULL), and its
"favourites" are saves.
"""

from __future__ import annotations

import kpiframe
from kpiframe.platform import Platform, canonical_layout, default_weights

__version__ = "0.1.0"

INTERACTIONS = {
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saves": "favourites",
}

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
    interactions=INTERACTIONS,
    weights=default_weights(INTERACTIONS),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
