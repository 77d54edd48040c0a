WITH "agg_account_daily" AS (
  SELECT
    "period",
    SUM("p_m_followers") AS "m_followers",
    SUM("p_w_followers") AS "w_followers"
  FROM (
    SELECT
      "period",
      "platform",
      "account_id",
      CAST((
        (
          MAX(
            CAST("_t" - CAST('1970-01-01' AS DATE) AS INT128) * 18446744073709551616 + "followers" + 9223372036854775808
          ) FILTER(WHERE
            "_day" >= CAST('2024-01-15' AS DATE))
        ) & 18446744073709551615
      ) - 9223372036854775808 AS BIGINT) AS "p_m_followers",
      CAST((
        (
          MAX(
            CAST("_t" - CAST('1970-01-01' AS DATE) AS INT128) * 18446744073709551616 + "followers" + 9223372036854775808
          )
        ) & 18446744073709551615
      ) - 9223372036854775808 AS BIGINT) AS "p_w_followers"
    FROM (
      SELECT
        "platform",
        "account_id",
        "date",
        "followers",
        "date" AS "_t",
        CAST("date" AS DATE) AS "_day",
        CAST(DATE_TRUNC('WEEK', CAST("date" AS DATE)) AS DATE) AS "period"
      FROM (
        SELECT
          CAST('alpha' AS TEXT) AS "platform",
          CAST("account_id" AS TEXT) AS "account_id",
          CAST("date" AS DATE) AS "date",
          CAST("followers" AS BIGINT) AS "followers"
        FROM "alpha"."account_daily"
        UNION ALL
        SELECT
          CAST('beta' AS TEXT) AS "platform",
          CAST("account_id" AS TEXT) AS "account_id",
          CAST("date" AS DATE) AS "date",
          CAST("followers" AS BIGINT) AS "followers"
        FROM "beta"."account_daily"
      ) AS "s"
      WHERE
        CAST("date" AS DATE) >= CAST('2024-01-08' AS DATE)
        AND CAST("date" AS DATE) <= CAST('2024-02-25' AS DATE)
    ) AS "r"
    GROUP BY
      "period",
      "platform",
      "account_id"
  ) AS "e"
  GROUP BY
    "period"
), "spine" AS (
  SELECT
    "p"."period"
  FROM (
    SELECT
      CAST(UNNEST(GENERATE_SERIES(CAST('2024-01-15' AS DATE), CAST('2024-02-19' AS DATE), INTERVAL '7' DAY)) AS DATE) AS "period"
  ) AS "p"
  WHERE
    "p"."period" <= CAST('2024-02-19' AS DATE)
), "base" AS (
  SELECT
    "s"."period"
  FROM "spine" AS "s"
  WHERE
    "s"."period" >= CAST('2024-01-15' AS DATE)
)
SELECT
  "base"."period",
  "j1"."m_followers" AS "followers",
  (
    CAST((
      "j1"."m_followers"
    ) - (
      "j2"."w_followers"
    ) AS DOUBLE) / NULLIF(CAST("j2"."w_followers" AS DOUBLE), 0)
  ) * 100 AS "follower_growth_rate"
FROM "base"
LEFT JOIN "agg_account_daily" AS "j1"
  ON "j1"."period" = "base"."period"
LEFT JOIN "agg_account_daily" AS "j2"
  ON "j2"."period" = CAST("base"."period" + INTERVAL (-7) DAY AS DATE)
ORDER BY
  "base"."period"
