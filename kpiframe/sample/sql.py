"""The generator's fixed SQL (DuckDB dialect), run set-based for all platforms at once.

Randomness. Every random number is a hash: `kf_row(seed, a, b)` hashes a platform's seed
and a row's ids into the row's key `h` (computed once per row, in a subquery), and
`kf_u(h, stream)` hashes the key with a stream number into a uniform number in (0, 1);
`kf_n` is a standard normal (Box-Muller) and `kf_rr(x, h, stream)` rounds `x` at random to
an integer with mean `x`. The hash is murmur3's 32-bit finaliser written in plain integer
SQL rather than DuckDB's `hash()`, whose values may change between DuckDB versions, so a
seed gives the same rows on any machine and any DuckDB. Streams are numbered once in this
file, so no two draws of a row share one. (DuckDB inlines macros: hashing a precomputed
key keeps the expressions, and so the planning time, small.)

Determinism. Rows are numbered by `row_number() OVER (PARTITION BY pi ORDER BY <ids>)`,
never in scan order, and every count is an integer drawn per row, never a sum of
floating-point numbers whose order a parallel engine may change.

Tables. The statements read `params` (one row per platform, `pi` its index; see
`flavour.Params`), `post_types` and `brands`, and write `days`, `accounts`, `pages`,
`post_seeds` (internal) and the six canonical sources, each with `pi` and every canonical
field but `platform`.
"""

from __future__ import annotations

_M = "CAST(4294967295 AS UBIGINT)"

MACROS = (
    f"""
    CREATE OR REPLACE TEMP MACRO kf_m1(x) AS
        (xor(x, x >> 16) * CAST(2246822507 AS UBIGINT)) & {_M}
    """,
    f"""
    CREATE OR REPLACE TEMP MACRO kf_m2(x) AS
        (xor(x, x >> 13) * CAST(3266489909 AS UBIGINT)) & {_M}
    """,
    """
    CREATE OR REPLACE TEMP MACRO kf_mix(x) AS xor(kf_m2(kf_m1(x)), kf_m2(kf_m1(x)) >> 16)
    """,
    f"""
    CREATE OR REPLACE TEMP MACRO kf_row(s, a, b) AS kf_mix((
        (CAST(s AS UBIGINT) & {_M})
        + ((CAST(a AS UBIGINT) & {_M}) * CAST(2246822519 AS UBIGINT) & {_M})
        + ((CAST(b AS UBIGINT) & {_M}) * CAST(3266489917 AS UBIGINT) & {_M})
    ) & {_M})
    """,
    f"""
    CREATE OR REPLACE TEMP MACRO kf_u(h, k) AS (CAST(kf_mix(
        (h + CAST(k AS UBIGINT) * CAST(2654435769 AS UBIGINT)) & {_M}
    ) AS DOUBLE) + 0.5) / 4294967296.0
    """,
    """
    CREATE OR REPLACE TEMP MACRO kf_n(h, k) AS
        sqrt(-2.0 * ln(kf_u(h, k))) * cos(2.0 * pi() * kf_u(h, k + 7919))
    """,
    """
    CREATE OR REPLACE TEMP MACRO kf_rr(x, h, k) AS
        CAST(floor(greatest(x, 0.0) + kf_u(h, k)) AS BIGINT)
    """,
)

#: the calendar of the window: weekly seasonality, a yearly wave, a trend, campaign days
DAYS = """
CREATE OR REPLACE TABLE days AS
SELECT
    c.pi AS pi,
    c.d AS d,
    c.day AS day,
    isodow(c.day) >= 6 AS weekend,
    (CASE WHEN isodow(c.day) >= 6 THEN c.weekend_factor ELSE 1.0 END)
        * (1.0 + 0.12 * sin(2.0 * pi() * (dayofyear(c.day) - 80) / 365.25))
        * (1.0 + c.trend * c.d / 365.0)
        * (CASE WHEN kf_u(c.h, 1) < 0.02 THEN 1.5 + kf_u(c.h, 2) ELSE 1.0 END) AS activity
FROM (
    SELECT
        p.pi AS pi,
        p.weekend AS weekend_factor,
        p.trend AS trend,
        r.range AS d,
        CAST(p.start_date + CAST(r.range AS INTEGER) AS DATE) AS day,
        kf_row(p.pseed, r.range, 0) AS h
    FROM params AS p, range(p.ndays) AS r
) AS c
"""

