"""LinkedIn Company Pages as a kpiframe platform.

Two layouts:

`canonical` (the default): one table per canonical source. LinkedIn has no saves,
so `saves` is absent (NULL), and its follower statistics report gains but no losses, so
`followers_lost` is absent too. Reshares are `shares`; `clicks` are all clicks on a post.

`fivetran`: the raw tables of Fivetran's LinkedIn Company Pages connector,
default schema `linkedin_company_pages`. It reads nine tables:

- `ugc_post_history`, `share_history` (versions of UGC posts and of shares);
- `organization_ugc_post`, `organization_share` (which organization posted what);
- `ugc_post_share_statistic`, `share_share_statistic` (bridges to the statistics rows,
  one row per statistics snapshot);
- `share_statistic` (lifetime statistics snapshots);
- `post_content`, `share_content` (the content type of each post).

Mapping decisions:

- Only `posts` is provided. The statistics are lifetime snapshots, so there is no native
  `post_daily` (FIVETRAN.md recommends against deriving it from sync dates), and the layout
  has no follower or page tables, so no `account_daily`.
- UGC posts and shares are read together. Post versions are ordered by
  `last_modified_time` (not `_fivetran_synced`): the latest version of each post is kept,
  and the post only if that version's `lifecycle_state` is `PUBLISHED` or
  `PUBLISHED_EDITED` (LinkedIn's state for a published post edited later: still live).
  Drafts, posts still processing or failed, and deleted posts are left out. Should one id
  be both a published UGC post and a published share, the UGC post is kept, so `post_id`
  stays a key.
- `post_id` is the numeric id: UGC post URNs (`urn:li:ugcPost:<n>` or `urn:li:share:<n>`)
  are stripped with REPLACE, which runs on every engine; share ids (19-digit bigints) are
  cast to text, never through a float. Every id is compared as stripped text on both sides
  of every join, so the four spellings of one post (two URNs, bigint, text) meet.
- The statistics are reached through the bridge row with the latest `_fivetran_synced`
  per post (`ugc_post_share_statistic` for UGC posts, `share_share_statistic` for
  shares), whose `share_statistic_id` picks the `share_statistic` row (its
  `_fivetran_id`): the statistics table's own sync order is not used.
- `published_at` = `first_published_at`, falling back to `created_time`. `account_id` =
  the organization of the bridge (`organization_ugc_post` / `organization_share`; the
  smallest id as text should a post have several, so the bridge cannot fan out), falling
  back to an `urn:li:organization:` `author`, then to the statistics row's
  `_organization_entity_urn` (prefixes stripped), and last to any other `author` URN
  as it stands (a member's post, `urn:li:person:<id>`).
  `post_type` = `post_content.type` / `share_content.type` (the smallest, should there be
  several). The `organization` table is not read: it only adds names.
- Metrics of the current statistics snapshot: impressions (`impression_count`), likes
  (`like_count`, which can be negative), comments (`comment_count`), shares
  (`share_count`), clicks (`click_count`); NULL when a post has no statistics. The
  `engagement` rate is never read (a rate is not a count). `is_paid`, `reach`,
  `video_views` and `saves` are NULL: no column in this layout.

Every one of the nine tables must exist. Connections old enough to lack the share tables
need empty tables (or views) of that name until kpiframe can mark a table optional.

Encoders (`kpiframe sample-data`) write canonical rows in this layout. A post whose id ends
in 2, 5 or 8 becomes a share, every other post a UGC post, spelled `urn:li:share:<id>`
when its id ends in 1, 4 or 7 and `urn:li:ugcPost:<id>` otherwise (the organization bridge
always says `urn:li:ugcPost:`, the statistics bridge the bare id). Each post gets two
versions (a DRAFT, modified an hour before publication but synced last, then the
PUBLISHED one) and two statistics snapshots (an early one with every count halved,
rounded down, and the current one), linked by two bridge rows of which the current one is
synced last, while the statistics table itself syncs the early snapshot last. Ids are
written as text, so any canonical id survives.

The round trip canonical -> encoders -> bindings gives back every field this layout
provides (post_id, published_at, account_id, post_type, impressions, likes, comments,
shares, clicks) exactly, under one condition:

1. `post_id` and `account_id` contain no URN prefix (`urn:li:ugcPost:`, `urn:li:share:`,
   `urn:li:organization:`): the reader strips those.

What cannot round-trip: `is_paid`, `reach`, `video_views` (no column), and the
`post_daily` and `account_daily` sources (not in this layout).
"""

