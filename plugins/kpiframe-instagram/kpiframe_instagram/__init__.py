"""Instagram Business as a kpiframe platform.

Two layouts:

`canonical` (the default): one table per canonical source. Instagram fills every
field: its "saved" count is `saves` and its profile visits are `clicks` (DOMAIN.md).

`fivetran`: the raw tables of Fivetran's Instagram Business connector,
default schema `instagram_business`. It reads three tables:

- `media_history` (versions of each media: owner, publication time, media type, story flag);
- `media_insights` (lifetime insight snapshots per media, taken at sync time, no date);
- `user_history` (versions of the business account, with the follower count snapshot).

Mapping decisions:

- Every history table is reduced to its latest version per id by `_fivetran_synced`
  before anything is joined: `media_history` and `media_insights` per media id,
  `user_history` per account and UTC sync day (pitfall 8).
- Ids (17 to 19-digit bigints, above 2^53) are cast to text, never through a float.
- `media_insights` rows are lifetime snapshots without a date, so `posts` takes the latest
  one and `post_daily` is not provided (FIVETRAN.md recommends against deriving it from
  sync dates). Its metrics come in families (`video_photo_*`, `carousel_album_*`,
  `reel_*`, `story_*`) that the connector fills with the *same* value for one media, so
  each field reads one family, never a sum of families: `story_*` for stories,
  `video_photo_*` for feed media, falling back to the family of the media's own type
  (`carousel_album_*` for CAROUSEL_ALBUM, `reel_*` for VIDEO) where the doc allows it.
- `posts`: `post_id` (`media_history.id`), `published_at` (`created_time`), `account_id`
  (`user_id`), `post_type` (`STORY` when `is_story`, else `media_type`: IMAGE, VIDEO,
  CAROUSEL_ALBUM); `impressions` = `story_views`, else the deprecated `story_impressions`
  for stories, `video_photo_views`, else the deprecated `video_photo_impressions` for feed
  media (Meta's views replace impressions: prefer views, fall back); `reach` =
  `story_reach` / `video_photo_reach`, else the own-type family's reach; `video_views`,
  VIDEO media only, = `reel_views`, else `video_photo_views`, else the deprecated
  `reel_plays`, else the deprecated `video_views`; `likes` = `like_count`; `comments` =
  `comment_count`; `shares` = `story_shares` / `video_photo_shares`, else the own-type
  family's shares; `saves` = `video_photo_saved`, else `carousel_album_saved` for
  carousels, NULL for stories. `is_paid` and `clicks` are NULL (no column in this layout).
  Media without an insights row have NULL metrics. Carousel children are not filtered
  (the packages do not either).
- `account_daily`: one row per account and UTC date of `_fivetran_synced` that has a
  `user_history` version, with the `followers_count` of the latest version synced that
  day (a snapshot: KPIs read it with `agg: last`, which also bridges days without a sync).
  followers_gained, followers_lost, profile_views, impressions and reach are NULL: this
  layout has no account insights (`user_insights` is outside the packages' layout).

Every native column named above must exist, as in the connector's schema; a column your
connection lacks reads as an error, not as NULL.

Encoders (`kpiframe sample-data`) write canonical rows in this layout:

- `media_history` from `posts`: two versions per media (an early one with a draft caption,
  synced 1 hour after publication, and the current one, synced a day after), `is_story`
  for post_type `STORY` (media_type IMAGE), else `media_type` = `post_type`.
- `media_insights` from `posts`: two snapshots per media, an early one (every metric
  halved, rounded down, synced a day after publication) and the current one (synced two
  days after): only the latest may count. Feed media fill `video_photo_*`; carousels
  repeat the same values in `carousel_album_*` and videos repeat reach and shares in
  `reel_*`, as the connector does (a reader that added families would double count).
  Media published before 2025-04-01 (Instagram's switch to views) write impressions and
  plays only to the deprecated `*_impressions` and `reel_plays` columns, the others to
  `*_views`, so both sides of every fallback are exercised.
- `user_history` from `account_daily`: two versions per account and day, at 06:00 UTC
  (followers minus that day's gains, a stale count) and 23:00 UTC (the day's followers).

Ids are written as text (any canonical id survives; the bigint case is covered by the
fixture tests).

Conform queries (applied by `kpiframe sample-data` before anything is written) make
generic canonical rows satisfy the conditions below: `post_type` in Instagram's terms in
`posts` and `post_daily` (photo, image, text and link -> IMAGE; video and reel -> VIDEO;
carousel -> CAROUSEL_ALBUM; story -> STORY; anything else kept), `video_views` only for
VIDEO, `saves` never on stories. Other fields are left as they are.

The round trip canonical -> encoders -> bindings gives back every field this layout
provides (posts: post_id, published_at, account_id, post_type, impressions, reach,
video_views, likes, comments, shares, saves; account_daily: account_id, date, followers)
exactly when the canonical rows satisfy:

1. `video_views` is NULL unless `post_type` is `VIDEO` (Instagram reports video views only
   for video media).
2. Posts of type `STORY` have NULL `saves` (stories report no saves).

What cannot round-trip: `is_paid` and `clicks` of posts, every `account_daily` field but
followers, and `post_daily` (no date on insights). For VIDEO media published after the
switch to views the connector fills `reel_views` and `video_photo_views` with the same
number, so real data has impressions equal to video views there; the encoder writes the
canonical impressions to `video_photo_views` and the canonical video views to
`reel_views`, the most faithful encoding that keeps both values. A VIDEO media with
impressions but no video views is written to the deprecated impressions column, since
`video_photo_views` would otherwise be read back as its video views.
"""

