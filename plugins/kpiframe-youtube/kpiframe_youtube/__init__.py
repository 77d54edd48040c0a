"""YouTube as a kpiframe platform.

Three layouts:

`canonical` (the default): one table per canonical source. YouTube's "added to
playlists" are `saves` and its card clicks are `clicks` (DOMAIN.md); `reach` is YouTube
Studio's unique viewers. There is no `is_paid` (YouTube reports no promoted flag per video:
ad views are a traffic source, not a kind of video) and no `profile_views` (no channel
page view metric).

`fivetran`: the raw tables of Fivetran's YouTube Analytics connector,
default schema `youtube_analytics`. It reads one table, `channel_basic_a_2`: daily
increments per video, country, live/on-demand flag and subscribed status.

`fivetran_video`: the same, plus the `video` table that the connector does not sync and
users load themselves, for exact publication times. Choose it only if
that table exists: kpiframe cannot yet read a table only when it is there.

Mapping decisions:

- `channel_basic_a_2` is summed over country, `live_or_on_demand` and `subscribed_status`
  to the (video, date) grain before anything else happens (pitfall 6). Only counts are
  read (views, likes, comments, shares, subscribers gained and lost); the averages and
  rates of the table are never summed.
- Rows with an empty (or NULL) `video_id` are channel-level activity: left out of `posts`
  and `post_daily`, kept in `account_daily`. Video ids are case-sensitive text (they may
  start with `-`); channel ids are cast to text.
- `date` is already a DATE: no timezone conversion (YouTube cuts days in its own time).
- `posts`: one row per video with report rows; lifetime `video_views`, `likes`,
  `comments`, `shares` are sums over all its days. Views go to `video_views`, not to
  `clicks` (where the Fivetran rollup puts them). `account_id` is the video's
  `channel_id`; `post_type` is the constant `video` (Shorts cannot be told apart here).
  `published_at`:
  * `fivetran`: midnight UTC of the video's first `date` with report rows, an
    approximation (FIVETRAN.md's recommendation): exact for videos published while the
    connector was already syncing up to the day, late for older videos, whose first
    synced day is when the history starts.
  * `fivetran_video`: `video.snippet_published_at`, falling back to the same first date
    for videos missing from `video`. Videos in `video` without report rows are posts too,
    with NULL metrics and `snippet_channel_id` as their account.
- `post_daily`: the same metrics per video and date.
- `account_daily`: per channel and date over all rows, empty video ids included:
  `followers_gained` (subscribers gained) and `followers_lost` (subscribers lost).
  `followers` is NULL: there is no subscriber-count snapshot in this layout, and a running
  sum of gains and losses lacks its starting value.
- Not in these layouts (NULL): `is_paid`, `impressions` (no thumbnail impressions in this
  report), `reach`, `saves` (`videos_added_to_playlists` exists but FIVETRAN.md recommends
  against it), `clicks` (card and annotation clicks are interactive-element clicks),
  `followers`, `profile_views`.

Encoders (`kpiframe sample-data`) write canonical rows in this layout:
`channel_basic_a_2` from `post_daily`, each row split over two countries and subscribed
states (US and subscribed get `x - x // 3`, GB and unsubscribed `x // 3`, so the two sum
back exactly), plus channel-level rows with an empty `video_id` for every `account_daily`
row, carrying that day's subscriber gains and losses split the same way (video rows carry
no subscriber counts). `fivetran_video` also writes `video` from `posts`.

Conform queries (applied by `kpiframe sample-data` before anything is written) make
generic canonical rows satisfy conditions 1 to 3, 5 and 6 below: `post_type` becomes
`video`, a post's four provided counts become the sums of its days, a day takes its
post's channel (posts without a channel and days of unknown posts are dropped), and for
`fivetran` a post takes midnight UTC of its first day as `published_at` (posts without
days are dropped). Other fields are left as they are. Condition 4 holds for sample
data, whose accounts have a row every day.

The round trip canonical -> encoders -> bindings gives back every field a layout provides
(posts: post_id, published_at, account_id, post_type, video_views, likes, comments,
shares; post_daily: post_id, date, account_id, post_type and the same four metrics;
account_daily: account_id, date, followers_gained, followers_lost) exactly when the
canonical rows satisfy:

1. A post's lifetime video_views, likes, comments and shares equal the sum of its
   `post_daily` rows (NULL when they are NULL on every row), and every `post_daily` post
   is in `posts`.
2. `post_type` is `video` in `posts` and in `post_daily`.
3. A video has one channel: `post_daily.account_id` is not NULL and equals its post's
   `account_id`.
4. Every (account_id, date) of `post_daily` has an `account_daily` row (the channel has a
   report row that day, so it has an `account_daily` row).
5. `post_id` is not empty.
6. With `fivetran`: every post has at least one `post_daily` row, and its `published_at`
   is midnight UTC of its first `post_daily` date. With `fivetran_video`: a post with
   `post_daily` rows has a `published_at` (NULL would read back as its first date).

What cannot round-trip: everything listed as NULL above, and, without the `video` table,
the publication time (only its first day with data) and posts without any daily rows.
"""