from __future__ import annotations

import kpiframe
from kpiframe.platform import Layout, Platform, Select, canonical_layout, default_weights

__version__ = "0.1.0"

CANONICAL = canonical_layout(
    lacks={
        "posts": ["saves"],
        "post_daily": ["saves"],
        "account_daily": ["followers_lost"],
    },
)

# --------------------------------------------------------------------------- reading

POSTS = Select(
    """
    WITH ugc_versions AS (
        SELECT
            REPLACE(REPLACE(CAST(id AS TEXT), 'urn:li:ugcPost:', ''), 'urn:li:share:', '')
                AS post_id,
            CAST(author AS TEXT) AS author,
            created_time,
            first_published_at,
            lifecycle_state,
            ROW_NUMBER() OVER (
                PARTITION BY
                    REPLACE(REPLACE(CAST(id AS TEXT), 'urn:li:ugcPost:', ''), 'urn:li:share:', '')
                ORDER BY last_modified_time DESC
            ) AS version_rank
        FROM ugc_post_history
    ),
    share_versions AS (
        SELECT
            REPLACE(CAST(id AS TEXT), 'urn:li:share:', '') AS post_id,
            CAST(author AS TEXT) AS author,
            created_time,
            first_published_at,
            lifecycle_state,
            ROW_NUMBER() OVER (
                PARTITION BY REPLACE(CAST(id AS TEXT), 'urn:li:share:', '')
                ORDER BY last_modified_time DESC
            ) AS version_rank
        FROM share_history
    ),
    published AS (
        -- the latest version of each post, if published; a UGC post wins over a share
        SELECT
            b.post_id,
            b.kind,
            b.author,
            b.created_time,
            b.first_published_at,
            ROW_NUMBER() OVER (PARTITION BY b.post_id ORDER BY b.kind_order) AS kind_rank
        FROM (
            SELECT
                post_id, 'ugc' AS kind, 1 AS kind_order, author, created_time,
                first_published_at
            FROM ugc_versions
            WHERE version_rank = 1 AND lifecycle_state IN ('PUBLISHED', 'PUBLISHED_EDITED')
            UNION ALL
            SELECT
                post_id, 'share' AS kind, 2 AS kind_order, author, created_time,
                first_published_at
            FROM share_versions
            WHERE version_rank = 1 AND lifecycle_state IN ('PUBLISHED', 'PUBLISHED_EDITED')
        ) AS b
    ),
    statistic_links AS (
        -- the current statistics row of each post: its bridge row synced last
        SELECT l.kind, l.post_id, l.share_statistic_id
        FROM (
            SELECT
                'ugc' AS kind,
                REPLACE(
                    REPLACE(CAST(ugc_post_id AS TEXT), 'urn:li:ugcPost:', ''),
                    'urn:li:share:', ''
                ) AS post_id,
                CAST(share_statistic_id AS TEXT) AS share_statistic_id,
                ROW_NUMBER() OVER (
                    PARTITION BY
                        REPLACE(
                            REPLACE(CAST(ugc_post_id AS TEXT), 'urn:li:ugcPost:', ''),
                            'urn:li:share:', ''
                        )
                    ORDER BY _fivetran_synced DESC
                ) AS link_rank
            FROM ugc_post_share_statistic
            UNION ALL
            SELECT
                'share' AS kind,
                REPLACE(CAST(share_id AS TEXT), 'urn:li:share:', '') AS post_id,
                CAST(share_statistic_id AS TEXT) AS share_statistic_id,
                ROW_NUMBER() OVER (
                    PARTITION BY REPLACE(CAST(share_id AS TEXT), 'urn:li:share:', '')
                    ORDER BY _fivetran_synced DESC
                ) AS link_rank
            FROM share_share_statistic
        ) AS l
        WHERE l.link_rank = 1
    ),
    organizations AS (
        -- one organization per post, so the bridges cannot fan out
        SELECT
            'ugc' AS kind,
            REPLACE(
                REPLACE(CAST(ugc_post_id AS TEXT), 'urn:li:ugcPost:', ''), 'urn:li:share:', ''
            ) AS post_id,
            MIN(CAST(organization_id AS TEXT)) AS organization_id
        FROM organization_ugc_post
        GROUP BY
            REPLACE(
                REPLACE(CAST(ugc_post_id AS TEXT), 'urn:li:ugcPost:', ''), 'urn:li:share:', ''
            )
        UNION ALL
        SELECT
            'share' AS kind,
            REPLACE(CAST(share_id AS TEXT), 'urn:li:share:', '') AS post_id,
            MIN(CAST(organization_id AS TEXT)) AS organization_id
        FROM organization_share
        GROUP BY REPLACE(CAST(share_id AS TEXT), 'urn:li:share:', '')
    ),
    content_types AS (
        SELECT
            'ugc' AS kind,
            REPLACE(
                REPLACE(CAST(post_id AS TEXT), 'urn:li:ugcPost:', ''), 'urn:li:share:', ''
            ) AS post_id,
            MIN("type") AS post_type
        FROM post_content
        GROUP BY
            REPLACE(
                REPLACE(CAST(post_id AS TEXT), 'urn:li:ugcPost:', ''), 'urn:li:share:', ''
            )
        UNION ALL
        SELECT
            'share' AS kind,
            REPLACE(CAST(share_id AS TEXT), 'urn:li:share:', '') AS post_id,
            MIN("type") AS post_type
        FROM share_content
        GROUP BY REPLACE(CAST(share_id AS TEXT), 'urn:li:share:', '')
    )
    SELECT
        p.post_id AS post_id,
        COALESCE(p.first_published_at, p.created_time) AS published_at,
        COALESCE(
            o.organization_id,
            CASE
                WHEN p.author LIKE 'urn:li:organization:%'
                THEN REPLACE(p.author, 'urn:li:organization:', '')
            END,
            REPLACE(CAST(s._organization_entity_urn AS TEXT), 'urn:li:organization:', ''),
            p.author
        ) AS account_id,
        t.post_type AS post_type,
        s.impression_count AS impressions,
        s.like_count AS likes,
        s.comment_count AS comments,
        s.share_count AS shares,
        s.click_count AS clicks
    FROM published AS p
    LEFT JOIN statistic_links AS l
        ON l.kind = p.kind AND l.post_id = p.post_id
    LEFT JOIN share_statistic AS s
        ON CAST(s._fivetran_id AS TEXT) = l.share_statistic_id
    LEFT JOIN organizations AS o
        ON o.kind = p.kind AND o.post_id = p.post_id
    LEFT JOIN content_types AS t
        ON t.kind = p.kind AND t.post_id = p.post_id
    WHERE p.kind_rank = 1
    """
)

