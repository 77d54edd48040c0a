"""Facebook Pages as a kpiframe platform.

Two layouts:

`canonical` (the default): one table per canonical source. Facebook has no saves,
so `saves` is absent (NULL); reactions of every kind are `likes`.

`fivetran`: the raw tables of Fivetran's Facebook Pages connector, default
schema `facebook_pages`. It reads three tables:

- `post_history` (versions of each post: page, publication time, type, share count);
- `lifetime_post_metrics_total` (one lifetime snapshot per post and day, repeated daily);
- `daily_page_metrics_total` (daily page metrics; `page_fans` is an end-of-day snapshot).

Mapping decisions:

- `post_history` is deduplicated to its latest version per post by `_fivetran_synced`;
  `lifetime_post_metrics_total` to its latest snapshot per post by `date` (pitfall 8).
- Ids are cast to text, never through a float. A post without any `post_history` row takes
  its page from the part of its composite id (`<page>_<post>`) before the `_`.
- Day timestamps (`date`, stored at e.g. 07:00 UTC) become calendar dates by the "nearest
  UTC midnight" approximation Fivetran documents: the date of `date + 12 hours`, exact
  for pages whose UTC offset is in (-12 h, +12 h].
  It is written `DATE_ADD(date, INTERVAL 12 HOUR)`, which sqlglot 30 prints correctly for
  DuckDB, SQLite and PostgreSQL but as a two-argument `DATE_ADD` that Spark rejects.
- `likes` is the sum of the six `post_reactions_*_total` columns (like, love, wow, haha,
  sorry, anger), a NULL column counting 0 (the Fivetran rollup counts only "like").
- `impressions` prefers `post_media_view` (Meta's "views", a float, rounded to an integer
  only after differencing) and falls back to `post_impressions`, which Meta stopped
  filling in November 2025. Views are not exactly impressions.
- `posts`: one row per post found in either table; `published_at` (`created_time`),
  `account_id` (`page_id`), `post_type` (`status_type`) and `shares` (`share_count`) from
  the latest version; impressions, video_views (`post_video_views`), likes and clicks
  (`post_clicks`) from the latest snapshot (NULL when there is none). `is_paid`,
  `reach`, `comments` and `saves` are NULL: this layout has no column for them.
- `post_daily`: the lifetime snapshots differenced day over day, each raw column on its
  own before the views-over-impressions preference, so the switch between the two columns
  makes no false jump. A post's first snapshot contributes its full value (so the days add
  up to the latest snapshot, and activity before the connector started lands on the first
  day); a missing day puts two days of growth on the next snapshot; nothing guarantees
  snapshots never decrease, so an increment can be negative. Only impressions,
  video_views, likes and clicks are provided.
- `account_daily` (native): followers (`page_fans`), followers_gained (`page_fan_adds`),
  followers_lost (`page_fan_removes`), profile_views (`page_views_total`), impressions
  (`page_media_view`, falling back to `page_impressions`). The fans columns stop filling in
  November 2025 as well; `reach` is NULL.

Encoders (`kpiframe sample-data`) write canonical rows in this layout: `post_history` (one
version per post) from `posts`; `lifetime_post_metrics_total` as running totals of
`post_daily` per post, at 07:00 UTC, likes split over the like, love and haha reactions,
`post_impressions` on every day and `post_media_view` from 2025-06-01 on (an assumed start
of Meta's views metric), so reading exercises the fallback without losing exactness;
`daily_page_metrics_total` from `account_daily` the same way.

The round trip canonical -> encoders -> bindings gives back every field this layout
provides exactly when the canonical rows satisfy:

1. A post's lifetime impressions, video_views, likes and clicks equal the sum of its
   `post_daily` rows (NULL when it has none).
2. Every `post_daily` post is in `posts`, with the same `account_id` and `post_type`, and
   `posts.account_id` is not NULL.
3. In `post_daily`, `likes` is never NULL, and each of impressions, video_views and clicks
   is NULL on all of a post's rows or on none (a running total cannot carry a NULL day).

What cannot round-trip: `post_daily` comments and shares (the lifetime table has neither;
`share_count` is a single current value), and anything in `is_paid`, `reach`, `comments`
or `saves`.
"""

from __future__ import annotations

import kpiframe
from kpiframe.layouts import conform_posts_to_days
from kpiframe.platform import (
    Layout,
    Platform,
    Select,
    Table,
    canonical_layout,
    default_weights,
)

__version__ = "0.1.0"

CANONICAL = canonical_layout(
    lacks={
        "posts": ["saves"],
        "post_daily": ["saves"],
    },
)

# --------------------------------------------------------------------------- reading

