"""The oracle: SPEC §2 semantics written again, in plain Python, over the fixture rows.

Nothing here looks at kpiframe's SQL. Each KPI of catalog.yaml is restated as Python
(what to aggregate, how to combine), and `expected()` computes a whole answer: periods,
dimension keys, values. The oracle tests assert that every engine returns exactly this.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
#: the date parts extract accepts
DATE_PARTS = ("year", "quarter", "month", "week", "day", "dow", "doy", "hour", "minute",
              "second")
Getter = Callable[[str], Any]

TIME = {"posts": "published_at", "post_daily": "date", "account_daily": "date",
        "mentions": "mentioned_at", "messages": "received_at", "web_sessions": "date"}
ENTITY = {"posts": ("platform", "post_id"), "post_daily": ("platform", "post_id"),
          "account_daily": ("platform", "account_id"), "mentions": ("platform", "mention_id"),
          "messages": ("platform", "message_id"),
          "web_sessions": ("platform", "landing_page")}
DIMS = {
    "posts": {"platform", "account_id", "post_type", "is_paid"},
    "post_daily": {"platform", "account_id", "post_type"},
    "account_daily": {"platform", "account_id"},
    "mentions": {"platform", "brand", "is_own_brand", "sentiment"},
    "messages": {"platform", "account_id"},
    "web_sessions": {"platform", "landing_page"},
}
INTERACTIONS = ("likes", "comments", "shares", "saves", "clicks")
PLUGIN_WEIGHTS = {
    "alpha": {"likes": 1, "comments": 2, "shares": 3, "saves": 2, "clicks": 0.5},
    "beta": {"likes": 1, "comments": 3, "shares": 5, "clicks": 1},
}

# -- SQL NULL arithmetic -----------------------------------------------------------------


def add(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


def sub(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def mul(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a * b


def sdiv(a: Any, b: Any) -> Any:
    """Safe division: NULL on either side or a zero denominator gives NULL."""
    return None if a is None or b is None or b == 0 else a / b


def coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


# -- calendar ----------------------------------------------------------------------------


def day_of(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def trunc(day: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def add_duration(day: dt.date, count: int, unit: str) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=count)
    if unit == "week":
        return day + dt.timedelta(days=7 * count)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    return add_months(day, months * count)


def next_period(day: dt.date, grain: str, n: int = 1) -> dt.date:
    return {
        "day": lambda: day + dt.timedelta(days=n),
        "week": lambda: day + dt.timedelta(days=7 * n),
        "month": lambda: add_months(day, n),
        "quarter": lambda: add_months(day, 3 * n),
        "year": lambda: add_months(day, 12 * n),
    }[grain]()


# -- KPIs --------------------------------------------------------------------------------


@dataclass
class Simple:
    source: str
    agg: str
    expr: Callable[[Row], Any] | None = None
    filter: Callable[[Row], Any] | None = None
    platforms: set[str] | None = None
    fill: float | None = None


@dataclass
class Weighted:
    source: str
    weights: dict[str, float] = field(default_factory=dict)
    platform_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    fill: float | None = None
    counted: tuple[str, ...] | None = None

    def weight(self, platform: str, interaction: str) -> float:
        own = self.platform_weights.get(platform, {})
        if interaction in own:
            return own[interaction]
        if interaction in self.weights:
            return self.weights[interaction]
        return PLUGIN_WEIGHTS[platform].get(interaction, 1.0)

    def interactions(self, platform: str) -> Sequence[str]:
        """What `weights` names (all five when it names none), plus this platform's
        platform_weights."""
        base = list(self.counted or self.weights) or list(INTERACTIONS)
        return base + [k for k in self.platform_weights.get(platform, {}) if k not in base]


@dataclass
class Ratio:
    numerator: str
    denominator: str
    scale: float | None = None
    average_over: str | None = None
    fill: float | None = None


@dataclass
class Derived:
    refs: tuple[str, ...]
    fn: Callable[[Getter], Any]
    fill: float | None = None


@dataclass
class Cumulative:
    of: str
    window: tuple[int, str] | None = None
    grain_to_date: str | None = None
    fill: float | None = None


@dataclass
class Change:
    of: str
    offset: int | tuple[int, str] = 1
    calc: str = "difference"
    fill: float | None = None


Kpi = Simple | Weighted | Ratio | Derived | Cumulative | Change


def _field(name: str) -> Callable[[Row], Any]:
    return lambda r: r[name]


def like(value: str | None, pattern: str | None, ignore_case: bool = False) -> bool | None:
    """SQL LIKE as kpiframe defines it: `%` any run of characters, `_` exactly one, every
    other character itself (no escape character); ILIKE folds case first."""
    if value is None or pattern is None:
        return None
    if ignore_case:
        value, pattern = value.lower(), pattern.lower()
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def extract(part: str, value: dt.date | dt.datetime | None) -> int | None:
    """A date part as a whole number: dow 0 = Sunday, week the ISO week, second without
    its fraction, and a date's hour, minute and second 0."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return {
        "year": moment.year, "quarter": (moment.month - 1) // 3 + 1, "month": moment.month,
        "week": moment.isocalendar()[1], "day": moment.day, "dow": moment.isoweekday() % 7,
        "doy": moment.timetuple().tm_yday, "hour": moment.hour, "minute": moment.minute,
        "second": moment.second,
    }[part]


