WITH `day_post_daily` AS (
  SELECT
    `period`,
    SUM(`likes`) AS `m_likes`,
    COUNT(*) AS `_rows`
  FROM (
    SELECT
      `platform`,
      `date`,
      `likes`,
      `date` AS `_t`,
      CAST(`date` AS DATE) AS `_day`,
      CAST(`date` AS DATE) AS `period`
    FROM (
      SELECT
        CAST('alpha' AS STRING) AS `platform`,
        CAST(`date` AS DATE) AS `date`,
        CAST(`likes` AS BIGINT) AS `likes`
      FROM `alpha`.`post_daily`
      UNION ALL
      SELECT
        CAST('beta' AS STRING) AS `platform`,
        CAST(`date` AS DATE) AS `date`,
        CAST(`likes` AS BIGINT) AS `likes`
      FROM `beta`.`post_daily`
    ) AS `s`
    WHERE
      CAST(`date` AS DATE) <= CAST('2024-03-01' AS DATE)
  ) AS `r`
  GROUP BY
    `period`
), `agg_post_daily` AS (
  SELECT
    `period` AS `period`
  FROM `day_post_daily`
  GROUP BY
    `period`
), `bounds` AS (
  SELECT
    `d`.`lo` AS `lo`,
    `d`.`lo` AS `spine_lo`,
    `d`.`hi` AS `hi`
  FROM (
    SELECT
      MIN(`period`) AS `lo`,
      MAX(`period`) AS `hi`
    FROM (
      SELECT
        `period`
      FROM `agg_post_daily`
    ) AS `d`
  ) AS `d`
), `digits` AS (
  SELECT
    0 AS `d`
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
), `nums` AS (
  SELECT
    `d0`.`d` + 10 * `d1`.`d` + 100 * `d2`.`d` + 1000 * `d3`.`d` + 10000 * `d4`.`d` AS `n`
  FROM `digits` AS `d0`
  CROSS JOIN `digits` AS `d1`
  CROSS JOIN `digits` AS `d2`
  CROSS JOIN `digits` AS `d3`
  CROSS JOIN `digits` AS `d4`
), `spine` AS (
  SELECT
    `p`.`period`,
    `p`.`period` AS `as_of`
  FROM (
    SELECT
      CAST(DATE_ADD(`b`.`spine_lo`, `n`.`n`) AS DATE) AS `period`
    FROM `nums` AS `n`
    CROSS JOIN `bounds` AS `b`
    WHERE
      `n`.`n` < 100000
  ) AS `p`
  WHERE
    `p`.`period` <= CAST('2024-03-01' AS DATE)
), `cum_likes_7d` AS (
  SELECT
    `s`.`period`,
    SUM(`d`.`m_likes`) OVER (ORDER BY `s`.`period` ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS `v`
  FROM `spine` AS `s`
  LEFT JOIN `day_post_daily` AS `d`
    ON `d`.`period` = `s`.`period`
), `cum_likes_mtd` AS (
  SELECT
    `s`.`period`,
    SUM(`d`.`m_likes`) OVER (
      PARTITION BY CAST(TRUNC(`s`.`period`, 'MONTH') AS DATE)
      ORDER BY `s`.`period`
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `v`
  FROM `spine` AS `s`
  LEFT JOIN `day_post_daily` AS `d`
    ON `d`.`period` = `s`.`period`
), `base` AS (
  SELECT
    `s`.`period`
  FROM `spine` AS `s`
)
SELECT
  `base`.`period`,
  `j1`.`v` AS `likes_7d`,
  `j2`.`v` AS `likes_mtd`
FROM `base`
LEFT JOIN `cum_likes_7d` AS `j1`
  ON `j1`.`period` = `base`.`period`
LEFT JOIN `cum_likes_mtd` AS `j2`
  ON `j2`.`period` = `base`.`period`
ORDER BY
  `base`.`period` NULLS LAST