from __future__ import annotations

import kpiframe
from kpiframe.layouts import conform_fields, recode
from kpiframe.platform import Layout, Platform, Select, canonical_layout, default_weights

__version__ = "0.1.0"

CANONICAL = canonical_layout()

# --------------------------------------------------------------------------- reading

POSTS = Select(
    """
    WITH media_versions AS (
        SELECT
            CAST(id AS TEXT) AS post_id,
            CAST(user_id AS TEXT) AS account_id,
            created_time,
            media_type,
            is_story,
            ROW_NUMBER() OVER (
                PARTITION BY CAST(id AS TEXT) ORDER BY _fivetran_synced DESC
            ) AS version_rank
        FROM media_history
    ),
    media AS (
        SELECT
            post_id,
            account_id,
            created_time,
            media_type,
            CASE WHEN is_story THEN 1 ELSE 0 END AS story
        FROM media_versions
        WHERE version_rank = 1
    ),
    insight_snapshots AS (
        SELECT
            CAST(id AS TEXT) AS post_id,
            like_count,
            comment_count,
            video_photo_views,
            video_photo_impressions,
            video_photo_reach,
            video_photo_shares,
            video_photo_saved,
            carousel_album_reach,
            carousel_album_shares,
            carousel_album_saved,
            reel_views,
            reel_plays,
            reel_reach,
            reel_shares,
            video_views,
            story_views,
            story_impressions,
            story_reach,
            story_shares,
            ROW_NUMBER() OVER (
                PARTITION BY CAST(id AS TEXT) ORDER BY _fivetran_synced DESC
            ) AS snapshot_rank
        FROM media_insights
    ),
    insights AS (
        SELECT *
        FROM insight_snapshots
        WHERE snapshot_rank = 1
    )
    SELECT
        m.post_id AS post_id,
        m.created_time AS published_at,
        m.account_id AS account_id,
        CASE WHEN m.story = 1 THEN 'STORY' ELSE m.media_type END AS post_type,
        CASE
            WHEN m.story = 1 THEN COALESCE(i.story_views, i.story_impressions)
            ELSE COALESCE(i.video_photo_views, i.video_photo_impressions)
        END AS impressions,
        CASE
            WHEN m.story = 1 THEN i.story_reach
            ELSE COALESCE(
                i.video_photo_reach,
                CASE m.media_type
                    WHEN 'CAROUSEL_ALBUM' THEN i.carousel_album_reach
                    WHEN 'VIDEO' THEN i.reel_reach
                END
            )
        END AS reach,
        CASE
            WHEN m.media_type = 'VIDEO'
            THEN COALESCE(i.reel_views, i.video_photo_views, i.reel_plays, i.video_views)
        END AS video_views,
        i.like_count AS likes,
        i.comment_count AS comments,
        CASE
            WHEN m.story = 1 THEN i.story_shares
            ELSE COALESCE(
                i.video_photo_shares,
                CASE m.media_type
                    WHEN 'CAROUSEL_ALBUM' THEN i.carousel_album_shares
                    WHEN 'VIDEO' THEN i.reel_shares
                END
            )
        END AS shares,
        CASE
            WHEN m.story = 1 THEN NULL
            ELSE COALESCE(
                i.video_photo_saved,
                CASE WHEN m.media_type = 'CAROUSEL_ALBUM' THEN i.carousel_album_saved END
            )
        END AS saves
    FROM media AS m
    LEFT JOIN insights AS i
        ON i.post_id = m.post_id
    """
)

