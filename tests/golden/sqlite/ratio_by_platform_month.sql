WITH "agg_post_daily" AS (
  SELECT
    "period",
    "platform",
    CASE
      WHEN COUNT(*) > 0
      THEN COALESCE(CAST(SUM("likes") AS REAL(38, 0)), 0) + 2 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "comments" END) AS REAL(38, 0)), 0) + 3 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "shares" END) AS REAL(38, 0)), 0) + 2 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "saves" END) AS REAL(38, 0)), 0) + 0.5 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "clicks" END) AS REAL(38, 0)), 0) + 3 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "comments" END) AS REAL(38, 0)), 0) + 5 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "shares" END) AS REAL(38, 0)), 0) + COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "saves" END) AS REAL(38, 0)), 0) + COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "clicks" END) AS REAL(38, 0)), 0)
    END AS "m_engagement",
    SUM("impressions") AS "m_impressions"
  FROM (
    SELECT
      "platform",
      "date",
      "impressions",
      "likes",
      "comments",
      "shares",
      "saves",
      "clicks",
      "date" AS "_t",
      DATE("date") AS "_day",
      DATE(DATE("date"), 'start of month') AS "period"
    FROM (
      SELECT
        CAST('alpha' AS TEXT) AS "platform",
        DATE("date") AS "date",
        CAST("impressions" AS INTEGER) AS "impressions",
        CAST("likes" AS INTEGER) AS "likes",
        CAST("comments" AS INTEGER) AS "comments",
        CAST("shares" AS INTEGER) AS "shares",
        CAST("saves" AS INTEGER) AS "saves",
        CAST("clicks" AS INTEGER) AS "clicks"
      FROM "alpha"."post_daily"
      UNION ALL
      SELECT
        CAST('beta' AS TEXT) AS "platform",
        DATE("date") AS "date",
        CAST("impressions" AS INTEGER) AS "impressions",
        CAST("likes" AS INTEGER) AS "likes",
        CAST("comments" AS INTEGER) AS "comments",
        CAST("shares" AS INTEGER) AS "shares",
        CAST(NULL AS INTEGER) AS "saves",
        CAST("clicks" AS INTEGER) AS "clicks"
      FROM "beta"."post_daily"
    ) AS "s"
  ) AS "r"
  GROUP BY
    "period",
    "platform"
), "agg_mentions" AS (
  SELECT
    "period",
    "platform",
    COUNT(CASE WHEN "is_own_brand" THEN 1 END) AS "m_own_mentions",
    COUNT(*) AS "m_mentions"
  FROM (
    SELECT
      "platform",
      "mentioned_at",
      "is_own_brand",
      "mentioned_at" AS "_t",
      DATE("mentioned_at") AS "_day",
      DATE(DATE("mentioned_at"), 'start of month') AS "period"
    FROM (
      SELECT
        CAST('alpha' AS TEXT) AS "platform",
        "mentioned_at" AS "mentioned_at",
        CAST("is_own_brand" AS INTEGER) AS "is_own_brand"
      FROM "alpha"."mentions"
    ) AS "s"
  ) AS "r"
  GROUP BY
    "period",
    "platform"
), "bounds" AS (
  SELECT
    "d"."lo" AS "lo",
    "d"."lo" AS "spine_lo",
    "d"."hi" AS "hi"
  FROM (
    SELECT
      MIN("period") AS "lo",
      MAX("period") AS "hi"
    FROM (
      SELECT
        "period"
      FROM "agg_post_daily"
      UNION ALL
      SELECT
        "period"
      FROM "agg_mentions"
    ) AS "d"
  ) AS "d"
), "digits" AS (
  SELECT
    0 AS "d"
  UNION ALL
  SELECT
    1
  UNION ALL
  SELECT
    2
  UNION ALL
  SELECT
    3
  UNION ALL
  SELECT
    4
  UNION ALL
  SELECT
    5
  UNION ALL
  SELECT
    6
  UNION ALL
  SELECT
    7
  UNION ALL
  SELECT
    8
  UNION ALL
  SELECT
    9
), "nums" AS (
  SELECT
    "d0"."d" + 10 * "d1"."d" + 100 * "d2"."d" + 1000 * "d3"."d" AS "n"
  FROM "digits" AS "d0"
  CROSS JOIN "digits" AS "d1"
  CROSS JOIN "digits" AS "d2"
  CROSS JOIN "digits" AS "d3"
), "spine" AS (
  SELECT
    "p"."period"
  FROM (
    SELECT
      MIN(
        DATE(
          DATE("b"."spine_lo", 'start of month', PRINTF('%+d months', "n"."n")),
          PRINTF('+%d days', CAST(STRFTIME('%d', "b"."spine_lo") AS INTEGER) - 1)
        ),
        DATE("b"."spine_lo", 'start of month', PRINTF('%+d months', "n"."n"), '+1 month', '-1 day')
      ) AS "period"
    FROM "nums" AS "n"
    CROSS JOIN "bounds" AS "b"
    WHERE
      "n"."n" < 10000
  ) AS "p"
  CROSS JOIN "bounds" AS "b"
  WHERE
    "p"."period" <= "b"."hi"
), "keys" AS (
  SELECT
    "platform"
  FROM "agg_post_daily"
  UNION
  SELECT
    "platform"
  FROM "agg_mentions"
), "base" AS (
  SELECT
    "s"."period",
    "k"."platform"
  FROM "spine" AS "s"
  CROSS JOIN "keys" AS "k"
)
SELECT
  "base"."period",
  "base"."platform",
  (
    CAST("j1"."m_engagement" AS REAL) / NULLIF(CAST("j1"."m_impressions" AS REAL), 0)
  ) * 100 AS "engagement_rate",
  (
    CAST(COALESCE("j2"."m_own_mentions", 0) AS REAL) / NULLIF(CAST(COALESCE("j2"."m_mentions", 0) AS REAL), 0)
  ) * 100 AS "share_of_voice"
FROM "base"
LEFT JOIN "agg_post_daily" AS "j1"
  ON "j1"."period" = "base"."period" AND "j1"."platform" IS "base"."platform"
LEFT JOIN "agg_mentions" AS "j2"
  ON "j2"."period" = "base"."period" AND "j2"."platform" IS "base"."platform"
ORDER BY
  "base"."period" NULLS LAST,
  "base"."platform" NULLS LAST