# --------------------------------------------------------------------------- encoding
#
# Every encoder splits `posts` the same way: ids ending in 2, 5 or 8 are shares, the others
# UGC posts, whose URN says `urn:li:share:` for ids ending in 1, 4 or 7.

ENCODE_UGC_POST_HISTORY = Select(
    """
    WITH versions AS (
        SELECT 1 AS version UNION ALL SELECT 2 AS version
    ),
    ugc AS (
        SELECT
            CASE
                WHEN RIGHT(post_id, 1) IN ('1', '4', '7') THEN 'urn:li:share:'
                ELSE 'urn:li:ugcPost:'
            END || post_id AS urn,
            account_id,
            published_at,
            COALESCE(published_at, CAST('2024-01-01' AS TIMESTAMP)) AS base
        FROM posts
        WHERE RIGHT(post_id, 1) NOT IN ('2', '5', '8')
    )
    SELECT
        u.urn AS id,
        'urn:li:organization:' || u.account_id AS author,
        u.published_at - INTERVAL 1 HOUR AS created_time,
        CASE WHEN v.version = 2 THEN u.published_at END AS first_published_at,
        CASE WHEN v.version = 1 THEN u.base - INTERVAL 1 HOUR ELSE u.base END
            AS last_modified_time,
        CASE WHEN v.version = 1 THEN 'DRAFT' ELSE 'PUBLISHED' END AS lifecycle_state,
        'PUBLIC' AS visibility,
        CASE WHEN v.version = 1 THEN 'draft' ELSE 'post' END AS commentary,
        -- the draft is re-synced after the published version: versions are ordered by
        -- last_modified_time, not by _fivetran_synced
        u.base + CASE WHEN v.version = 1 THEN INTERVAL 2 DAY ELSE INTERVAL 1 DAY END
            AS _fivetran_synced
    FROM ugc AS u
    CROSS JOIN versions AS v
    """
)