POSTS = Select(
    """
    WITH post_versions AS (
        SELECT
            CAST(id AS TEXT) AS post_id,
            CAST(page_id AS TEXT) AS page_id,
            created_time,
            status_type,
            share_count,
            ROW_NUMBER() OVER (
                PARTITION BY CAST(id AS TEXT) ORDER BY _fivetran_synced DESC
            ) AS version_rank
        FROM post_history
    ),
    latest_post AS (
        SELECT post_id, page_id, created_time, status_type, share_count
        FROM post_versions
        WHERE version_rank = 1
    ),
    snapshots AS (
        SELECT
            CAST(post_id AS TEXT) AS post_id,
            post_media_view,
            post_impressions,
            post_video_views,
            post_clicks,
            COALESCE(post_reactions_like_total, 0)
                + COALESCE(post_reactions_love_total, 0)
                + COALESCE(post_reactions_wow_total, 0)
                + COALESCE(post_reactions_haha_total, 0)
                + COALESCE(post_reactions_sorry_total, 0)
                + COALESCE(post_reactions_anger_total, 0) AS reactions,
            ROW_NUMBER() OVER (
                PARTITION BY CAST(post_id AS TEXT) ORDER BY "date" DESC
            ) AS snapshot_rank
        FROM lifetime_post_metrics_total
    ),
    latest_snapshot AS (
        SELECT post_id, post_media_view, post_impressions, post_video_views, post_clicks,
            reactions
        FROM snapshots
        WHERE snapshot_rank = 1
    ),
    all_posts AS (
        SELECT post_id FROM latest_post
        UNION
        SELECT post_id FROM latest_snapshot
    )
    SELECT
        k.post_id AS post_id,
        p.created_time AS published_at,
        COALESCE(
            p.page_id,
            CASE
                WHEN STRPOS(k.post_id, '_') > 1
                THEN SUBSTRING(k.post_id, 1, STRPOS(k.post_id, '_') - 1)
            END
        ) AS account_id,
        p.status_type AS post_type,
        COALESCE(CAST(ROUND(m.post_media_view) AS BIGINT), m.post_impressions) AS impressions,
        m.post_video_views AS video_views,
        m.reactions AS likes,
        p.share_count AS shares,
        m.post_clicks AS clicks
    FROM all_posts AS k
    LEFT JOIN latest_post AS p
        ON p.post_id = k.post_id
    LEFT JOIN latest_snapshot AS m
        ON m.post_id = k.post_id
    """
)

POST_DAILY = Select(
    """
    WITH post_versions AS (
        SELECT
            CAST(id AS TEXT) AS post_id,
            CAST(page_id AS TEXT) AS page_id,
            status_type,
            ROW_NUMBER() OVER (
                PARTITION BY CAST(id AS TEXT) ORDER BY _fivetran_synced DESC
            ) AS version_rank
        FROM post_history
    ),
    latest_post AS (
        SELECT post_id, page_id, status_type
        FROM post_versions
        WHERE version_rank = 1
    ),
    snapshots AS (
        SELECT
            CAST(post_id AS TEXT) AS post_id,
            "date" AS snapshot_time,
            CAST(DATE_ADD("date", INTERVAL 12 HOUR) AS DATE) AS metric_day,
            post_media_view,
            post_impressions,
            post_video_views,
            post_clicks,
            COALESCE(post_reactions_like_total, 0)
                + COALESCE(post_reactions_love_total, 0)
                + COALESCE(post_reactions_wow_total, 0)
                + COALESCE(post_reactions_haha_total, 0)
                + COALESCE(post_reactions_sorry_total, 0)
                + COALESCE(post_reactions_anger_total, 0) AS reactions
        FROM lifetime_post_metrics_total
    ),
    changes AS (
        -- each raw column against the previous snapshot of the same post
        SELECT
            post_id,
            metric_day,
            ROW_NUMBER() OVER (PARTITION BY post_id ORDER BY snapshot_time) AS snapshot_seq,
            post_media_view,
            LAG(post_media_view) OVER (PARTITION BY post_id ORDER BY snapshot_time)
                AS previous_media_view,
            post_impressions,
            LAG(post_impressions) OVER (PARTITION BY post_id ORDER BY snapshot_time)
                AS previous_impressions,
            post_video_views,
            LAG(post_video_views) OVER (PARTITION BY post_id ORDER BY snapshot_time)
                AS previous_video_views,
            post_clicks,
            LAG(post_clicks) OVER (PARTITION BY post_id ORDER BY snapshot_time)
                AS previous_clicks,
            reactions,
            LAG(reactions) OVER (PARTITION BY post_id ORDER BY snapshot_time)
                AS previous_reactions
        FROM snapshots
    )
    SELECT
        c.post_id AS post_id,
        c.metric_day AS "date",
        COALESCE(
            p.page_id,
            CASE
                WHEN STRPOS(c.post_id, '_') > 1
                THEN SUBSTRING(c.post_id, 1, STRPOS(c.post_id, '_') - 1)
            END
        ) AS account_id,
        p.status_type AS post_type,
        COALESCE(
            CAST(ROUND(
                CASE
                    WHEN c.snapshot_seq = 1 THEN c.post_media_view
                    ELSE c.post_media_view - c.previous_media_view
                END
            ) AS BIGINT),
            CASE
                WHEN c.snapshot_seq = 1 THEN c.post_impressions
                ELSE c.post_impressions - c.previous_impressions
            END
        ) AS impressions,
        CASE
            WHEN c.snapshot_seq = 1 THEN c.post_video_views
            ELSE c.post_video_views - c.previous_video_views
        END AS video_views,
        CASE
            WHEN c.snapshot_seq = 1 THEN c.reactions
            ELSE c.reactions - c.previous_reactions
        END AS likes,
        CASE
            WHEN c.snapshot_seq = 1 THEN c.post_clicks
            ELSE c.post_clicks - c.previous_clicks
        END AS clicks
    FROM changes AS c
    LEFT JOIN latest_post AS p
        ON p.post_id = c.post_id
    """
)

