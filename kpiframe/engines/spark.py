"""Apache Spark through a SparkSession: `spark://local` runs one in-process.

`spark://local?warehouse=DIR` puts managed tables under DIR; `spark://host:7077` connects to
a standalone master. Schemas are Spark databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import parse_url
from kpiframe.platform import Result


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
        from sqlglot import exp

        create = exp.Create(kind="SCHEMA", this=exp.Table(this=exp.to_identifier(schema)),
                            exists=True)
        self.spark.sql(create.sql(dialect="spark", identify=True))

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        from sqlglot import exp

        from kpiframe.engines.base import column_type

        ddl = ", ".join(
            exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=column_type(k)).sql(
                dialect="spark")
            for n, k in columns
        )
        self.ensure_schema(schema)
        # Spark's DECIMAL columns take Decimal values only: floats are converted exactly as
        # they print (0.31, not 0.310000000000000053...)
        exact = [i for i, (_, kind) in enumerate(columns) if kind == "decimal"]
        data = [tuple(_decimal(v) if i in exact else v for i, v in enumerate(r)) for r in rows]
        frame = self.spark.createDataFrame(data, schema=ddl)
        target = exp.Table(this=exp.to_identifier(table, quoted=True),
                           db=exp.to_identifier(schema, quoted=True))
        frame.write.mode("overwrite").saveAsTable(target.sql(dialect="spark"))

    def close(self) -> None:
        pass  # the session is shared by the process; Spark stops it at exit

    def columns(self, schema: str, table: str) -> frozenset[str] | None:
        """The columns of `schema.table` from spark.catalog, None when there is no such
        table: checked before a query runs."""
        from sqlglot import exp

        # one qualified name (the dbName argument is deprecated since Spark 3.4)
        name = exp.Table(this=exp.to_identifier(table, quoted=True),
                         db=exp.to_identifier(schema, quoted=True)).sql(dialect="spark")
        if not self.spark.catalog.tableExists(name):
            return None
        return frozenset(c.name for c in self.spark.catalog.listColumns(name))


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(repr(value)) if isinstance(value, float) else value
