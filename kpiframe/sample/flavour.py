"""Per-platform flavour: how big, how busy and how viral each platform's sample data is.

Everything here derives from the seed and the platform's *name* through SHA-256, so a
platform nobody has heard of gets its own stable character (audience size, posting rate,
virality, response times...) without the core knowing any platform, and the same seed
gives the same numbers on every machine and Python version (`hash()` is salted, SHA-256
is not).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import astuple, dataclass, fields

#: Generic content types every platform draws from, in its own proportions:
#: (name, is a video, impressions multiplier, engagement multiplier).
POST_TYPES: tuple[tuple[str, bool, float, float], ...] = (
    ("photo", False, 1.0, 1.0),
    ("video", True, 1.35, 1.15),
    ("text", False, 0.7, 0.9),
    ("link", False, 0.6, 0.7),
    ("carousel", False, 1.15, 1.25),
)

OWN_BRAND = "Acme"
COMPETITORS = ("Globex", "Initech", "Umbrella")

#: Landing pages of the (fictional) website; more pages, as `/blog/post-N`, at larger scales.
LANDING_PAGES = ("/", "/pricing", "/blog", "/product", "/signup", "/features", "/about",
                 "/contact")


def unit(seed: int, *parts: str) -> float:
    """A number in [0, 1) determined by the seed and the labels."""
    digest = hashlib.sha256("\x1f".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def seed32(seed: int, *parts: str) -> int:
    """A 32-bit seed for the SQL generator's hash streams."""
    return int(unit(seed, "seed32", *parts) * 2**32)


def between(low: float, high: float, u: float) -> float:
    return low + (high - low) * u


def log_between(low: float, high: float, u: float) -> float:
    return math.exp(between(math.log(low), math.log(high), u))


@dataclass(frozen=True)
class Params:
    """One platform's generation parameters: the one-row `params` table the SQL reads.

    Rates are per day; `scale` is already applied to the counts that grow with it.
    """

    pseed: int
    start_date: dt.date
    ndays: int
    n_accounts: int
    n_pages: int
    id_base: int
    # publishing
    audience: float  # followers of the main account at the start
    post_rate: float  # posts a day by the main account
    weekend_posting: float  # posting on Saturdays and Sundays, relative to weekdays
    weekend: float  # activity (views, follows, visits) at weekends, relative to weekdays
    trend: float  # relative growth of activity over a year
    sigma: float  # virality: sd of log lifetime impressions
    reach_factor: float  # median lifetime impressions of a post per follower
    tau: float  # days in which a post's daily activity falls by a factor e
    horizon: int  # days after publication with activity
    paid_share: float
    paid_boost: float
    like_rate: float
    comment_rate: float
    share_rate: float
    save_rate: float
    click_rate: float
    view_rate: float  # video views per impression of a video
    # audience
    growth: float  # followers gained a day, per follower
    churn: float  # followers lost a day, per follower
    follow_rate: float  # followers gained per impression
    profile_view_rate: float  # profile views a day, per follower
    # listening, care, web
    mention_rate: float  # mentions of tracked brands a day
    author_min: float  # Pareto scale of mention authors' followers
    message_rate: float  # inbound messages a day to the main account
    needs_response: float
    answer_rate: float
    response_median: float  # seconds
    session_rate: float  # referred web sessions a day, all pages
    page_norm: float  # sum of the pages' Zipf weights
    new_user_rate: float
    conversion_rate: float
    order_value: float

    @classmethod
    def columns(cls) -> list[tuple[str, str]]:
        types = {"pseed": "UBIGINT", "start_date": "DATE", "ndays": "BIGINT",
                 "n_accounts": "BIGINT", "n_pages": "BIGINT", "id_base": "BIGINT",
                 "horizon": "BIGINT"}
        return [(f.name, types.get(f.name, "DOUBLE")) for f in fields(cls)]

    def values(self) -> tuple[object, ...]:
        return astuple(self)