ACCOUNT_DAILY = Select(
    """
    SELECT
        v.account_id AS account_id,
        v.sync_day AS "date",
        v.followers_count AS followers
    FROM (
        -- the latest version of each account synced on each UTC day
        SELECT
            CAST(id AS TEXT) AS account_id,
            CAST(_fivetran_synced AS DATE) AS sync_day,
            followers_count,
            ROW_NUMBER() OVER (
                PARTITION BY CAST(id AS TEXT), CAST(_fivetran_synced AS DATE)
                ORDER BY _fivetran_synced DESC
            ) AS version_rank
        FROM user_history
    ) AS v
    WHERE v.version_rank = 1
    """
)

# --------------------------------------------------------------------------- encoding

ENCODE_MEDIA_HISTORY = Select(
    """
    WITH versions AS (
        SELECT 1 AS version UNION ALL SELECT 2 AS version
    )
    SELECT
        p.post_id || '-' || CAST(v.version AS TEXT) AS _fivetran_id,
        p.post_id AS id,
        p.account_id AS user_id,
        p.published_at AS created_time,
        CASE WHEN p.post_type = 'STORY' THEN 'IMAGE' ELSE p.post_type END AS media_type,
        COALESCE(p.post_type = 'STORY', FALSE) AS is_story,
        CAST(NULL AS TEXT) AS carousel_album_id,
        CASE WHEN v.version = 1 THEN 'draft caption' ELSE 'caption' END AS caption,
        CASE
            WHEN v.version = 1
            THEN COALESCE(p.published_at, CAST('2024-01-01' AS TIMESTAMP)) + INTERVAL 1 HOUR
            ELSE COALESCE(p.published_at, CAST('2024-01-01' AS TIMESTAMP)) + INTERVAL 1 DAY
        END AS _fivetran_synced
    FROM posts AS p
    CROSS JOIN versions AS v
    """
)

ENCODE_MEDIA_INSIGHTS = Select(
    """
    WITH snapshots AS (
        SELECT 1 AS snapshot UNION ALL SELECT 2 AS snapshot
    ),
    scaled AS (
        -- snapshot 1 is an early sync (every count halved), snapshot 2 the current one
        SELECT
            p.post_id,
            s.snapshot,
            COALESCE(p.published_at, CAST('2024-01-01' AS TIMESTAMP))
                + CASE WHEN s.snapshot = 1 THEN INTERVAL 1 DAY ELSE INTERVAL 2 DAY END
                AS synced,
            CASE WHEN p.post_type = 'STORY' THEN 1 ELSE 0 END AS story,
            p.post_type,
            -- views exist from 2025-04-01; a video without video views keeps its
            -- impressions in the deprecated column (video_photo_views would be read back
            -- as its video views)
            CASE
                WHEN p.published_at < CAST('2025-04-01' AS TIMESTAMP) THEN 0
                WHEN p.post_type = 'VIDEO' AND p.video_views IS NULL THEN 0
                ELSE 1
            END AS uses_views,
            CASE WHEN s.snapshot = 1 THEN p.impressions // 2 ELSE p.impressions END
                AS impressions,
            CASE WHEN s.snapshot = 1 THEN p.reach // 2 ELSE p.reach END AS reach,
            CASE WHEN s.snapshot = 1 THEN p.video_views // 2 ELSE p.video_views END
                AS video_views,
            CASE WHEN s.snapshot = 1 THEN p.likes // 2 ELSE p.likes END AS likes,
            CASE WHEN s.snapshot = 1 THEN p.comments // 2 ELSE p.comments END AS comments,
            CASE WHEN s.snapshot = 1 THEN p.shares // 2 ELSE p.shares END AS shares,
            CASE WHEN s.snapshot = 1 THEN p.saves // 2 ELSE p.saves END AS saves
        FROM posts AS p
        CROSS JOIN snapshots AS s
    ),
    families AS (
        SELECT
            post_id,
            snapshot,
            synced,
            story,
            post_type,
            uses_views,
            likes,
            comments,
            video_views,
            CASE WHEN story = 0 AND uses_views = 1 THEN impressions END AS feed_views,
            CASE WHEN story = 0 AND uses_views = 0 THEN impressions END AS feed_impressions,
            CASE WHEN story = 0 THEN reach END AS feed_reach,
            CASE WHEN story = 0 THEN shares END AS feed_shares,
            CASE WHEN story = 0 THEN saves END AS feed_saved,
            CASE WHEN story = 1 AND uses_views = 1 THEN impressions END AS story_views,
            CASE WHEN story = 1 AND uses_views = 0 THEN impressions END AS story_impressions,
            CASE WHEN story = 1 THEN reach END AS story_reach,
            CASE WHEN story = 1 THEN shares END AS story_shares
        FROM scaled
    )
    SELECT
        post_id || '-' || CAST(snapshot AS TEXT) AS _fivetran_id,
        post_id AS id,
        synced AS _fivetran_synced,
        likes AS like_count,
        comments AS comment_count,
        feed_views AS video_photo_views,
        feed_impressions AS video_photo_impressions,
        feed_reach AS video_photo_reach,
        feed_shares AS video_photo_shares,
        feed_saved AS video_photo_saved,
        -- the connector repeats the feed family in the media's own family
        CASE WHEN post_type = 'CAROUSEL_ALBUM' THEN feed_views END AS carousel_album_views,
        CASE WHEN post_type = 'CAROUSEL_ALBUM' THEN feed_impressions END
            AS carousel_album_impressions,
        CASE WHEN post_type = 'CAROUSEL_ALBUM' THEN feed_reach END AS carousel_album_reach,
        CASE WHEN post_type = 'CAROUSEL_ALBUM' THEN feed_shares END AS carousel_album_shares,
        CASE WHEN post_type = 'CAROUSEL_ALBUM' THEN feed_saved END AS carousel_album_saved,
        CASE WHEN post_type = 'VIDEO' AND uses_views = 1 THEN video_views END AS reel_views,
        CASE WHEN post_type = 'VIDEO' AND uses_views = 0 THEN video_views END AS reel_plays,
        CASE WHEN post_type = 'VIDEO' THEN feed_reach END AS reel_reach,
        CASE WHEN post_type = 'VIDEO' THEN feed_shares END AS reel_shares,
        CASE WHEN post_type = 'VIDEO' THEN likes END AS reel_likes,
        CASE WHEN post_type = 'VIDEO' THEN comments END AS reel_comments,
        CAST(NULL AS BIGINT) AS video_views,
        story_views AS story_views,
        story_impressions AS story_impressions,
        story_reach AS story_reach,
        story_shares AS story_shares
    FROM families
    """
)

