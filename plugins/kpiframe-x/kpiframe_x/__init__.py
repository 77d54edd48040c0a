"""X (Twitter) as a kpiframe platform.

Two layouts:

`canonical` (the default): one table per canonical source. X reports no reach for
organic posts or accounts, so `reach` is absent (NULL); bookmarks are `saves`.

`fivetran`: the raw tables of Fivetran's Twitter Organic connector, default
schema `twitter`. It reads three tables:

- `tweet` (one row per tweet): id, author, publication time, reply/media markers;
- `organic_tweet_report` (daily increments per tweet, day and *placement*);
- `twitter_user_history` (versions of the X user, with the follower count snapshot).

Mapping decisions:

- Ids are cast to text on both sides of every join, never through a float (tweet ids have
  19 digits, above 2^53).
- The report is summed over `placement` to the (tweet, day) grain *before* anything is
  joined to it (pitfall 1). `tweet.favorite_count`/`retweet_count` are lifetime snapshots
  and are not read: lifetime totals are the sum of the daily report.
- The report day is stored as local midnight of the ads account's timezone expressed in
  UTC. It becomes a calendar date by the "nearest UTC midnight" approximation of
  Fivetran's approximation: the date of `date + 12 hours`, exact for accounts whose UTC offset is
  in (-12 h, +12 h]. (`account_history.timezone` would make it exact everywhere but needs
  timezone functions no portable SQL has.)
  It is written `DATE_ADD(date, INTERVAL 12 HOUR)`, which sqlglot 30 prints correctly for
  DuckDB, SQLite and PostgreSQL but as a two-argument `DATE_ADD` that Spark rejects.
- `post_type` is a coarse label, since X has no content-type column: `reply` when
  `in_reply_to_status_id` is set, else `media` when `media_key` is set, else `text`.
- `is_paid` is false: the report carries organic metrics only.
- `posts`: impressions, video_views (`video_total_views`), likes, comments (`replies`),
  shares (`retweets`; quotes are not in this layout), clicks: sums over all report rows.
  A tweet without report rows has NULL metrics. `reach` and `saves` are NULL.
- `post_daily`: the same columns per tweet and day; `account_id` from the report,
  `post_type` from `tweet` (joined after aggregating).
- `account_daily`, assembled (there is no account-level daily table):
  `impressions`, `followers_gained` (`follows`), `followers_lost` (`unfollows`) are sums of
  the report per ads account and day. These are tweet-attributed follows only: a lower
  bound of the real growth. `followers` is `twitter_user_history.followers_count` of the
  latest version synced on or before the day (the UTC date of `_fivetran_synced`), carried
  forward to days without a sync, and put on the ads account through the distinct
  (`account_id`, `user_id`) pairs of `tweet` (summed over the account's X users). Days
  are those with report rows or with a user sync. `profile_views` and `reach` are NULL.

Encoders (`kpiframe sample-data`) write canonical rows in this layout: `tweet` from
`posts`, `organic_tweet_report` from `post_daily` (every row split over two placements,
ALL_ON_TWITTER and PUBLISHER_NETWORK, the latter taking `x // 4` of each metric so the two
sum back exactly, report days at 07:00 UTC like the sample's Pacific account) and
`twitter_user_history` from `account_daily` (one version per account and day, synced at
23:00 UTC, with the ads account id standing in for the X user id).

The round trip canonical -> encoders -> bindings gives back every field this layout
provides exactly when the canonical rows satisfy:

1. `posts.post_type` is one of `text`, `media`, `reply`, and `posts.is_paid` is false.
2. A post's lifetime impressions, video_views, likes, comments, shares and clicks equal
   the sum of its `post_daily` rows (NULL when it has none, or the metric is NULL on all).
3. Every `post_daily` post is in `posts`, and its `post_type` is that post's.
4. Every (account_id, date) of `post_daily` has an `account_daily` row, and every account
   of `account_daily` has at least one post in `posts` (the tweet is what links the X user
   to the ads account).
5. `account_daily.impressions` equals the sum of that account's `post_daily` impressions on
   that day (NULL when it has no `post_daily` row that day).
6. `followers_gained` and `followers_lost` are NULL on account days without `post_daily`
   rows.

What cannot round-trip beyond that: X only reports follows attributed to a tweet, so
account growth on a day without tweet activity has nowhere to live in this layout; the
encoder hangs each day's `followers_gained`/`followers_lost` on one report row of that
account and day (the first post by id, placement ALL_ON_TWITTER), which is the most
faithful encoding the layout allows. Likewise account impressions can only be the sum of
tweet impressions.
"""