def params(seed: int, platform: str, scale: float, start: dt.date, days: int) -> Params:
    def u(label: str) -> float:
        return unit(seed, platform, label)

    tau = between(0.7, 3.0, u("tau"))
    n_pages = max(3, round(5 * scale))
    return Params(
        pseed=seed32(seed, platform),
        start_date=start,
        ndays=days,
        n_accounts=max(1, round((2 + math.floor(3 * u("accounts"))) * scale)),
        n_pages=n_pages,
        id_base=10**18 + math.floor(u("ids") * 7 * 10**17),
        audience=log_between(4_000, 120_000, u("audience")),
        post_rate=between(0.35, 1.1, u("post_rate")),
        weekend_posting=between(0.3, 0.7, u("weekend_posting")),
        weekend=between(0.6, 0.9, u("weekend")),
        trend=between(0.05, 0.4, u("trend")),
        sigma=between(1.3, 1.8, u("sigma")),
        reach_factor=log_between(0.04, 0.3, u("reach_factor")),
        tau=tau,
        horizon=min(14, math.ceil(tau * 4)),
        paid_share=between(0.03, 0.12, u("paid_share")),
        paid_boost=between(2.0, 5.0, u("paid_boost")),
        like_rate=log_between(0.006, 0.035, u("like_rate")),
        comment_rate=log_between(0.0008, 0.006, u("comment_rate")),
        share_rate=log_between(0.0004, 0.006, u("share_rate")),
        save_rate=log_between(0.0004, 0.005, u("save_rate")),
        click_rate=log_between(0.002, 0.015, u("click_rate")),
        view_rate=between(0.25, 0.6, u("view_rate")),
        growth=log_between(0.00025, 0.0007, u("growth")),
        churn=log_between(0.0001, 0.00022, u("churn")),
        follow_rate=log_between(0.0001, 0.0006, u("follow_rate")),
        profile_view_rate=log_between(0.002, 0.01, u("profile_view_rate")),
        mention_rate=between(2.5, 7, u("mention_rate")) * scale,
        author_min=log_between(20, 120, u("author_min")),
        message_rate=between(0.8, 2.5, u("message_rate")),
        needs_response=between(0.55, 0.8, u("needs_response")),
        answer_rate=between(0.72, 0.95, u("answer_rate")),
        response_median=log_between(1_200, 4 * 3_600, u("response_median")),
        session_rate=log_between(60, 500, u("session_rate")) * scale,
        page_norm=math.fsum(1 / (rank + 1) for rank in range(n_pages)),
        new_user_rate=between(0.45, 0.8, u("new_user_rate")),
        conversion_rate=log_between(0.008, 0.04, u("conversion_rate")),
        order_value=log_between(30, 150, u("order_value")),
    )


def post_types(seed: int, platform: str) -> list[tuple[str, float, float, bool, float, float]]:
    """(post_type, lo, hi, is_video, boost, engage): each type's slice of [0, 1)."""
    weights = [0.15 + unit(seed, platform, "type", name) ** 2 for name, *_ in POST_TYPES]
    total = math.fsum(weights)
    rows, lo = [], 0.0
    for (name, video, boost, engage), weight in zip(POST_TYPES, weights, strict=True):
        hi = lo + weight / total
        rows.append((name, lo, hi, video, boost, engage))
        lo = hi
    rows[-1] = (*rows[-1][:2], 1.0, *rows[-1][3:])
    return rows


def brands(seed: int, platform: str) -> list[tuple[str, bool, float, float, float, float]]:
    """(brand, is_own, lo, hi, positive, negative): each brand's share of the mentions and
    its sentiment mix. Two or three competitors, the same ones on every platform."""
    count = 2 + math.floor(2 * unit(seed, "competitors"))
    names = [OWN_BRAND, *COMPETITORS[:count]]
    own = between(0.2, 0.45, unit(seed, platform, "own_share"))
    weights = [0.5 + unit(seed, platform, "brand", name) for name in names[1:]]
    total = math.fsum(weights)
    shares = [own, *((1 - own) * w / total for w in weights)]
    rows, lo = [], 0.0
    for index, (name, share) in enumerate(zip(names, shares, strict=True)):
        hi = 1.0 if index == len(names) - 1 else lo + share
        positive = between(0.25, 0.5, unit(seed, platform, "positive", name))
        negative = between(0.08, 0.25, unit(seed, platform, "negative", name))
        rows.append((name, index == 0, lo, hi, positive, negative))
        lo = hi
    return rows