#: the brand's accounts on each platform: a main account and smaller topic accounts
ACCOUNTS = """
CREATE OR REPLACE TABLE accounts AS
SELECT
    a.pi AS pi,
    a.account_no AS account_no,
    a.account_id AS account_id,
    CAST(p.audience * a.size AS BIGINT) + 100 AS followers0,
    p.post_rate * CASE
        WHEN a.account_no = 0 THEN 1.0
        ELSE 0.3 + 0.4 * kf_u(a.h, 12)
    END AS post_rate,
    p.growth * exp(0.25 * kf_n(a.h, 13)) AS growth,
    p.churn * exp(0.25 * kf_n(a.h, 14)) AS churn,
    p.message_rate * CASE
        WHEN a.account_no = 0 THEN 1.0
        ELSE 0.25 + 0.3 * kf_u(a.h, 15)
    END AS message_rate,
    exp(0.3 * kf_n(a.h, 16)) AS quality
FROM (
    SELECT
        r.pi AS pi,
        r.account_no AS account_no,
        r.h AS h,
        CASE r.account_no
            WHEN 0 THEN 'brand'
            WHEN 1 THEN 'brand_support'
            WHEN 2 THEN 'brand_careers'
            WHEN 3 THEN 'brand_news'
            ELSE 'brand_' || lpad(CAST(r.account_no + 1 AS VARCHAR), 4, '0')
        END AS account_id,
        CASE
            WHEN r.account_no = 0 THEN 1.0
            ELSE (0.05 + 0.25 * kf_u(r.h, 10)) * exp(0.5 * kf_n(r.h, 11))
        END AS size
    FROM (
        SELECT p.pi AS pi, n.range AS account_no, kf_row(p.pseed, n.range, 0) AS h
        FROM params AS p, range(p.n_accounts) AS n
    ) AS r
) AS a
JOIN params AS p ON p.pi = a.pi
"""

#: landing pages with Zipf-distributed traffic and their own goal and conversion rates
PAGES = """
CREATE OR REPLACE TABLE pages AS
SELECT
    r.pi AS pi,
    r.page_no AS page_no,
    CASE r.page_no
        WHEN 0 THEN '/'
        WHEN 1 THEN '/pricing'
        WHEN 2 THEN '/blog'
        WHEN 3 THEN '/product'
        WHEN 4 THEN '/signup'
        WHEN 5 THEN '/features'
        WHEN 6 THEN '/about'
        WHEN 7 THEN '/contact'
        ELSE '/blog/post-' || CAST(r.page_no - 7 AS VARCHAR)
    END AS landing_page,
    (1.0 / (r.page_no + 1)) / r.page_norm AS weight,
    CASE
        WHEN r.page_no IN (1, 4) THEN 0.15 + 0.2 * kf_u(r.h, 130)
        ELSE 0.01 + 0.08 * kf_u(r.h, 130)
    END AS goal_rate,
    CASE
        WHEN r.page_no IN (1, 4) THEN 2.5
        WHEN r.page_no = 3 THEN 1.5
        ELSE 0.4 + 0.6 * kf_u(r.h, 131)
    END AS conversion_factor
FROM (
    SELECT p.pi AS pi, p.page_norm AS page_norm, n.range AS page_no,
        kf_row(p.pseed, n.range, 0) AS h
    FROM params AS p, range(p.n_pages) AS n
) AS r
"""