from __future__ import annotations

import kpiframe
from kpiframe.layouts import conform_posts_to_days
from kpiframe.platform import Layout, Platform, Select, canonical_layout, default_weights

__version__ = "0.1.0"

CANONICAL = canonical_layout(
    lacks={
        "posts": ["reach"],
        "post_daily": ["reach"],
        "account_daily": ["reach"],
    },
)

# --------------------------------------------------------------------------- reading

POSTS = Select(
    """
    SELECT
        CAST(t.id AS TEXT) AS post_id,
        t.created_at AS published_at,
        CAST(t.account_id AS TEXT) AS account_id,
        CASE
            WHEN t.in_reply_to_status_id IS NOT NULL THEN 'reply'
            WHEN t.media_key IS NOT NULL AND CAST(t.media_key AS TEXT) <> '' THEN 'media'
            ELSE 'text'
        END AS post_type,
        FALSE AS is_paid,
        r.impressions AS impressions,
        r.video_views AS video_views,
        r.likes AS likes,
        r.comments AS comments,
        r.shares AS shares,
        r.clicks AS clicks
    FROM tweet AS t
    LEFT JOIN (
        -- every day and every placement of a tweet, summed before the join
        SELECT
            CAST(organic_tweet_id AS TEXT) AS tweet_id,
            SUM(impressions) AS impressions,
            SUM(video_total_views) AS video_views,
            SUM(likes) AS likes,
            SUM(replies) AS comments,
            SUM(retweets) AS shares,
            SUM(clicks) AS clicks
        FROM organic_tweet_report
        GROUP BY CAST(organic_tweet_id AS TEXT)
    ) AS r
        ON r.tweet_id = CAST(t.id AS TEXT)
    """
)

POST_DAILY = Select(
    """
    SELECT
        r.post_id AS post_id,
        r.report_day AS "date",
        r.account_id AS account_id,
        CASE
            WHEN t.id IS NULL THEN NULL
            WHEN t.in_reply_to_status_id IS NOT NULL THEN 'reply'
            WHEN t.media_key IS NOT NULL AND CAST(t.media_key AS TEXT) <> '' THEN 'media'
            ELSE 'text'
        END AS post_type,
        r.impressions AS impressions,
        r.video_views AS video_views,
        r.likes AS likes,
        r.comments AS comments,
        r.shares AS shares,
        r.clicks AS clicks
    FROM (
        -- placements summed to (tweet, day); the day is the nearest UTC midnight
        SELECT
            CAST(organic_tweet_id AS TEXT) AS post_id,
            CAST(DATE_ADD("date", INTERVAL 12 HOUR) AS DATE) AS report_day,
            CAST(account_id AS TEXT) AS account_id,
            SUM(impressions) AS impressions,
            SUM(video_total_views) AS video_views,
            SUM(likes) AS likes,
            SUM(replies) AS comments,
            SUM(retweets) AS shares,
            SUM(clicks) AS clicks
        FROM organic_tweet_report
        GROUP BY
            CAST(organic_tweet_id AS TEXT),
            CAST(DATE_ADD("date", INTERVAL 12 HOUR) AS DATE),
            CAST(account_id AS TEXT)
    ) AS r
    LEFT JOIN tweet AS t
        ON CAST(t.id AS TEXT) = r.post_id
    """
)