ENCODE_SHARE_HISTORY = Select(
    """
    WITH versions AS (
        SELECT 1 AS version UNION ALL SELECT 2 AS version
    ),
    shares AS (
        SELECT
            post_id,
            account_id,
            published_at,
            COALESCE(published_at, CAST('2024-01-01' AS TIMESTAMP)) AS base
        FROM posts
        WHERE RIGHT(post_id, 1) IN ('2', '5', '8')
    )
    SELECT
        s.post_id AS id,
        'urn:li:organization:' || s.account_id AS author,
        s.published_at - INTERVAL 1 HOUR AS created_time,
        CASE WHEN v.version = 2 THEN s.published_at END AS first_published_at,
        CASE WHEN v.version = 1 THEN s.base - INTERVAL 1 HOUR ELSE s.base END
            AS last_modified_time,
        CASE WHEN v.version = 1 THEN 'DRAFT' ELSE 'PUBLISHED' END AS lifecycle_state,
        'PUBLIC' AS visibility,
        CASE WHEN v.version = 1 THEN 'draft' ELSE 'post' END AS commentary,
        s.base + CASE WHEN v.version = 1 THEN INTERVAL 2 DAY ELSE INTERVAL 1 DAY END
            AS _fivetran_synced
    FROM shares AS s
    CROSS JOIN versions AS v
    """
)

ENCODE_ORGANIZATION_UGC_POST = Select(
    """
    SELECT
        account_id AS organization_id,
        'urn:li:ugcPost:' || post_id AS ugc_post_id
    FROM posts
    WHERE RIGHT(post_id, 1) NOT IN ('2', '5', '8') AND account_id IS NOT NULL
    """
)

ENCODE_ORGANIZATION_SHARE = Select(
    """
    SELECT
        account_id AS organization_id,
        post_id AS share_id
    FROM posts
    WHERE RIGHT(post_id, 1) IN ('2', '5', '8') AND account_id IS NOT NULL
    """
)

ENCODE_UGC_POST_SHARE_STATISTIC = Select(
    """
    WITH snapshots AS (
        SELECT 1 AS snapshot UNION ALL SELECT 2 AS snapshot
    )
    SELECT
        p.post_id AS ugc_post_id,
        'ss-' || p.post_id || '-' || CAST(s.snapshot AS TEXT) AS share_statistic_id,
        COALESCE(p.published_at, CAST('2024-01-01' AS TIMESTAMP))
            + CASE WHEN s.snapshot = 1 THEN INTERVAL 1 DAY ELSE INTERVAL 2 DAY END
            AS _fivetran_synced
    FROM posts AS p
    CROSS JOIN snapshots AS s
    WHERE RIGHT(p.post_id, 1) NOT IN ('2', '5', '8')
    """
)

ENCODE_SHARE_SHARE_STATISTIC = Select(
    """
    WITH snapshots AS (
        SELECT 1 AS snapshot UNION ALL SELECT 2 AS snapshot
    )
    SELECT
        p.post_id AS share_id,
        'ss-' || p.post_id || '-' || CAST(s.snapshot AS TEXT) AS share_statistic_id,
        COALESCE(p.published_at, CAST('2024-01-01' AS TIMESTAMP))
            + CASE WHEN s.snapshot = 1 THEN INTERVAL 1 DAY ELSE INTERVAL 2 DAY END
            AS _fivetran_synced
    FROM posts AS p
    CROSS JOIN snapshots AS s
    WHERE RIGHT(p.post_id, 1) IN ('2', '5', '8')
    """
)

