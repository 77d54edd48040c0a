WITH "agg_posts" AS (
  SELECT
    COUNT(*) AS "m_posts_published"
  FROM (
    SELECT
      "platform",
      "published_at",
      "reach",
      "likes",
      "published_at" AS "_t",
      CAST("published_at" AS DATE) AS "_day"
    FROM (
      SELECT
        CAST('alpha' AS TEXT) AS "platform",
        "published_at" AS "published_at",
        CAST("reach" AS BIGINT) AS "reach",
        CAST("likes" AS BIGINT) AS "likes"
      FROM "alpha"."posts"
      UNION ALL
      SELECT
        CAST('beta' AS TEXT) AS "platform",
        "published_at" AS "published_at",
        CAST(NULL AS BIGINT) AS "reach",
        CAST("likes" AS BIGINT) AS "likes"
      FROM "beta"."posts"
    ) AS "s"
  ) AS "r"
), "agg_post_daily" AS (
  SELECT
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
    END AS "m_engagement"
  FROM (
    SELECT
      "platform",
      "date",
      "likes",
      "comments",
      "shares",
      "saves",
      "clicks",
      "date" AS "_t",
      CAST("date" AS DATE) AS "_day"
    FROM (
      SELECT
        CAST('alpha' AS TEXT) AS "platform",
        CAST("date" AS DATE) AS "date",
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
        CAST("likes" AS BIGINT) AS "likes",
        CAST("comments" AS BIGINT) AS "comments",
        CAST("shares" AS BIGINT) AS "shares",
        CAST(NULL AS BIGINT) AS "saves",
        CAST("clicks" AS BIGINT) AS "clicks"
      FROM "beta"."post_daily"
    ) AS "s"
  ) AS "r"
), "avg_avg_like_rate" AS (
  SELECT
    AVG("r") AS "v",
    AVG("wr") AS "w"
  FROM (
    SELECT
      CAST("a"."num" AS DOUBLE PRECISION) / NULLIF(CAST("b"."den" AS DOUBLE PRECISION), 0) AS "r",
      CAST("a"."wnum" AS DOUBLE PRECISION) / NULLIF(CAST("b"."wden" AS DOUBLE PRECISION), 0) AS "wr"
    FROM (
      SELECT
        "platform",
        "post_id",
        SUM("likes") AS "num",
        SUM("likes") AS "wnum"
      FROM (
        SELECT
          "platform",
          "post_id",
          "published_at",
          "reach",
          "likes",
          "published_at" AS "_t",
          CAST("published_at" AS DATE) AS "_day"
        FROM (
          SELECT
            CAST('alpha' AS TEXT) AS "platform",
            CAST("post_id" AS TEXT) AS "post_id",
            "published_at" AS "published_at",
            CAST("reach" AS BIGINT) AS "reach",
            CAST("likes" AS BIGINT) AS "likes"
          FROM "alpha"."posts"
          UNION ALL
          SELECT
            CAST('beta' AS TEXT) AS "platform",
            CAST("post_id" AS TEXT) AS "post_id",
            "published_at" AS "published_at",
            CAST(NULL AS BIGINT) AS "reach",
            CAST("likes" AS BIGINT) AS "likes"
          FROM "beta"."posts"
        ) AS "s"
      ) AS "r"
      GROUP BY
        "platform",
        "post_id"
    ) AS "a"
    LEFT JOIN (
      SELECT
        "platform",
        "post_id",
        MAX("reach") AS "den",
        MAX("reach") AS "wden"
      FROM (
        SELECT
          "platform",
          "post_id",
          "published_at",
          "reach",
          "likes",
          "published_at" AS "_t",
          CAST("published_at" AS DATE) AS "_day"
        FROM (
          SELECT
            CAST('alpha' AS TEXT) AS "platform",
            CAST("post_id" AS TEXT) AS "post_id",
            "published_at" AS "published_at",
            CAST("reach" AS BIGINT) AS "reach",
            CAST("likes" AS BIGINT) AS "likes"
          FROM "alpha"."posts"
          UNION ALL
          SELECT
            CAST('beta' AS TEXT) AS "platform",
            CAST("post_id" AS TEXT) AS "post_id",
            "published_at" AS "published_at",
            CAST(NULL AS BIGINT) AS "reach",
            CAST("likes" AS BIGINT) AS "likes"
          FROM "beta"."posts"
        ) AS "s"
      ) AS "r"
      GROUP BY
        "platform",
        "post_id"
    ) AS "b"
      ON ARRAY["a"."platform"] = ARRAY["b"."platform"]
      AND ARRAY["a"."post_id"] = ARRAY["b"."post_id"]
  ) AS "e"
), "base" AS (
  SELECT
    1 AS "_one"
)
SELECT
  (
    "j1"."v"
  ) * 100 AS "avg_like_rate",
  CAST((
    "j2"."m_engagement"
  ) AS DOUBLE PRECISION) / NULLIF(CAST((
    COALESCE("j3"."m_posts_published", 0)
  ) AS DOUBLE PRECISION), 0) AS "engagement_per_post"
FROM "base"
LEFT JOIN "avg_avg_like_rate" AS "j1"
  ON TRUE
LEFT JOIN "agg_post_daily" AS "j2"
  ON TRUE
LEFT JOIN "agg_posts" AS "j3"
  ON TRUE