ACCOUNT_DAILY = Select(
    """
    WITH report AS (
        SELECT
            CAST(account_id AS TEXT) AS account_id,
            CAST(DATE_ADD("date", INTERVAL 12 HOUR) AS DATE) AS report_day,
            SUM(follows) AS followers_gained,
            SUM(unfollows) AS followers_lost,
            SUM(impressions) AS impressions
        FROM organic_tweet_report
        GROUP BY CAST(account_id AS TEXT), CAST(DATE_ADD("date", INTERVAL 12 HOUR) AS DATE)
    ),
    account_users AS (
        -- the X users (followers live on them) behind each ads account
        SELECT DISTINCT
            CAST(account_id AS TEXT) AS account_id,
            CAST(user_id AS TEXT) AS user_id
        FROM tweet
        WHERE account_id IS NOT NULL AND user_id IS NOT NULL
    ),
    user_versions AS (
        -- the latest version of each user synced on each UTC day
        SELECT v.user_id AS user_id, v.sync_day AS sync_day, v.followers_count AS followers_count
        FROM (
            SELECT
                CAST(id AS TEXT) AS user_id,
                CAST(_fivetran_synced AS DATE) AS sync_day,
                followers_count,
                ROW_NUMBER() OVER (
                    PARTITION BY CAST(id AS TEXT), CAST(_fivetran_synced AS DATE)
                    ORDER BY _fivetran_synced DESC
                ) AS version_rank
            FROM twitter_user_history
        ) AS v
        WHERE v.version_rank = 1
    ),
    user_days AS (
        SELECT u.account_id AS account_id, u.user_id AS user_id, r.report_day AS day
        FROM report AS r
        JOIN account_users AS u ON u.account_id = r.account_id
        UNION
        SELECT u.account_id AS account_id, u.user_id AS user_id, v.sync_day AS day
        FROM user_versions AS v
        JOIN account_users AS u ON u.user_id = v.user_id
    ),
    numbered AS (
        -- each sync starts a new run of days that carry its follower count
        SELECT
            d.account_id AS account_id,
            d.user_id AS user_id,
            d.day AS day,
            v.followers_count AS followers_count,
            SUM(CASE WHEN v.user_id IS NULL THEN 0 ELSE 1 END) OVER (
                PARTITION BY d.account_id, d.user_id
                ORDER BY d.day
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS sync_run
        FROM user_days AS d
        LEFT JOIN user_versions AS v
            ON v.user_id = d.user_id AND v.sync_day = d.day
    ),
    account_followers AS (
        SELECT c.account_id AS account_id, c.day AS day, SUM(c.followers) AS followers
        FROM (
            SELECT
                account_id,
                day,
                MAX(followers_count) OVER (PARTITION BY account_id, user_id, sync_run)
                    AS followers
            FROM numbered
        ) AS c
        GROUP BY c.account_id, c.day
    ),
    account_days AS (
        SELECT account_id, report_day AS day FROM report
        UNION
        SELECT account_id, day FROM account_followers
    )
    SELECT
        k.account_id AS account_id,
        k.day AS "date",
        f.followers AS followers,
        r.followers_gained AS followers_gained,
        r.followers_lost AS followers_lost,
        r.impressions AS impressions
    FROM account_days AS k
    LEFT JOIN account_followers AS f
        ON f.account_id = k.account_id AND f.day = k.day
    LEFT JOIN report AS r
        ON r.account_id = k.account_id AND r.report_day = k.day
    """
)

# --------------------------------------------------------------------------- encoding

ENCODE_TWEET = Select(
    """
    SELECT
        post_id AS id,
        account_id AS account_id,
        account_id AS user_id,
        published_at AS created_at,
        'PUBLISHED' AS tweet_type,
        CASE WHEN post_type = 'reply' THEN post_id END AS in_reply_to_status_id,
        CASE WHEN post_type = 'media' THEN '3_' || post_id END AS media_key,
        likes AS favorite_count,
        shares AS retweet_count
    FROM posts
    """
)