#: one row per post: when, by whom, what type, paid or not, and its hidden potential
POST_SEEDS = """
CREATE OR REPLACE TABLE post_seeds AS
WITH slots AS (
    -- up to 8 posts per account and day, each slot kept with the account's daily rate / 8
    SELECT
        a.pi, a.account_no, a.account_id, a.followers0, a.quality, d.d, d.day,
        s.range AS slot,
        least(a.post_rate * CASE WHEN d.weekend THEN p.weekend_posting ELSE 1.0 END, 7.5)
            / 8.0 AS chance,
        kf_row(p.pseed, a.account_no, d.d * 8 + s.range) AS h
    FROM accounts AS a
    JOIN params AS p ON p.pi = a.pi
    JOIN days AS d ON d.pi = a.pi
    CROSS JOIN range(8) AS s
),
numbered AS (
    SELECT
        pi, account_no, account_id, followers0, quality, d, day,
        row_number() OVER (PARTITION BY pi ORDER BY account_no, d, slot) AS post_no
    FROM slots
    WHERE kf_u(h, 20) < chance
),
keyed AS (
    SELECT n.*, kf_row(p.pseed, n.post_no, 0) AS h
    FROM numbered AS n
    JOIN params AS p ON p.pi = n.pi
),
drawn AS (
    SELECT
        k.*,
        kf_u(k.h, 21) AS u_type,
        kf_u(k.h, 22) < p.paid_share AS is_paid,
        -- publication time: 06:00 to 23:00 UTC, most around early afternoon
        CAST(floor(3600.0 * (6.0 + 17.0 * (kf_u(k.h, 23) + kf_u(k.h, 24)) / 2.0)) AS BIGINT)
            AS second_of_day,
        -- heavy tail: log-normal potential, and now and then a post that goes viral
        exp(p.sigma * kf_n(k.h, 25)) * CASE
            WHEN kf_u(k.h, 26) < 0.004 THEN 8.0 + 40.0 * kf_u(k.h, 27)
            ELSE 1.0
        END AS virality
    FROM keyed AS k
    JOIN params AS p ON p.pi = k.pi
)
SELECT
    x.pi AS pi,
    x.post_no AS post_no,
    CAST(p.id_base + x.post_no AS VARCHAR) AS post_id,
    x.account_no AS account_no,
    x.account_id AS account_id,
    x.d AS d,
    CAST(x.day AS TIMESTAMP) + to_seconds(x.second_of_day) AS published_at,
    t.post_type AS post_type,
    t.is_video AS is_video,
    x.is_paid AS is_paid,
    least(
        x.followers0 * p.reach_factor * t.boost * x.quality * x.virality
            * CASE WHEN x.is_paid THEN p.paid_boost ELSE 1.0 END,
        2.0e9
    ) AS potential,
    exp(-1.0 / (p.tau * exp(0.3 * kf_n(x.h, 28))
        * CASE WHEN t.is_video THEN 1.5 ELSE 1.0 END)) AS decay,
    p.like_rate * t.engage * exp(0.35 * kf_n(x.h, 29)) AS like_rate,
    p.comment_rate * t.engage * exp(0.4 * kf_n(x.h, 30)) AS comment_rate,
    p.share_rate * t.engage * exp(0.5 * kf_n(x.h, 31)) AS share_rate,
    p.save_rate * t.engage * exp(0.4 * kf_n(x.h, 32)) AS save_rate,
    p.click_rate * CASE WHEN t.post_type = 'link' THEN 3.0 ELSE 1.0 END
        * exp(0.4 * kf_n(x.h, 33)) AS click_rate,
    CASE WHEN t.is_video THEN p.view_rate * exp(0.2 * kf_n(x.h, 34)) ELSE 0.0 END AS view_rate,
    0.6 + 0.35 * kf_u(x.h, 35) AS reach_ratio,
    0.7 + 0.25 * kf_u(x.h, 36) AS reach_dedup
FROM drawn AS x
JOIN params AS p ON p.pi = x.pi
JOIN post_types AS t ON t.pi = x.pi AND x.u_type >= t.lo AND x.u_type < t.hi
"""