from __future__ import annotations

import kpiframe
from kpiframe.layouts import conform_posts_to_days
from kpiframe.platform import Layout, Platform, Select, canonical_layout, default_weights

__version__ = "0.1.0"

CANONICAL = canonical_layout(
    lacks={
        "posts": ["is_paid"],
        "account_daily": ["profile_views"],
    },
)

# --------------------------------------------------------------------------- reading

POSTS = Select(
    """
    WITH video_days AS (
        -- countries, live/on-demand and subscribed status summed to (video, day) first
        SELECT
            CAST(video_id AS TEXT) AS post_id,
            CAST("date" AS DATE) AS day,
            MAX(CAST(channel_id AS TEXT)) AS account_id,
            SUM(views) AS video_views,
            SUM(likes) AS likes,
            SUM(comments) AS comments,
            SUM(shares) AS shares
        FROM channel_basic_a_2
        WHERE video_id IS NOT NULL AND CAST(video_id AS TEXT) <> ''
        GROUP BY CAST(video_id AS TEXT), CAST("date" AS DATE)
    )
    SELECT
        post_id AS post_id,
        -- without the video table: the first day with data, at midnight UTC
        CAST(MIN(day) AS TIMESTAMP) AS published_at,
        MAX(account_id) AS account_id,
        'video' AS post_type,
        SUM(video_views) AS video_views,
        SUM(likes) AS likes,
        SUM(comments) AS comments,
        SUM(shares) AS shares
    FROM video_days
    GROUP BY post_id
    """
)

POSTS_WITH_VIDEO = Select(
    """
    WITH video_days AS (
        -- countries, live/on-demand and subscribed status summed to (video, day) first
        SELECT
            CAST(video_id AS TEXT) AS post_id,
            CAST("date" AS DATE) AS day,
            MAX(CAST(channel_id AS TEXT)) AS account_id,
            SUM(views) AS video_views,
            SUM(likes) AS likes,
            SUM(comments) AS comments,
            SUM(shares) AS shares
        FROM channel_basic_a_2
        WHERE video_id IS NOT NULL AND CAST(video_id AS TEXT) <> ''
        GROUP BY CAST(video_id AS TEXT), CAST("date" AS DATE)
    ),
    reported AS (
        SELECT
            post_id,
            MIN(day) AS first_day,
            MAX(account_id) AS account_id,
            SUM(video_views) AS video_views,
            SUM(likes) AS likes,
            SUM(comments) AS comments,
            SUM(shares) AS shares
        FROM video_days
        GROUP BY post_id
    ),
    videos AS (
        -- loaded outside the connector: one row per id is not guaranteed
        SELECT
            CAST(id AS TEXT) AS post_id,
            MIN(snippet_published_at) AS published_at,
            MAX(CAST(snippet_channel_id AS TEXT)) AS channel_id
        FROM video
        WHERE id IS NOT NULL AND CAST(id AS TEXT) <> ''
        GROUP BY CAST(id AS TEXT)
    ),
    all_videos AS (
        SELECT post_id FROM reported
        UNION
        SELECT post_id FROM videos
    )
    SELECT
        k.post_id AS post_id,
        COALESCE(v.published_at, CAST(r.first_day AS TIMESTAMP)) AS published_at,
        COALESCE(r.account_id, v.channel_id) AS account_id,
        'video' AS post_type,
        r.video_views AS video_views,
        r.likes AS likes,
        r.comments AS comments,
        r.shares AS shares
    FROM all_videos AS k
    LEFT JOIN reported AS r
        ON r.post_id = k.post_id
    LEFT JOIN videos AS v
        ON v.post_id = k.post_id
    """
)