ENCODE_SHARE_STATISTIC = Select(
    """
    WITH snapshots AS (
        SELECT 1 AS snapshot UNION ALL SELECT 2 AS snapshot
    ),
    counts AS (
        -- snapshot 1 is an early sync (every count halved), snapshot 2 the current one
        SELECT
            p.post_id,
            p.account_id,
            s.snapshot,
            COALESCE(p.published_at, CAST('2024-01-01' AS TIMESTAMP)) AS base,
            CASE
                WHEN RIGHT(p.post_id, 1) IN ('2', '5', '8', '1', '4', '7')
                THEN 'urn:li:share:'
                ELSE 'urn:li:ugcPost:'
            END || p.post_id AS urn,
            CASE WHEN s.snapshot = 1 THEN p.impressions // 2 ELSE p.impressions END
                AS impressions,
            CASE WHEN s.snapshot = 1 THEN p.likes // 2 ELSE p.likes END AS likes,
            CASE WHEN s.snapshot = 1 THEN p.comments // 2 ELSE p.comments END AS comments,
            CASE WHEN s.snapshot = 1 THEN p.shares // 2 ELSE p.shares END AS shares,
            CASE WHEN s.snapshot = 1 THEN p.clicks // 2 ELSE p.clicks END AS clicks
        FROM posts AS p
        CROSS JOIN snapshots AS s
    )
    SELECT
        'ss-' || post_id || '-' || CAST(snapshot AS TEXT) AS _fivetran_id,
        urn AS _share_entity_urn,
        'urn:li:organization:' || account_id AS _organization_entity_urn,
        impressions AS impression_count,
        likes AS like_count,
        comments AS comment_count,
        shares AS share_count,
        clicks AS click_count,
        CASE
            WHEN impressions > 0
            THEN CAST(likes + comments + shares + clicks AS DOUBLE) / impressions
        END AS engagement,
        -- the statistics table syncs the early snapshot last: only the bridge orders them
        base + CASE WHEN snapshot = 1 THEN INTERVAL 3 DAY ELSE INTERVAL 2 DAY END
            AS _fivetran_synced
    FROM counts
    """
)

ENCODE_POST_CONTENT = Select(
    """
    SELECT
        'pc-' || post_id AS _fivetran_id,
        CASE
            WHEN RIGHT(post_id, 1) IN ('1', '4', '7') THEN 'urn:li:share:'
            ELSE 'urn:li:ugcPost:'
        END || post_id AS post_id,
        post_type AS "type"
    FROM posts
    WHERE RIGHT(post_id, 1) NOT IN ('2', '5', '8')
    """
)

ENCODE_SHARE_CONTENT = Select(
    """
    SELECT
        'sc-' || post_id AS _fivetran_id,
        post_id AS share_id,
        post_type AS "type"
    FROM posts
    WHERE RIGHT(post_id, 1) IN ('2', '5', '8')
    """
)

INTERACTIONS = {
    "likes": "likes",
    "comments": "comments",
    "shares": "reshares",
    "clicks": "clicks",
}

FIVETRAN = Layout(
    name="fivetran",
    default_schema="linkedin_company_pages",
    description=(
        "Fivetran LinkedIn Company Pages: UGC posts and shares (latest published version), "
        "their organizations, content types and current share statistics"
    ),
    sources={"posts": POSTS},
    encoders={
        "ugc_post_history": ENCODE_UGC_POST_HISTORY,
        "share_history": ENCODE_SHARE_HISTORY,
        "organization_ugc_post": ENCODE_ORGANIZATION_UGC_POST,
        "organization_share": ENCODE_ORGANIZATION_SHARE,
        "ugc_post_share_statistic": ENCODE_UGC_POST_SHARE_STATISTIC,
        "share_share_statistic": ENCODE_SHARE_SHARE_STATISTIC,
        "share_statistic": ENCODE_SHARE_STATISTIC,
        "post_content": ENCODE_POST_CONTENT,
        "share_content": ENCODE_SHARE_CONTENT,
    },
)

PLATFORM = Platform(
    name="linkedin",
    label="LinkedIn",
    description="LinkedIn Company Pages: organization posts and page activity",
    layouts=[CANONICAL, FIVETRAN],
    interactions=INTERACTIONS,
    weights=default_weights(INTERACTIONS),
)


@kpiframe.hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [PLATFORM]