#: each post's activity per day since publication, decaying geometrically
POST_DAILY = """
CREATE OR REPLACE TABLE post_daily AS
WITH ages AS (
    SELECT
        s.*,
        a.range AS age,
        kf_row(p.pseed, s.post_no, a.range + 1) AS h
    FROM post_seeds AS s
    JOIN params AS p ON p.pi = s.pi
    CROSS JOIN range(p.horizon) AS a
    WHERE s.d + a.range < p.ndays
),
shown AS (
    SELECT
        g.*,
        dy.day AS day,
        kf_rr(
            g.potential * (1.0 - g.decay) * pow(g.decay, g.age) * dy.activity
                * exp(0.25 * kf_n(g.h, 40)),
            g.h, 41
        ) AS impressions
    FROM ages AS g
    JOIN days AS dy ON dy.pi = g.pi AND dy.d = g.d + g.age
)
SELECT
    s.pi AS pi,
    s.post_id AS post_id,
    s.day AS "date",
    s.account_id AS account_id,
    s.post_type AS post_type,
    s.impressions AS impressions,
    kf_rr(s.impressions * s.reach_ratio, s.h, 42) AS reach,
    kf_rr(s.impressions * s.view_rate, s.h, 43) AS video_views,
    kf_rr(s.impressions * s.like_rate * exp(0.2 * kf_n(s.h, 44)), s.h, 45) AS likes,
    kf_rr(s.impressions * s.comment_rate * exp(0.3 * kf_n(s.h, 46)), s.h, 47) AS comments,
    kf_rr(s.impressions * s.share_rate * exp(0.3 * kf_n(s.h, 48)), s.h, 49) AS shares,
    kf_rr(s.impressions * s.save_rate * exp(0.3 * kf_n(s.h, 50)), s.h, 51) AS saves,
    kf_rr(s.impressions * s.click_rate * exp(0.3 * kf_n(s.h, 52)), s.h, 53) AS clicks
FROM shown AS s
-- the publication day always has a row; later days only while the post is still seen
WHERE s.age = 0 OR s.impressions > 0
"""

#: lifetime totals as of the end of the window: the sum of the post's days (reach, which
#: counts people, deduplicated across days: at least the best day, at most the sum)
POSTS = """
CREATE OR REPLACE TABLE posts AS
SELECT
    s.pi AS pi,
    s.post_id AS post_id,
    s.published_at AS published_at,
    s.account_id AS account_id,
    s.post_type AS post_type,
    s.is_paid AS is_paid,
    CAST(sum(d.impressions) AS BIGINT) AS impressions,
    greatest(max(d.reach), CAST(floor(sum(d.reach) * s.reach_dedup) AS BIGINT)) AS reach,
    CAST(sum(d.video_views) AS BIGINT) AS video_views,
    CAST(sum(d.likes) AS BIGINT) AS likes,
    CAST(sum(d.comments) AS BIGINT) AS comments,
    CAST(sum(d.shares) AS BIGINT) AS shares,
    CAST(sum(d.saves) AS BIGINT) AS saves,
    CAST(sum(d.clicks) AS BIGINT) AS clicks
FROM post_seeds AS s
JOIN post_daily AS d ON d.pi = s.pi AND d.post_id = s.post_id
GROUP BY s.pi, s.post_id, s.published_at, s.account_id, s.post_type, s.is_paid, s.reach_dedup
"""