def _extract(part: str, name: str) -> Callable[[Row], Any]:
    return lambda r: extract(part, r[name])


def _when(condition: bool | None, then: Any) -> Any:
    return then if condition else None


KPIS: dict[str, Kpi] = {
    "posts_published": Simple("posts", "count"),
    "paid_posts": Simple("posts", "count", filter=lambda r: r["is_paid"]),
    "likes": Simple("post_daily", "sum", _field("likes")),
    "likes_filled": Simple("post_daily", "sum", _field("likes"), fill=0),
    "likes_alpha": Simple("post_daily", "sum", _field("likes"), platforms={"alpha"}),
    "impressions": Simple("post_daily", "sum", _field("impressions")),
    "avg_impressions": Simple("post_daily", "avg", _field("impressions")),
    "avg_row_like_rate": Simple("post_daily", "avg",
                                lambda r: sdiv(r["likes"], r["impressions"])),
    "likes_mod_impressions": Simple("post_daily", "sum", lambda r: None
                                    if r["likes"] is None or not r["impressions"]
                                    else r["likes"] % r["impressions"]),
    "max_post_likes": Simple("posts", "max", _field("likes")),
    "min_daily_clicks": Simple("post_daily", "min", _field("clicks")),
    # a post is (platform, post_id): the same id on two platforms is two posts
    "active_posts": Simple("post_daily", "count_distinct",
                           lambda r: None if r["post_id"] is None
                           else (r["platform"], r["post_id"])),
    "video_likes": Simple("post_daily", "sum",
                          lambda r: r["likes"] if r["post_type"] == "video" else 0,
                          filter=lambda r: r["post_type"] is not None),
    "followers": Simple("account_daily", "last", _field("followers")),
    "followers_gained": Simple("account_daily", "sum", _field("followers_gained")),
    "followers_lost": Simple("account_daily", "sum", _field("followers_lost")),
    "net_follower_growth": Derived(("followers_gained", "followers_lost"),
                                   lambda v: sub(v("followers_gained"), v("followers_lost"))),
    "lifetime_likes": Simple("posts", "last", _field("likes")),
    "engagement": Weighted("post_daily"),
    "engagement_custom": Weighted("post_daily", {"likes": 1, "comments": 2, "shares": 4},
                                  {"beta": {"shares": 10}, "alpha": {"saves": 5}}),
    "engagement_at_defaults": Weighted("post_daily", platform_weights={"beta": {"likes": 2}},
                                       counted=("likes", "shares", "clicks")),
    "engagement_rate": Ratio("engagement", "impressions", 100),
    "post_likes": Simple("posts", "sum", _field("likes")),
    "post_reach": Simple("posts", "max", _field("reach")),
    "avg_like_rate": Ratio("post_likes", "post_reach", 100, average_over="post_id"),
    "call": Derived(("likes",), lambda v: mul(v("likes"), 2)),
    "select": Derived(("call", "likes"), lambda v: sub(v("call"), v("likes"))),
    "engagement_per_post": Derived(("engagement", "posts_published"),
                                   lambda v: sdiv(v("engagement"), v("posts_published"))),
    "likes_share": Derived(
        ("likes_alpha", "likes"),
        lambda v: None if (x := sdiv(mul(coalesce(v("likes_alpha"), 0), 100), v("likes")))
        is None else round(x, 4),
    ),
    "mentions": Simple("mentions", "count"),
    "own_mentions": Simple("mentions", "count", filter=lambda r: r["is_own_brand"]),
    "share_of_voice": Ratio("own_mentions", "mentions", 100),
    "messages_needing_response": Simple("messages", "count",
                                        filter=lambda r: r["needs_response"]),
    "messages_answered": Simple("messages", "count", filter=lambda r: r["needs_response"]
                                and r["responded_at"] is not None),
    "response_rate": Ratio("messages_answered", "messages_needing_response", 100),
    "avg_response_seconds": Simple("messages", "avg", _field("response_seconds")),
    "sessions": Simple("web_sessions", "sum", _field("sessions")),
    "conversions": Simple("web_sessions", "sum", _field("conversions")),
    "conversion_rate": Ratio("conversions", "sessions", 100),
    "revenue": Simple("web_sessions", "sum", _field("revenue")),
    "likes_7d": Cumulative("likes", window=(7, "day")),
    "likes_2w": Cumulative("likes", window=(2, "week")),
    "likes_1m": Cumulative("likes", window=(1, "month")),
    "likes_mtd": Cumulative("likes", grain_to_date="month"),
    "likes_qtd": Cumulative("likes", grain_to_date="quarter"),
    "likes_all_time": Cumulative("likes"),
    "posts_all_time": Cumulative("posts_published"),
    "engagement_7d": Cumulative("engagement", window=(7, "day")),
    "follower_growth_rate": Change("followers", 1, "percent"),
    "likes_change": Change("likes", 1, "difference"),
    "likes_vs_month_ago": Change("likes", (1, "month"), "ratio"),
    "likes_vs_week_ago": Change("likes", (7, "day"), "percent"),
    "engagement_rate_change": Change("engagement_rate", 1, "difference"),
    "posts_change_2": Change("posts_published", 2, "difference"),
    "likes_all_time_change": Change("likes_all_time", 1, "difference"),
    "likes_change_change": Change("likes_change", 1, "difference"),
    # LIKE is case-sensitive everywhere; ILIKE is not; only % and _ are wildcards
    "upper_case_posts": Simple("posts", "count", filter=lambda r: like(r["post_id"], "P%")),
    # NOT LIKE was once compiled as LIKE: a NULL id is neither (three-valued logic)
    "not_upper_case_posts": Simple("posts", "count", filter=lambda r: bool(
        like(r["post_id"], "P%") is False
        and like(r["post_id"], "p1%", ignore_case=True) is False)),
    "p0_posts_any_case": Simple("posts", "count",
                                filter=lambda r: like(r["post_id"], "P0%", ignore_case=True)),
    "underscore_post_days": Simple("post_daily", "count",
                                   filter=lambda r: like(r["post_id"], "p_1%")),
    "bracket_posts": Simple("posts", "count", filter=lambda r: like(r["post_id"], "%[6]*?")),
    "backslash_posts": Simple("posts", "count", filter=lambda r: like(r["post_id"], "p\\10%")),
    "self_matching_posts": Simple("posts", "count", filter=lambda r: like(
        r["post_id"], r["post_id"]) and like(r["post_id"].upper(), r["post_id"], True)),
    "upper_id_posts": Simple("posts", "count",
                             filter=lambda r: like(r["post_id"], r["post_id"].upper())),
    "video_likes_ilike": Simple("post_daily", "sum", lambda r: r["likes"] if like(
        r["post_type"], "%VID%", True) else _when(like(r["post_type"], "%O%"), -1)),
    **{f"published_{part}": Simple("posts", "sum", _extract(part, "published_at"))
       for part in DATE_PARTS},
    **{f"post_day_{part}": Simple("post_daily", "sum", _extract(part, "date"))
       for part in DATE_PARTS},
}