ENCODE_USER_HISTORY = Select(
    """
    WITH versions AS (
        SELECT 1 AS version UNION ALL SELECT 2 AS version
    )
    SELECT
        a.account_id || '-' || CAST(a."date" AS TEXT) || '-' || CAST(v.version AS TEXT)
            AS _fivetran_id,
        a.account_id AS id,
        CAST(a."date" AS TIMESTAMP)
            + CASE WHEN v.version = 1 THEN INTERVAL 6 HOUR ELSE INTERVAL 23 HOUR END
            AS _fivetran_synced,
        CASE
            WHEN v.version = 1 THEN a.followers - COALESCE(a.followers_gained, 0)
            ELSE a.followers
        END AS followers_count,
        a.account_id AS username
    FROM account_daily AS a
    CROSS JOIN versions AS v
    """
)

# --------------------------------------------------------------------------- conforming
#
# Sample data (`kpiframe sample-data`) draws generic post types (photo, video, text, link,
# carousel) and gives every post a video view count. These queries put the rows in
# Instagram's own terms before they are written, so every layout holds the same facts.

#: generic post types in Instagram's terms; any other value is kept
POST_TYPES = {
    "photo": "IMAGE",
    "image": "IMAGE",
    "text": "IMAGE",
    "link": "IMAGE",
    "video": "VIDEO",
    "reel": "VIDEO",
    "carousel": "CAROUSEL_ALBUM",
    "carousel_album": "CAROUSEL_ALBUM",
    "story": "STORY",
}

CONFORM = {
    source: conform_fields(
        source,
        {"post_type": recode("LOWER(post_type)", POST_TYPES, default="post_type")},
        # video views only for video media; stories report no saves
        {
            "video_views": "CASE WHEN post_type = 'VIDEO' THEN video_views END",
            "saves": "CASE WHEN post_type = 'STORY' THEN NULL ELSE saves END",
        },
    )
    for source in ("posts", "post_daily")
}

INTERACTIONS = {
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saves": "saved",
    "clicks": "profile visits",
}

FIVETRAN = Layout(
    name="fivetran",
    default_schema="instagram_business",
    description=(
        "Fivetran Instagram Business: media_history and media_insights (latest snapshot, "
        "one metric family per media), user_history (follower snapshots)"
    ),
    sources={"posts": POSTS, "account_daily": ACCOUNT_DAILY},
    encoders={
        "media_history": ENCODE_MEDIA_HISTORY,
        "media_insights": ENCODE_MEDIA_INSIGHTS,
        "user_history": ENCODE_USER_HISTORY,
    },
    conform=CONFORM,
)

PLATFORM = Platform(
    name="instagram",
    label="Instagram",
    description="Instagram business accounts: feed media, reels, stories and followers",
    layouts=[CANONICAL, FIVETRAN],
    interactions=INTERACTIONS,
    weights=default_weights(INTERACTIONS),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