#: followers as a running balance of gains (a base rate, follows from impressions and
#: occasional spikes) and losses (churn, and now and then a purge of fake accounts)
ACCOUNT_DAILY = """
CREATE OR REPLACE TABLE account_daily AS
WITH shown AS (
    SELECT pi, account_id, "date", sum(impressions) AS impressions
    FROM post_daily
    GROUP BY pi, account_id, "date"
),
grid AS (
    SELECT
        a.pi AS pi,
        a.account_no AS account_no,
        a.account_id AS account_id,
        a.followers0 AS followers0,
        a.growth AS growth,
        a.churn AS churn,
        d.d AS d,
        d.day AS day,
        d.activity AS activity,
        CAST(coalesce(s.impressions, 0) AS BIGINT) AS impressions,
        kf_row(p.pseed, a.account_no, d.d) AS h
    FROM accounts AS a
    JOIN params AS p ON p.pi = a.pi
    JOIN days AS d ON d.pi = a.pi
    LEFT JOIN shown AS s ON s.pi = a.pi AND s.account_id = a.account_id AND s."date" = d.day
),
flows AS (
    SELECT
        g.*,
        kf_rr(
            g.followers0 * g.growth * g.activity * exp(0.35 * kf_n(g.h, 60))
                * CASE
                    WHEN kf_u(g.h, 61) < 0.01 THEN 4.0 + 16.0 * kf_u(g.h, 62)
                    ELSE 1.0
                END
                + g.impressions * p.follow_rate,
            g.h, 63
        ) AS followers_gained,
        kf_rr(
            g.followers0 * g.churn * exp(0.3 * kf_n(g.h, 64))
                * CASE WHEN kf_u(g.h, 65) < 0.004 THEN 12.0 ELSE 1.0 END,
            g.h, 66
        ) AS followers_lost,
        kf_rr(
            g.followers0 * p.profile_view_rate * g.activity * exp(0.3 * kf_n(g.h, 67))
                + g.impressions * 0.003,
            g.h, 68
        ) AS profile_views,
        kf_rr(g.impressions * (0.45 + 0.3 * kf_u(g.h, 69)), g.h, 70) AS reach
    FROM grid AS g
    JOIN params AS p ON p.pi = g.pi
)
SELECT
    pi AS pi,
    account_id AS account_id,
    day AS "date",
    CAST(followers0 + sum(followers_gained - followers_lost) OVER (
        PARTITION BY pi, account_no ORDER BY d
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS followers,
    followers_gained AS followers_gained,
    followers_lost AS followers_lost,
    profile_views AS profile_views,
    impressions AS impressions,
    reach AS reach
FROM flows
"""

