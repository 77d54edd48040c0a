"""Two platforms for the core's tests, loaded with `--plugin testplatforms` (not installed).

`alpha` provides every source and field of the canonical layout. `beta` lacks `reach`,
`saves` and the `mentions` source, so tests can see what happens when a platform cannot
provide something. Both read the canonical layout from schemas `alpha` and `beta`.
"""

from __future__ import annotations

from kpiframe import canonical, hookimpl
from kpiframe.platform import Platform, canonical_layout

ALL = {name: list(source.fields) for name, source in canonical.SOURCES.items()}
BETA = {
    name: [f for f in fields if f not in ("reach", "saves")]
    for name, fields in ALL.items()
    if name != "mentions"
}

ALPHA_PLATFORM = Platform(
    name="alpha",
    label="Alpha",
    layouts=[canonical_layout(ALL)],
    interactions={"likes": "hearts", "comments": "replies", "shares": "boosts",
                  "saves": "bookmarks", "clicks": "clicks"},
    weights={"likes": 1, "comments": 2, "shares": 3, "saves": 2, "clicks": 0.5},
)
BETA_PLATFORM = Platform(
    name="beta",
    label="Beta",
    layouts=[canonical_layout(BETA)],
    interactions={"likes": "stars", "comments": "comments", "shares": "reposts",
                  "clicks": "clicks"},
    weights={"likes": 1, "comments": 3, "shares": 5, "clicks": 1},
)


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [ALPHA_PLATFORM, BETA_PLATFORM]