POST_DAILY = Select(
    """
    SELECT
        d.post_id AS post_id,
        d.day AS "date",
        d.account_id AS account_id,
        'video' AS post_type,
        d.video_views AS video_views,
        d.likes AS likes,
        d.comments AS comments,
        d.shares AS shares
    FROM (
        -- countries, live/on-demand and subscribed status summed to (video, day)
        SELECT
            CAST(video_id AS TEXT) AS post_id,
            CAST("date" AS DATE) AS day,
            MAX(CAST(channel_id AS TEXT)) AS account_id,
            SUM(views) AS video_views,
            SUM(likes) AS likes,
            SUM(comments) AS comments,
            SUM(shares) AS shares
        FROM channel_basic_a_2
        WHERE video_id IS NOT NULL AND CAST(video_id AS TEXT) <> ''
        GROUP BY CAST(video_id AS TEXT), CAST("date" AS DATE)
    ) AS d
    """
)

ACCOUNT_DAILY = Select(
    """
    -- every row of the channel, channel-level rows without a video id included
    SELECT
        CAST(channel_id AS TEXT) AS account_id,
        CAST("date" AS DATE) AS "date",
        SUM(subscribers_gained) AS followers_gained,
        SUM(subscribers_lost) AS followers_lost
    FROM channel_basic_a_2
    WHERE channel_id IS NOT NULL
    GROUP BY CAST(channel_id AS TEXT), CAST("date" AS DATE)
    """
)

# --------------------------------------------------------------------------- encoding

ENCODE_CHANNEL_BASIC_A_2 = Select(
    """
    WITH video_rows AS (
        -- each video day split over two countries and subscribed states: the parts sum
        -- back exactly (x - x // 3 + x // 3 = x)
        SELECT
            "date",
            account_id AS channel_id,
            post_id AS video_id,
            'US' AS country_code,
            'SUBSCRIBED' AS subscribed_status,
            video_views - video_views // 3 AS views,
            likes - likes // 3 AS likes,
            comments - comments // 3 AS comments,
            shares - shares // 3 AS shares,
            CAST(NULL AS BIGINT) AS subscribers_gained,
            CAST(NULL AS BIGINT) AS subscribers_lost
        FROM post_daily
        UNION ALL
        SELECT
            "date",
            account_id,
            post_id,
            'GB',
            'UNSUBSCRIBED',
            video_views // 3,
            likes // 3,
            comments // 3,
            shares // 3,
            CAST(NULL AS BIGINT),
            CAST(NULL AS BIGINT)
        FROM post_daily
    ),
    channel_rows AS (
        -- subscriber changes on channel-level rows with an empty video id
        SELECT
            "date",
            account_id AS channel_id,
            '' AS video_id,
            'US' AS country_code,
            'SUBSCRIBED' AS subscribed_status,
            0 AS views,
            0 AS likes,
            0 AS comments,
            0 AS shares,
            followers_gained - followers_gained // 3 AS subscribers_gained,
            followers_lost - followers_lost // 3 AS subscribers_lost
        FROM account_daily
        UNION ALL
        SELECT
            "date",
            account_id,
            '',
            'GB',
            'UNSUBSCRIBED',
            0,
            0,
            0,
            0,
            followers_gained // 3,
            followers_lost // 3
        FROM account_daily
    ),
    all_rows AS (
        SELECT * FROM video_rows
        UNION ALL
        SELECT * FROM channel_rows
    )
    SELECT
        "date" AS "date",
        channel_id AS channel_id,
        video_id AS video_id,
        country_code AS country_code,
        'ON_DEMAND' AS live_or_on_demand,
        subscribed_status AS subscribed_status,
        views AS views,
        likes AS likes,
        comments AS comments,
        shares AS shares,
        subscribers_gained AS subscribers_gained,
        subscribers_lost AS subscribers_lost
    FROM all_rows
    """
)