#: mentions of our brand and its competitors, with news days that tilt the sentiment
MENTIONS = """
CREATE OR REPLACE TABLE mentions AS
WITH per_day AS (
    SELECT
        d.pi AS pi,
        d.d AS d,
        d.day AS day,
        kf_u(d.h, 80) < 0.025 AS news,
        kf_u(d.h, 81) < 0.5 AS good_news,
        kf_rr(
            p.mention_rate * d.activity * exp(0.3 * kf_n(d.h, 82))
                * CASE WHEN kf_u(d.h, 80) < 0.025 THEN 3.0 + 4.0 * kf_u(d.h, 83) ELSE 1.0 END,
            d.h, 84
        ) AS n
    FROM (
        SELECT x.*, kf_row(p.pseed, x.d, 0) AS h
        FROM days AS x
        JOIN params AS p ON p.pi = x.pi
    ) AS d
    JOIN params AS p ON p.pi = d.pi
),
numbered AS (
    SELECT
        m.pi, m.d, m.day, m.news, m.good_news,
        row_number() OVER (PARTITION BY m.pi ORDER BY m.d, i.range) AS mention_no
    FROM per_day AS m, range(m.n) AS i
),
keyed AS (
    SELECT n.*, kf_row(p.pseed, n.mention_no, 0) AS h
    FROM numbered AS n
    JOIN params AS p ON p.pi = n.pi
),
drawn AS (
    SELECT
        k.*,
        b.brand AS brand,
        b.is_own AS is_own,
        kf_u(k.h, 86) AS u_sentiment,
        CASE
            WHEN k.news AND b.is_own AND k.good_news THEN least(b.positive * 1.8, 0.85)
            WHEN k.news AND b.is_own THEN b.positive * 0.5
            ELSE b.positive
        END AS positive,
        CASE
            WHEN k.news AND b.is_own AND k.good_news THEN b.negative * 0.5
            WHEN k.news AND b.is_own THEN least(b.negative * 3.0, 0.6)
            ELSE b.negative
        END AS negative
    FROM keyed AS k
    JOIN brands AS b
        ON b.pi = k.pi AND kf_u(k.h, 85) >= b.lo AND kf_u(k.h, 85) < b.hi
),
classified AS (
    SELECT
        x.*,
        CASE
            WHEN x.u_sentiment < x.positive THEN 'positive'
            WHEN x.u_sentiment >= 1.0 - x.negative THEN 'negative'
            ELSE 'neutral'
        END AS sentiment
    FROM drawn AS x
)
SELECT
    c.pi AS pi,
    CAST(p.id_base + 100000000000000000 + c.mention_no AS VARCHAR) AS mention_id,
    CAST(c.day AS TIMESTAMP)
        + to_seconds(CAST(floor(86400.0 * (kf_u(c.h, 87) + kf_u(c.h, 88)) / 2.0) AS BIGINT))
        AS mentioned_at,
    c.brand AS brand,
    c.is_own AS is_own_brand,
    c.sentiment AS sentiment,
    round(CASE c.sentiment
        WHEN 'positive' THEN 0.1 + 0.9 * sqrt(kf_u(c.h, 89))
        WHEN 'negative' THEN -0.1 - 0.9 * sqrt(kf_u(c.h, 89))
        ELSE 0.2 * (kf_u(c.h, 89) - 0.5)
    END, 3) AS sentiment_score,
    -- Pareto: most authors have a few hundred followers, a few have millions
    CAST(least(floor(p.author_min * pow(kf_u(c.h, 90), -1.0 / 1.1)), 50000000) AS BIGINT)
        AS author_followers
FROM classified AS c
JOIN params AS p ON p.pi = c.pi
"""

#: inbound messages; most needing an answer get one within hours, some never
MESSAGES = """
CREATE OR REPLACE TABLE messages AS
WITH per_day AS (
    SELECT
        g.pi, g.account_no, g.account_id, g.d, g.day, g.weekend,
        kf_rr(g.message_rate * g.activity * exp(0.3 * kf_n(g.h, 100)), g.h, 101) AS n
    FROM (
        SELECT
            a.pi AS pi,
            a.account_no AS account_no,
            a.account_id AS account_id,
            a.message_rate AS message_rate,
            d.d AS d,
            d.day AS day,
            d.weekend AS weekend,
            d.activity AS activity,
            kf_row(p.pseed, a.account_no, d.d) AS h
        FROM accounts AS a
        JOIN params AS p ON p.pi = a.pi
        JOIN days AS d ON d.pi = a.pi
    ) AS g
),
numbered AS (
    SELECT
        m.pi, m.account_id, m.d, m.day, m.weekend,
        row_number() OVER (PARTITION BY m.pi ORDER BY m.account_no, m.d, i.range)
            AS message_no
    FROM per_day AS m, range(m.n) AS i
),
keyed AS (
    SELECT n.*, kf_row(p.pseed, n.message_no, 0) AS h
    FROM numbered AS n
    JOIN params AS p ON p.pi = n.pi
),
drawn AS (
    SELECT
        k.*,
        CAST(k.day AS TIMESTAMP)
            + to_seconds(CAST(floor(86400.0 * (kf_u(k.h, 102) + kf_u(k.h, 103)) / 2.0)
                AS BIGINT)) AS received_at,
        kf_u(k.h, 104) < p.needs_response AS needs_response,
        kf_u(k.h, 105) AS u_answer,
        greatest(30, CAST(round(p.response_median * exp(1.2 * kf_n(k.h, 106))
            * CASE WHEN k.weekend THEN 2.0 ELSE 1.0 END) AS BIGINT)) AS delay
    FROM keyed AS k
    JOIN params AS p ON p.pi = k.pi
),
answered AS (
    SELECT
        x.*,
        CASE
            WHEN x.needs_response THEN x.u_answer < p.answer_rate
            ELSE x.u_answer < 0.12
        END
        -- a reply after the end of the window has not happened yet
        AND x.received_at + to_seconds(x.delay)
            < CAST(p.start_date + CAST(p.ndays AS INTEGER) AS TIMESTAMP) AS is_answered
    FROM drawn AS x
    JOIN params AS p ON p.pi = x.pi
)
SELECT
    x.pi AS pi,
    CAST(p.id_base + 200000000000000000 + x.message_no AS VARCHAR) AS message_id,
    x.received_at AS received_at,
    x.account_id AS account_id,
    x.needs_response AS needs_response,
    CASE WHEN x.is_answered THEN x.received_at + to_seconds(x.delay) END AS responded_at,
    CASE WHEN x.is_answered THEN x.delay END AS response_seconds
FROM answered AS x
JOIN params AS p ON p.pi = x.pi
"""