def refs(kpi: Kpi) -> tuple[str, ...]:
    if isinstance(kpi, Ratio):
        return (kpi.numerator, kpi.denominator)
    if isinstance(kpi, Derived):
        return kpi.refs
    if isinstance(kpi, (Cumulative, Change)):
        return (kpi.of,)
    return ()


def leaves(name: str) -> list[str]:
    kpi = KPIS[name]
    if isinstance(kpi, (Simple, Weighted)):
        return [name]
    return [leaf for ref in refs(kpi) for leaf in leaves(ref)]


def has_change(name: str) -> bool:
    kpi = KPIS[name]
    return isinstance(kpi, Change) or any(has_change(r) for r in refs(kpi))


# -- a request and its answer --------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    kpis: tuple[str, ...]
    grain: str | None = None
    by: tuple[str, ...] = ()
    where_sql: str | None = None
    where: Callable[[Row], bool] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    platforms: tuple[str, ...] | None = None


class Oracle:
    def __init__(self, data: dict[str, dict[str, list[Row]]], request: Request) -> None:
        self.req = request
        self.grain = request.grain
        closure = {leaf for name in request.kpis for leaf in leaves(name)}
        scans: dict[str, set[str] | None] = {}
        for leaf in sorted(closure):
            kpi = KPIS[leaf]
            assert isinstance(kpi, (Simple, Weighted))
            platforms = kpi.platforms if isinstance(kpi, Simple) else None
            if kpi.source not in scans:
                scans[kpi.source] = set(platforms) if platforms is not None else None
            elif scans[kpi.source] is not None:
                current = scans[kpi.source]
                scans[kpi.source] = None if platforms is None else (current or set()) | platforms
        # every row of each scan: platform chosen, --where applied, nothing after --to
        self.rows: dict[str, list[Row]] = {}
        for source, allowed in scans.items():
            rows = []
            for platform, tables in sorted(data.items()):
                if request.platforms is not None and platform not in request.platforms:
                    continue
                if allowed is not None and platform not in allowed:
                    continue
                for raw in tables.get(source, []):
                    row = {"platform": platform, **raw}
                    row["_day"] = day_of(row[TIME[source]])
                    if request.end is not None and row["_day"] > request.end:
                        continue
                    if request.where is not None and not request.where(row):
                        continue
                    rows.append(row)
            self.rows[source] = rows
        in_range = [r for rows in self.rows.values() for r in rows if self.in_range(r)]
        days = [r["_day"] for r in in_range]
        self.last_day = request.end or (max(days) if days else None)
        self.first_day = request.start or (min(days) if days else None)
        self.keys = sorted({tuple(r[d] for d in request.by) for r in in_range}, key=_sort_key)
        if not request.by:
            self.keys = [()]

    def in_range(self, row: Row) -> bool:
        return self.req.start is None or row["_day"] >= self.req.start

    # -- rows of one cell --------------------------------------------------------------

    def cell_rows(self, source: str, period: dt.date | None, key: tuple[Any, ...],
                  whole: bool) -> list[Row]:
        out = []
        for row in self.rows[source]:
            if tuple(row[d] for d in self.req.by) != key:
                continue
            if period is not None and trunc(row["_day"], self.grain or "day") != period:
                continue
            if not whole and not self.in_range(row):
                continue
            out.append(row)
        return out

    @staticmethod
    def aggregate(kpi: Simple | Weighted, rows: list[Row]) -> Any:
        if isinstance(kpi, Weighted):
            total = None
            for row in rows:
                combo = sum(kpi.weight(row["platform"], i) * (row[i] or 0)
                            for i in kpi.interactions(row["platform"]))
                total = combo if total is None else total + combo
            return total
        chosen = [r for r in rows if (kpi.platforms is None or r["platform"] in kpi.platforms)
                  and (kpi.filter is None or kpi.filter(r))]
        if kpi.agg == "count":
            if kpi.expr is None:
                return len(chosen)
            return sum(1 for r in chosen if kpi.expr(r) is not None)
        values = [(r, kpi.expr(r)) for r in chosen] if kpi.expr else []
        present = [(r, v) for r, v in values if v is not None]
        if kpi.agg == "count_distinct":
            return len({v for _, v in present})
        if not present:
            return None
        numbers = [v for _, v in present]
        if kpi.agg == "sum":
            return sum(numbers)
        if kpi.agg == "avg":
            return sum(numbers) / len(numbers)
        if kpi.agg == "min":
            return min(numbers)
        if kpi.agg == "max":
            return max(numbers)
        assert kpi.agg == "last"
        source_time = TIME[kpi.source]
        entity = ENTITY[kpi.source]
        # per entity, the value at its latest time; of rows tied there, the largest
        latest: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        for r, v in present:
            ident = tuple(r[k] for k in entity)
            if r[source_time] is None:
                continue
            if ident not in latest or (r[source_time], v) > latest[ident]:
                latest[ident] = (r[source_time], v)
        return sum(v for _, v in latest.values()) if latest else None

    # -- values --------------------------------------------------------------------------

    def value(self, name: str, period: dt.date | None, key: tuple[Any, ...],
              whole: bool = False) -> Any:
        kpi = KPIS[name]
        result = self._value(kpi, period, key, whole)
        if result is None and kpi.fill is not None:
            return kpi.fill
        return result

    def _value(self, kpi: Kpi, period: dt.date | None, key: tuple[Any, ...],
               whole: bool) -> Any:
        if isinstance(kpi, (Simple, Weighted)):
            return self.aggregate(kpi, self.cell_rows(kpi.source, period, key, whole))
        if isinstance(kpi, Ratio):
            if kpi.average_over:
                result = self.average(kpi, period, key, whole)
            else:
                result = sdiv(self.value(kpi.numerator, period, key, whole),
                              self.value(kpi.denominator, period, key, whole))
            return mul(result, kpi.scale) if kpi.scale is not None else result
        if isinstance(kpi, Derived):
            return kpi.fn(lambda ref: self.value(ref, period, key, whole))
        if isinstance(kpi, Cumulative):
            return self.cumulative(kpi, period, key)
        assert isinstance(kpi, Change)
        assert period is not None and self.grain is not None
        before = self.earlier(period, kpi.offset)
        now = self.value(kpi.of, period, key, whole)
        then = self.value(kpi.of, before, key, True)
        if kpi.calc == "difference":
            return sub(now, then)
        if kpi.calc == "ratio":
            return sdiv(now, then)
        return mul(sdiv(sub(now, then), then), 100)

    def earlier(self, period: dt.date, offset: int | tuple[int, str]) -> dt.date:
        assert self.grain is not None
        if isinstance(offset, int):
            return next_period(period, self.grain, -offset)
        count, unit = offset
        return trunc(add_duration(period, -count, unit), self.grain)

    def average(self, kpi: Ratio, period: dt.date | None, key: tuple[Any, ...],
                whole: bool) -> Any:
        num, den = KPIS[kpi.numerator], KPIS[kpi.denominator]
        assert isinstance(num, (Simple, Weighted)) and isinstance(den, (Simple, Weighted))
        assert kpi.average_over is not None
        ident = ("platform", kpi.average_over)
        num_rows = self.cell_rows(num.source, period, key, whole)
        den_rows = self.cell_rows(den.source, period, key, whole)
        entities = sorted({tuple(r[k] for k in ident) for r in num_rows}, key=_sort_key)
        ratios = []
        for entity in entities:
            mine = [r for r in num_rows if tuple(r[k] for k in ident) == entity]
            theirs = [r for r in den_rows if tuple(r[k] for k in ident) == entity]
            ratio = sdiv(self.aggregate(num, mine),
                         self.aggregate(den, theirs) if theirs else None)
            if ratio is not None:
                ratios.append(ratio)
        return sum(ratios) / len(ratios) if ratios else None

    def cumulative(self, kpi: Cumulative, period: dt.date | None, key: tuple[Any, ...]) -> Any:
        inner = KPIS[kpi.of]
        assert isinstance(inner, (Simple, Weighted))
        if self.last_day is None:
            return None
        if period is None:
            as_of = self.last_day
        else:
            assert self.grain is not None
            as_of = min(next_period(period, self.grain) - dt.timedelta(days=1), self.last_day)
        if kpi.window is not None:
            count, unit = kpi.window
            first = add_duration(as_of, -count, unit) + dt.timedelta(days=1)
        elif kpi.grain_to_date is not None:
            first = trunc(as_of, kpi.grain_to_date)
        else:
            first = dt.date.min
        rows = [r for r in self.rows[inner.source]
                if tuple(r[d] for d in self.req.by) == key and first <= r["_day"] <= as_of]
        if not rows:
            return None
        return self.aggregate(inner, rows)

    # -- the answer ----------------------------------------------------------------------

    def periods(self) -> list[dt.date | None]:
        if self.grain is None:
            return [None]
        if self.first_day is None or self.last_day is None:
            return []
        out: list[dt.date | None] = []
        period = trunc(self.first_day, self.grain)
        while period <= trunc(self.last_day, self.grain):
            out.append(period)
            period = next_period(period, self.grain)
        return out

    def expected(self) -> list[Row]:
        rows = []
        for period in self.periods():
            for key in self.keys:
                row: Row = {}
                if self.grain is not None:
                    row["period"] = period
                row.update(dict(zip(self.req.by, key, strict=True)))
                for name in self.req.kpis:
                    row[name] = self.value(name, period, key)
                rows.append(row)
        return rows


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if v is not None else 0) for v in key)


def expected(data: dict[str, dict[str, list[Row]]], request: Request) -> list[Row]:
    return Oracle(data, request).expected()