ENCODE_VIDEO = Select(
    """
    SELECT
        post_id AS id,
        'youtube#video' AS kind,
        account_id AS snippet_channel_id,
        published_at AS snippet_published_at,
        'video ' || post_id AS snippet_title,
        'public' AS privacy_status,
        video_views AS statistics_view_count,
        likes AS statistics_like_count,
        comments AS statistics_comment_count
    FROM posts
    """
)

# --------------------------------------------------------------------------- conforming
#
# Sample data (`kpiframe sample-data`) draws generic post types and publication times of
# day. These queries make the rows what the layouts represent exactly, before anything is
# written, so every layout holds the same facts: every post is a `video`, its lifetime
# counts are the sums of its days, and (without the video table) it was published at
# midnight UTC of its first day with data; a post without days cannot be seen there.

def _videos_by_day(published_at: str, *, posts_without_days: bool) -> dict[str, Select]:
    """Every post a video of one channel, its counts the sums of its days."""
    return conform_posts_to_days(
        totals=["video_views", "likes", "comments", "shares"],
        from_post={"account_id": "p.account_id", "post_type": "'video'"},
        posts={"published_at": published_at},
        where="p.post_id <> '' AND p.account_id IS NOT NULL",
        posts_without_days=posts_without_days,
    )


CONFORM = _videos_by_day("CAST(d.first_day AS TIMESTAMP)", posts_without_days=False)

CONFORM_WITH_VIDEO = _videos_by_day(
    "COALESCE(p.published_at, CAST(d.first_day AS TIMESTAMP))", posts_without_days=True
)

INTERACTIONS = {
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saves": "added to playlists",
    "clicks": "card clicks",
}

FIVETRAN = Layout(
    name="fivetran",
    default_schema="youtube_analytics",
    description=(
        "Fivetran YouTube Analytics: channel_basic_a_2 summed over countries and flags; "
        "publication time = first day with data"
    ),
    sources={"posts": POSTS, "post_daily": POST_DAILY, "account_daily": ACCOUNT_DAILY},
    encoders={"channel_basic_a_2": ENCODE_CHANNEL_BASIC_A_2},
    conform=CONFORM,
)

FIVETRAN_VIDEO = Layout(
    name="fivetran_video",
    default_schema="youtube_analytics",
    description=(
        "Fivetran YouTube Analytics plus the user-loaded video table: exact publication "
        "times, and videos without report rows"
    ),
    sources={
        "posts": POSTS_WITH_VIDEO, "post_daily": POST_DAILY, "account_daily": ACCOUNT_DAILY,
    },
    encoders={"channel_basic_a_2": ENCODE_CHANNEL_BASIC_A_2, "video": ENCODE_VIDEO},
    conform=CONFORM_WITH_VIDEO,
)

PLATFORM = Platform(
    name="youtube",
    label="YouTube",
    description="YouTube channels: videos and subscriber activity",
    layouts=[CANONICAL, FIVETRAN, FIVETRAN_VIDEO],
    interactions=INTERACTIONS,
    weights=default_weights(INTERACTIONS),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