#: sessions each platform refers to the website, per landing page and day
WEB_SESSIONS = """
CREATE OR REPLACE TABLE web_sessions AS
WITH visits AS (
    SELECT
        v.*,
        kf_rr(v.session_rate * v.weight * v.activity * exp(0.35 * kf_n(v.h, 120)), v.h, 121)
            AS sessions
    FROM (
        SELECT
            g.pi AS pi,
            g.page_no AS page_no,
            g.landing_page AS landing_page,
            g.weight AS weight,
            g.goal_rate AS goal_rate,
            g.conversion_factor AS conversion_factor,
            p.session_rate AS session_rate,
            d.d AS d,
            d.day AS day,
            d.activity AS activity,
            kf_row(p.pseed, g.page_no, d.d) AS h
        FROM pages AS g
        JOIN params AS p ON p.pi = g.pi
        JOIN days AS d ON d.pi = g.pi
    ) AS v
),
outcomes AS (
    SELECT
        v.*,
        least(v.sessions, kf_rr(v.sessions * p.new_user_rate * exp(0.1 * kf_n(v.h, 122)),
                                v.h, 123)) AS new_users,
        least(v.sessions, kf_rr(v.sessions * v.goal_rate * exp(0.25 * kf_n(v.h, 124)),
                                v.h, 125)) AS goal_completions,
        least(v.sessions, kf_rr(v.sessions * p.conversion_rate * v.conversion_factor
                                * exp(0.3 * kf_n(v.h, 126)), v.h, 127)) AS conversions
    FROM visits AS v
    JOIN params AS p ON p.pi = v.pi
    WHERE v.sessions > 0
)
SELECT
    o.pi AS pi,
    o.day AS "date",
    o.landing_page AS landing_page,
    o.sessions AS sessions,
    o.new_users AS new_users,
    o.goal_completions AS goal_completions,
    o.conversions AS conversions,
    CAST(o.conversions * p.order_value * exp(0.35 * kf_n(o.h, 128)) AS DECIMAL(18, 2))
        AS revenue
FROM outcomes AS o
JOIN params AS p ON p.pi = o.pi
"""

#: (what the step makes, the statements), in order
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("calendar, accounts and pages", (DAYS, ACCOUNTS, PAGES)),
    ("posts and post_daily", (POST_SEEDS, POST_DAILY, POSTS)),
    ("account_daily", (ACCOUNT_DAILY,)),
    ("mentions", (MENTIONS,)),
    ("messages", (MESSAGES,)),
    ("web_sessions", (WEB_SESSIONS,)),
)

#: tables only the generator reads, dropped once the sources are made
INTERNAL = ("post_seeds", "pages", "accounts", "days")

#: DuckDB types of the staged canonical columns (what the written tables get)
TYPES = {
    "text": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
#: decimal fields stored exactly rather than as DOUBLE
EXACT = {("web_sessions", "revenue"): "DECIMAL(18, 2)"}
