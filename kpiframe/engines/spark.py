"""Apache Spark through a SparkSession: `spark://local` runs one in-process.

`spark://local?warehouse=DIR` puts managed tables under DIR; `spark://host:7077` connects to
a standalone master. Schemas are Spark databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import TYPES, parse_url
from kpiframe.platform import Result

_SPARK_TYPES = {**TYPES, "text": "STRING"}


class SparkConnection:
    dialect = "spark"

    def __init__(self, url: str) -> None:
        from pyspark.sql import SparkSession

        parsed = parse_url(url)
        host = parsed.host or "local"
        master = "local[2]" if host == "local" else url.split("?", 1)[0]
        builder = (
            SparkSession.builder.master(master)
            .appName("kpiframe")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", parsed.query.get("partitions", "2"))
        )
        if "warehouse" in parsed.query:
            builder = builder.config("spark.sql.warehouse.dir", parsed.query["warehouse"])
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")

    def execute(self, sql: str) -> Result:
        df = self.spark.sql(sql)
        return Result(list(df.columns), [tuple(r) for r in df.collect()])


    def ensure_schema(self, schema: str) -> None:
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        ddl = ", ".join(f"`{n}` {_SPARK_TYPES[k]}" for n, k in columns)
        self.ensure_schema(schema)
        frame = self.spark.createDataFrame([tuple(r) for r in rows], schema=ddl)
        frame.write.mode("overwrite").saveAsTable(f"`{schema}`.`{table}`")

    def close(self) -> None:
        pass  # the session is shared by the process; Spark stops it at exit