ACCOUNT_DAILY = Table(
    table="daily_page_metrics_total",
    columns={
        "account_id": "CAST(page_id AS TEXT)",
        "date": 'CAST(DATE_ADD("date", INTERVAL 12 HOUR) AS DATE)',
        "followers": "page_fans",
        "followers_gained": "page_fan_adds",
        "followers_lost": "page_fan_removes",
        "profile_views": "page_views_total",
        "impressions": "COALESCE(CAST(ROUND(page_media_view) AS BIGINT), page_impressions)",
    },
)

# --------------------------------------------------------------------------- encoding

ENCODE_POST_HISTORY = Select(
    """
    SELECT
        post_id AS id,
        account_id AS page_id,
        published_at AS created_time,
        published_at AS updated_time,
        post_type AS status_type,
        TRUE AS is_published,
        shares AS share_count,
        published_at AS _fivetran_synced
    FROM posts
    """
)

ENCODE_LIFETIME_POST_METRICS_TOTAL = Select(
    """
    WITH running AS (
        SELECT
            post_id,
            "date" AS day,
            SUM(impressions) OVER (
                PARTITION BY post_id ORDER BY "date"
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS impressions,
            SUM(video_views) OVER (
                PARTITION BY post_id ORDER BY "date"
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS video_views,
            SUM(likes) OVER (
                PARTITION BY post_id ORDER BY "date"
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS likes,
            SUM(clicks) OVER (
                PARTITION BY post_id ORDER BY "date"
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS clicks
        FROM post_daily
    )
    SELECT
        post_id AS post_id,
        CAST(CAST(day AS TEXT) || ' 07:00:00' AS TIMESTAMP) AS "date",
        clicks AS post_clicks,
        impressions AS post_impressions,
        CASE
            WHEN day >= CAST('2025-06-01' AS DATE) THEN CAST(impressions AS DOUBLE)
        END AS post_media_view,
        video_views AS post_video_views,
        likes - likes // 4 AS post_reactions_like_total,
        likes // 4 - likes // 16 AS post_reactions_love_total,
        likes // 16 AS post_reactions_haha_total,
        0 AS post_reactions_wow_total,
        0 AS post_reactions_sorry_total,
        0 AS post_reactions_anger_total
    FROM running
    """
)

ENCODE_DAILY_PAGE_METRICS_TOTAL = Select(
    """
    SELECT
        account_id AS page_id,
        CAST(CAST("date" AS TEXT) || ' 07:00:00' AS TIMESTAMP) AS "date",
        followers AS page_fans,
        followers_gained AS page_fan_adds,
        followers_lost AS page_fan_removes,
        profile_views AS page_views_total,
        impressions AS page_impressions,
        CASE
            WHEN "date" >= CAST('2025-06-01' AS DATE) THEN CAST(impressions AS DOUBLE)
        END AS page_media_view
    FROM account_daily
    """
)

# Conform: generic canonical rows adjusted to what this layout can say (conditions 1-3
# above), so sample data reads the same through it and through the canonical layout.
CONFORM = conform_posts_to_days(
    totals=["impressions", "video_views", "likes", "clicks"],
    from_post=["account_id", "post_type"],
    # a running total cannot carry a NULL day
    daily={"likes": "COALESCE(d.likes, 0)"},
    where="p.account_id IS NOT NULL",
)

INTERACTIONS = {
    "likes": "reactions",
    "comments": "comments",
    "shares": "shares",
    "clicks": "post clicks",
}

FIVETRAN = Layout(
    name="fivetran",
    default_schema="facebook_pages",
    description=(
        "Fivetran Facebook Pages: post_history, lifetime_post_metrics_total "
        "(differenced for post_daily), daily_page_metrics_total"
    ),
    sources={"posts": POSTS, "post_daily": POST_DAILY, "account_daily": ACCOUNT_DAILY},
    encoders={
        "post_history": ENCODE_POST_HISTORY,
        "lifetime_post_metrics_total": ENCODE_LIFETIME_POST_METRICS_TOTAL,
        "daily_page_metrics_total": ENCODE_DAILY_PAGE_METRICS_TOTAL,
    },
    conform=CONFORM,
)

PLATFORM = Platform(
    name="facebook",
    label="Facebook",
    description="Facebook Pages: page posts and page activity",
    layouts=[CANONICAL, FIVETRAN],
    interactions=INTERACTIONS,
    weights=default_weights(INTERACTIONS),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
