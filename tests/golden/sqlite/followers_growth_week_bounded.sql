WITH "agg_account_daily" AS (
  SELECT
    "period",
    SUM(
      CASE
        WHEN "_rn_m_followers" = 1
        AND (
          "_day" >= '2024-01-15'
          AND NOT (
            "followers"
          ) IS NULL
          AND NOT (
            "_t"
          ) IS NULL
        )
        THEN "followers"
      END
    ) AS "m_followers",
    SUM(
      CASE
        WHEN "_rn_w_followers" = 1
        AND (
          NOT (
            "followers"
          ) IS NULL AND NOT (
            "_t"
          ) IS NULL
        )
        THEN "followers"
      END
    ) AS "w_followers"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (
        PARTITION BY "platform", "account_id", "period"
        ORDER BY CASE
          WHEN "_day" >= '2024-01-15'
          AND NOT (
            "followers"
          ) IS NULL
          AND NOT (
            "_t"
          ) IS NULL
          THEN 0
          ELSE 1
        END NULLS LAST, "_t" DESC, "followers" DESC
      ) AS "_rn_m_followers",
      ROW_NUMBER() OVER (
        PARTITION BY "platform", "account_id", "period"
        ORDER BY CASE WHEN NOT (
          "followers"
        ) IS NULL AND NOT (
          "_t"
        ) IS NULL THEN 0 ELSE 1 END NULLS LAST, "_t" DESC, "followers" DESC
      ) AS "_rn_w_followers"
    FROM (
      SELECT
        "platform",
        "account_id",
        "date",
        "followers",
        "date" AS "_t",
        DATE("date") AS "_day",
        DATE(DATE("date"), '-6 days', 'weekday 1') AS "period"
      FROM (
        SELECT
          CAST('alpha' AS TEXT) AS "platform",
          CAST("account_id" AS TEXT) AS "account_id",
          DATE("date") AS "date",
          CAST("followers" AS INTEGER) AS "followers"
        FROM "alpha"."account_daily"
        UNION ALL
        SELECT
          CAST('beta' AS TEXT) AS "platform",
          CAST("account_id" AS TEXT) AS "account_id",
          DATE("date") AS "date",
          CAST("followers" AS INTEGER) AS "followers"
        FROM "beta"."account_daily"
      ) AS "s"
      WHERE
        DATE("date") >= '2024-01-08' AND DATE("date") <= '2024-02-25'
    ) AS "r"
  ) AS "w"
  GROUP BY
    "period"
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
    "d0"."d" AS "n"
  FROM "digits" AS "d0"
), "spine" AS (
  SELECT
    "p"."period"
  FROM (
    SELECT
      DATE('2024-01-15', PRINTF('%+d days', "n"."n" * 7)) AS "period"
    FROM "nums" AS "n"
    WHERE
      "n"."n" < 6
  ) AS "p"
  WHERE
    "p"."period" <= '2024-02-19'
), "base" AS (
  SELECT
    "s"."period"
  FROM "spine" AS "s"
  WHERE
    "s"."period" >= '2024-01-15'
)
SELECT
  "base"."period",
  "j1"."m_followers" AS "followers",
  (
    CAST((
      "j1"."m_followers"
    ) - (
      "j2"."w_followers"
    ) AS REAL) / NULLIF(CAST("j2"."w_followers" AS REAL), 0)
  ) * 100 AS "follower_growth_rate"
FROM "base"
LEFT JOIN "agg_account_daily" AS "j1"
  ON "j1"."period" = "base"."period"
LEFT JOIN "agg_account_daily" AS "j2"
  ON "j2"."period" = DATE("base"."period", PRINTF('%+d days', -7))
ORDER BY
  "base"."period" NULLS LAST
