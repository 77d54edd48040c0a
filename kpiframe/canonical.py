"""The canonical data model: the sources and fields every KPI is written against.

KPIs never name physical tables. They name these sources; platform plugins say where each
one lives for their platform. Keeping the model here, as plain data, lets the validator,
the compiler, the sample-data generator and `kpiframe plugins` agree on one vocabulary
without any of them knowing a platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "integer", "decimal", "boolean", "date", "timestamp"]
Role = Literal["key", "time", "dimension", "metric", "attribute"]

#: Interaction fields, the ones `weighted` KPIs may weigh.
INTERACTIONS: tuple[str, ...] = ("likes", "comments", "shares", "saves", "clicks")

#: Ids that identify something only together with the platform.
PER_PLATFORM_IDS: frozenset[str] = frozenset({"post_id", "account_id", "mention_id", "message_id"})

#: Dimensions a query may group by (`--by`), wherever a source has them.
DIMENSIONS: tuple[str, ...] = (
    "platform",
    "account_id",
    "post_type",
    "is_paid",
    "brand",
    "is_own_brand",
    "sentiment",
    "landing_page",
)


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    role: Role
    description: str = ""
    #: False for counts of people (reach) and rates: summing them over-counts.
    additive: bool = True
    #: True for end-of-period snapshots (followers): sum them over time and you multiply.
    snapshot: bool = False

    @property
    def per_platform(self) -> bool:
        """An id that names something only on its own platform (post 123 on X is not post
        123 on Facebook): counting distinct values counts (platform, id) pairs."""
        return self.name in PER_PLATFORM_IDS

    @property
    def interaction(self) -> bool:
        return self.name in INTERACTIONS


@dataclass(frozen=True)
class Source:
    name: str
    key: tuple[str, ...]
    time: str
    fields: Mapping[str, Field]
    description: str = ""

    @property
    def entity(self) -> tuple[str, ...]:
        """The key without its time field: what `agg: last` takes one value of per period."""
        return tuple(k for k in self.key if k != self.time)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.fields.items() if f.role == "dimension")

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.fields.items() if f.role == "metric")

    @property
    def interactions(self) -> tuple[str, ...]:
        return tuple(n for n in self.fields if n in INTERACTIONS)


def _source(
    name: str,
    key: tuple[str, ...],
    time: str,
    description: str,
    *fields: Field,
) -> Source:
    platform = Field("platform", "text", "dimension", "the platform the row comes from")
    all_fields = (platform, *fields)
    return Source(name, key, time, {f.name: f for f in all_fields}, description)


def _post_metrics(when: str) -> tuple[Field, ...]:
    return (
        Field("impressions", "integer", "metric", f"times the post was displayed {when}"),
        Field(
            "reach",
            "integer",
            "metric",
            f"unique accounts that saw the post {when}",
            additive=False,
        ),
        Field("video_views", "integer", "metric", f"video views {when}"),
        Field("likes", "integer", "metric", f"likes, favourites, reactions, +1s {when}"),
        Field("comments", "integer", "metric", f"comments and replies {when}"),
        Field("shares", "integer", "metric", f"shares, retweets, reposts and quotes {when}"),
        Field("saves", "integer", "metric", f"saves, bookmarks and pin saves {when}"),
        Field("clicks", "integer", "metric", f"link and post clicks {when}"),
    )


SOURCES: Mapping[str, Source] = {
    s.name: s
    for s in (
        _source(
            "posts",
            ("platform", "post_id"),
            "published_at",
            "One row per post, with lifetime totals as of the latest sync.",
            Field("post_id", "text", "key", "the post's id on its platform"),
            Field("published_at", "timestamp", "time", "publication time (UTC)"),
            Field("account_id", "text", "dimension", "the account that published it"),
            Field("post_type", "text", "dimension", "photo, video, text, story, reel..."),
            Field("is_paid", "boolean", "dimension", "promoted or boosted"),
            *_post_metrics("over the post's lifetime"),
        ),
        _source(
            "post_daily",
            ("platform", "post_id", "date"),
            "date",
            "One row per post and day: that day's increments.",
            Field("post_id", "text", "key", "the post's id on its platform"),
            Field("date", "date", "time", "the day the activity happened"),
            Field("account_id", "text", "dimension", "the account that published the post"),
            Field("post_type", "text", "dimension", "photo, video, text, story, reel..."),
            *_post_metrics("on that day"),
        ),
        _source(
            "account_daily",
            ("platform", "account_id", "date"),
            "date",
            "One row per account and day.",
            Field("account_id", "text", "dimension", "the account"),
            Field("date", "date", "time", "the day"),
            Field(
                "followers",
                "integer",
                "metric",
                "followers at the end of the day (a snapshot)",
                snapshot=True,
            ),
            Field("followers_gained", "integer", "metric", "new followers that day"),
            Field("followers_lost", "integer", "metric", "followers lost that day"),
            Field("profile_views", "integer", "metric", "profile visits that day"),
            Field("impressions", "integer", "metric", "impressions of the account's content"),
            Field(
                "reach",
                "integer",
                "metric",
                "unique accounts reached that day",
                additive=False,
            ),
        ),
        _source(
            "mentions",
            ("platform", "mention_id"),
            "mentioned_at",
            "One row per mention of a tracked brand (own or competitor) by anyone.",
            Field("mention_id", "text", "key", "the mention's id"),
            Field("mentioned_at", "timestamp", "time", "when it was posted (UTC)"),
            Field("brand", "text", "dimension", "the tracked brand mentioned"),
            Field("is_own_brand", "boolean", "dimension", "the brand is ours, not a competitor"),
            Field("sentiment", "text", "dimension", "positive, neutral or negative"),
            Field("sentiment_score", "decimal", "metric", "-1 (negative) to 1 (positive)",
                  additive=False),
            Field(
                "author_followers",
                "integer",
                "metric",
                "followers of the mention's author",
                additive=False,
            ),
        ),
        _source(
            "messages",
            ("platform", "message_id"),
            "received_at",
            "One row per inbound message, comment or mention addressed to an account.",
            Field("message_id", "text", "key", "the message's id"),
            Field("received_at", "timestamp", "time", "when it arrived (UTC)"),
            Field("account_id", "text", "dimension", "the account it was addressed to"),
            Field("needs_response", "boolean", "attribute", "it asks for an answer"),
            Field("responded_at", "timestamp", "attribute", "first reply (NULL: unanswered)"),
            Field(
                "response_seconds",
                "integer",
                "metric",
                "seconds from arrival to first reply (NULL: unanswered)",
                additive=False,
            ),
        ),
        _source(
            "web_sessions",
            ("platform", "date", "landing_page"),
            "date",
            "Website sessions referred by a social platform, per day and landing page.",
            Field("date", "date", "time", "the day"),
            Field("landing_page", "text", "dimension", "the page the session started on"),
            Field("sessions", "integer", "metric", "sessions referred by the platform"),
            Field("new_users", "integer", "metric", "first-time visitors among them"),
            Field("goal_completions", "integer", "metric", "goals completed in those sessions"),
            Field("conversions", "integer", "metric", "conversions in those sessions"),
            Field("revenue", "decimal", "metric", "revenue from those sessions"),
        ),
    )
}


def source_of(name: str) -> Source | None:
    return SOURCES.get(name)
