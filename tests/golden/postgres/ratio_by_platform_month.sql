WITH "agg_post_daily" AS (
  SELECT
    "period",
    "platform",
    CASE
      WHEN COUNT(*) > 0
      THEN COALESCE(CAST(SUM("likes") AS DECIMAL(38, 0)), 0) + 2 * COALESCE(
        CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "comments" END) AS DECIMAL(38, 0)),
        0
      ) + 3 * COALESCE(
        CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "shares" END) AS DECIMAL(38, 0)),
        0
      ) + 2 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "saves" END) AS DECIMAL(38, 0)), 0) + 0.5 * COALESCE(
        CAST(SUM(CASE WHEN "platform" IN ('alpha') THEN "clicks" END) AS DECIMAL(38, 0)),
        0
      ) + 3 * COALESCE(
        CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "comments" END) AS DECIMAL(38, 0)),
        0
      ) + 5 * COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "shares" END) AS DECIMAL(38, 0)), 0) + COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "saves" END) AS DECIMAL(38, 0)), 0) + COALESCE(CAST(SUM(CASE WHEN "platform" IN ('beta') THEN "clicks" END) AS DECIMAL(38, 0)), 0)
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
      CAST("date" AS DATE) AS "_day",
      CAST(DATE_TRUNC('MONTH', CAST("date" AS DATE)) AS DATE) AS "period"
    FROM (
      SELECT
        CAST('alpha' AS TEXT) AS "platform",
        CAST("date" AS DATE) AS "date",
        CAST("impressions" AS BIGINT) AS "impressions",
        CAST("likes" AS BIGINT) AS "likes",
        CAST("comments" AS BIGINT) AS "comments",
        CAST("shares" AS BIGINT) AS "shares",
        CAST("saves" AS BIGINT) AS "saves",
        CAST("clicks" AS BIGINT) AS "clicks"
      FROM "alpha"."post_daily"
      UNION ALL
      SELECT
        CAST('beta' AS TEXT) AS "platform",
        CAST("date" AS DATE) AS "date",
        CAST("impressions" AS BIGINT) AS "impressions",
        CAST("likes" AS BIGINT) AS "likes",
        CAST("comments" AS BIGINT) AS "comments",
        CAST("shares" AS BIGINT) AS "shares",
        CAST(NULL AS BIGINT) AS "saves",
        CAST("clicks" AS BIGINT) AS "clicks"
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
      CAST("mentioned_at" AS DATE) AS "_day",
      CAST(DATE_TRUNC('MONTH', CAST("mentioned_at" AS DATE)) AS DATE) AS "period"
    FROM (
      SELECT
        CAST('alpha' AS TEXT) AS "platform",
        "mentioned_at" AS "mentioned_at",
        CAST("is_own_brand" AS BOOLEAN) AS "is_own_brand"
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
), "spine" AS (
  SELECT
    "p"."period"
  FROM (
    SELECT
      CAST(GENERATE_SERIES(CAST("b"."spine_lo" AS TIMESTAMP), CAST("b"."hi" AS TIMESTAMP), INTERVAL '1 MONTH') AS DATE) AS "period"
    FROM "bounds" AS "b"
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
    CAST("j1"."m_engagement" AS DOUBLE PRECISION) / NULLIF(CAST("j1"."m_impressions" AS DOUBLE PRECISION), 0)
  ) * 100 AS "engagement_rate",
  (
    CAST(COALESCE("j2"."m_own_mentions", 0) AS DOUBLE PRECISION) / NULLIF(CAST(COALESCE("j2"."m_mentions", 0) AS DOUBLE PRECISION), 0)
  ) * 100 AS "share_of_voice"
FROM "base"
LEFT JOIN "agg_post_daily" AS "j1"
  ON "j1"."period" = "base"."period"
  AND ARRAY["j1"."platform"] = ARRAY["base"."platform"]
LEFT JOIN "agg_mentions" AS "j2"
  ON "j2"."period" = "base"."period"
  AND ARRAY["j2"."platform"] = ARRAY["base"."platform"]
ORDER BY
  "base"."period",
  "base"."platform"