ENCODE_ORGANIC_TWEET_REPORT = Select(
    """
    WITH day_rows AS (
        SELECT
            d.post_id AS post_id,
            d.account_id AS account_id,
            d."date" AS day,
            d.impressions AS impressions,
            d.video_views AS video_views,
            d.likes AS likes,
            d.comments AS comments,
            d.shares AS shares,
            d.clicks AS clicks,
            a.followers_gained AS followers_gained,
            a.followers_lost AS followers_lost,
            ROW_NUMBER() OVER (
                PARTITION BY d.account_id, d."date" ORDER BY d.post_id
            ) AS account_day_rank
        FROM post_daily AS d
        LEFT JOIN account_daily AS a
            ON a.account_id = d.account_id AND a."date" = d."date"
    ),
    placements AS (
        SELECT
            post_id,
            account_id,
            day,
            'ALL_ON_TWITTER' AS placement,
            impressions - impressions // 4 AS impressions,
            video_views - video_views // 4 AS video_total_views,
            likes - likes // 4 AS likes,
            comments - comments // 4 AS replies,
            shares - shares // 4 AS retweets,
            clicks - clicks // 4 AS clicks,
            CASE
                WHEN account_day_rank = 1 THEN followers_gained
                WHEN followers_gained IS NOT NULL THEN 0
            END AS follows,
            CASE
                WHEN account_day_rank = 1 THEN followers_lost
                WHEN followers_lost IS NOT NULL THEN 0
            END AS unfollows
        FROM day_rows
        UNION ALL
        SELECT
            post_id,
            account_id,
            day,
            'PUBLISHER_NETWORK' AS placement,
            impressions // 4 AS impressions,
            video_views // 4 AS video_total_views,
            likes // 4 AS likes,
            comments // 4 AS replies,
            shares // 4 AS retweets,
            clicks // 4 AS clicks,
            CASE WHEN followers_gained IS NOT NULL THEN 0 END AS follows,
            CASE WHEN followers_lost IS NOT NULL THEN 0 END AS unfollows
        FROM day_rows
    )
    SELECT
        account_id AS account_id,
        post_id AS organic_tweet_id,
        CAST(CAST(day AS TEXT) || ' 07:00:00' AS TIMESTAMP) AS "date",
        placement AS placement,
        impressions AS impressions,
        likes AS likes,
        replies AS replies,
        retweets AS retweets,
        clicks AS clicks,
        video_total_views AS video_total_views,
        follows AS follows,
        unfollows AS unfollows
    FROM placements
    """
)

ENCODE_TWITTER_USER_HISTORY = Select(
    """
    SELECT
        account_id AS id,
        CAST(CAST("date" AS TEXT) || ' 23:00:00' AS TIMESTAMP) AS _fivetran_synced,
        account_id AS screen_name,
        followers AS followers_count
    FROM account_daily
    """
)

# Conform: generic canonical rows adjusted to what this layout can say, so sample data
# reads the same through it and through the canonical layout (conditions 1-6 above).
CONFORM_POSTS_TO_DAYS = conform_posts_to_days(
    totals=["impressions", "video_views", "likes", "comments", "shares", "clicks"],
    from_post={
        # X's coarse labels: a reply, a tweet with media, or text
        "post_type": """
            CASE
                WHEN p.post_type = 'reply' THEN 'reply'
                WHEN p.post_type IS NULL OR p.post_type IN ('text', 'link') THEN 'text'
                ELSE 'media'
            END
        """,
    },
    posts={"is_paid": "FALSE"},
)

CONFORM_ACCOUNT_DAILY = Select(
    """
    SELECT
        a.account_id AS account_id,
        a."date" AS "date",
        a.followers AS followers,
        CASE WHEN d.post_days IS NULL THEN NULL ELSE a.followers_gained END
            AS followers_gained,
        CASE WHEN d.post_days IS NULL THEN NULL ELSE a.followers_lost END AS followers_lost,
        a.profile_views AS profile_views,
        d.impressions AS impressions,
        a.reach AS reach
    FROM account_daily AS a
    LEFT JOIN (
        SELECT account_id, "date", COUNT(*) AS post_days, SUM(impressions) AS impressions
        FROM post_daily
        GROUP BY account_id, "date"
    ) AS d
        ON d.account_id = a.account_id AND d."date" = a."date"
    WHERE a.account_id IN (SELECT account_id FROM posts)
    """
)

INTERACTIONS = {
    "likes": "likes",
    "comments": "replies",
    "shares": "reposts",
    "saves": "bookmarks",
    "clicks": "link and profile clicks",
}

FIVETRAN = Layout(
    name="fivetran",
    default_schema="twitter",
    description=(
        "Fivetran Twitter Organic: tweet, organic_tweet_report (placements summed), "
        "twitter_user_history"
    ),
    sources={"posts": POSTS, "post_daily": POST_DAILY, "account_daily": ACCOUNT_DAILY},
    encoders={
        "tweet": ENCODE_TWEET,
        "organic_tweet_report": ENCODE_ORGANIC_TWEET_REPORT,
        "twitter_user_history": ENCODE_TWITTER_USER_HISTORY,
    },
    conform={**CONFORM_POSTS_TO_DAYS, "account_daily": CONFORM_ACCOUNT_DAILY},
)

PLATFORM = Platform(
    name="x",
    label="X (Twitter)",
    description="X (formerly Twitter) accounts: organic tweets and account activity",
    layouts=[CANONICAL, FIVETRAN],
    interactions=INTERACTIONS,
    weights=default_weights(INTERACTIONS),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
