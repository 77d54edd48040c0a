"""Pinterest as a kpiframe platform.

Pinterest has no Fivetran layout, so it reads the canonical layout only.

What Pinterest can fill (its analytics API, DOMAIN.md's vocabulary):

- `likes` are reactions on a pin, `comments` its comments, `saves` its saves (repins),
  `clicks` pin clicks plus outbound clicks, `video_views` video views.
- `shares` is absent (NULL): the only "share" Pinterest counts is a save to another
  board (a repin), which is already `saves`; mapping it to both would count every repin
  twice in a sum of interactions.
- `reach` is absent: Pinterest reports unique audiences only for whole months, never per
  pin or per day, and a monthly figure cannot be a daily non-additive count.
- `followers_lost` is absent: Pinterest reports new followers but not lost ones.
"""

from __future__ import annotations

import kpiframe
from kpiframe.platform import Platform, canonical_layout, default_weights

__version__ = "0.1.0"

INTERACTIONS = {
    "likes": "reactions",
    "comments": "comments",
    "saves": "saves",
    "clicks": "pin and outbound clicks",
}

PLATFORM = Platform(
    name="pinterest",
    label="Pinterest",
    description="Pinterest business accounts: pins and account activity",
    layouts=[
        canonical_layout(
            lacks={
                "posts": ["reach", "shares"],
                "post_daily": ["reach", "shares"],
                "account_daily": ["followers_lost", "reach"],
            },
        ),
    ],
    interactions=INTERACTIONS,
    # a save (repin) is Pinterest's share: it puts the pin before the saver's followers,
    # so it weighs what a share weighs elsewhere (3, not the baseline 2)
    weights=default_weights(INTERACTIONS, saves=3.0),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
