"""Apache Spark: an in-process or standalone-cluster SparkSession (`spark://`), or a
Spark Connect server (`sc://`).

`spark://local` runs Spark in-process on its in-memory catalog: tables live as long as the
process, so only code that loads data in the same process can query them.
`spark://local?warehouse=DIR` keeps managed tables under DIR *and* their catalog: a Hive
metastore in DIR/metastore_db (Derby, embedded, shipped with pyspark), so `kpiframe
sample-data` in one process and `kpiframe query` in the next see the same tables. Derby
lets one process at a time open it. `catalog=memory` keeps the in-memory catalog anyway;
`catalog=hive` without a warehouse uses Spark's default ./spark-warehouse.
`spark://host:7077` connects to a standalone master.

`sc://host:15002` talks to a running Spark Connect server (pip install 'pyspark[connect]');
the server owns the catalog, so every client sees the same tables.

Schemas are Spark databases.
"""

from __future__ import annotations

import os
import shlex
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from kpiframe.engines.base import parse_url
from kpiframe.platform import Result
from kpiframe.problems import KpiframeError, Problem

#: catalog= values: where Spark keeps the names of tables
CATALOGS = ("hive", "memory")


def _quiet() -> None:
    """pyspark warns about pandas versions it has not certified yet on every import: noise
    for a CLI user who does not use pandas through kpiframe."""
    warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")


def catalog_of(url: str, query: dict[str, str]) -> str:
    """The catalog= of a spark:// URL: hive or memory."""
    catalog = query.get("catalog", "hive" if "warehouse" in query else "memory").lower()
    if catalog in ("in-memory", "in_memory"):
        catalog = "memory"
    if catalog not in CATALOGS:
        raise KpiframeError(Problem(
            "engine-url", f"Spark engine URL {url}: unknown catalog '{catalog}'",
            hint="catalog=hive keeps tables between processes (the default with "
            "?warehouse=DIR); catalog=memory forgets them when the process ends"))
    return catalog


def classic_session(url: str) -> Any:
    """A SparkSession for a spark:// URL, configured from its query string."""
    _quiet()
    from pyspark.sql import SparkSession

    parsed = parse_url(url)
    host = parsed.host or "local"
    master = "local[2]" if host == "local" else url.split("?", 1)[0]
    catalog = catalog_of(url, parsed.query)
    builder = (
        SparkSession.builder.master(master)
        .appName("kpiframe")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", parsed.query.get("partitions", "2"))
    )
    java = {"log4j2.configurationFile": _log_config()}
    warehouse = parsed.query.get("warehouse")
    if catalog == "hive":
        # absolute, so a process started elsewhere finds the same tables and metastore
        warehouse = os.path.abspath(warehouse or "spark-warehouse")
        os.makedirs(warehouse, exist_ok=True)
        metastore = os.path.join(warehouse, "metastore_db")
        builder = (
            builder.config("spark.sql.catalogImplementation", "hive")
            .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                    f"jdbc:derby:;databaseName={metastore};create=true")
            .enableHiveSupport()
        )
        # Derby's log goes next to its database, not into the working directory
        java["derby.system.home"] = warehouse
        java["derby.stream.error.file"] = os.path.join(warehouse, "derby.log")
    builder = builder.config("spark.driver.extraJavaOptions", " ".join(
        shlex.quote(f"-D{name}={value}") for name, value in java.items()))
    if warehouse:
        builder = builder.config("spark.sql.warehouse.dir", warehouse)
    if catalog == "hive" and _metastore_busy(os.path.join(warehouse or "", "metastore_db")):
        raise _busy(url, warehouse or "")
    spark = builder.getOrCreate()
    if catalog == "hive":
        _open_metastore(spark, url, warehouse or "")
    return spark


def _answers(url: str, timeout: float = 10.0) -> None:
    """Fail fast when nothing listens at the server's address: the Connect client retries
    a refused connection for minutes before it gives up."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        host, port = parts.hostname or "localhost", parts.port or 15002
    except ValueError:
        raise KpiframeError(Problem(
            "engine-url", f"Spark Connect URL {url} has no valid port",
            hint="sc://host:port, e.g. sc://localhost:15002")) from None
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise KpiframeError(Problem(
            "engine-connect", f"no Spark Connect server answers at {host}:{port} ({error})",
            hint="start one (Spark's sbin/start-connect-server.sh) or check the host and "
            "port in the engine URL")) from None


#: Spark's JVM logs only what is fatal: kpiframe reports every failure itself, as a
#: problem, and a CLI user should not read Spark's start-up chatter or Hive's stack traces
LOG4J2 = """\
rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _log_config() -> str:
    """The log4j2 configuration file for Spark sessions kpiframe starts (written once to
    the temporary folder, atomically, as the JVM needs a file)."""
    import hashlib
    import tempfile

    digest = hashlib.sha256(LOG4J2.encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"kpiframe-spark-log4j2-{digest}.properties")
    if not os.path.isfile(path):
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".partial")
        with os.fdopen(fd, "w") as out:
            out.write(LOG4J2)
        os.replace(partial, path)
    return path


def _metastore_busy(metastore: str) -> bool:
    """Whether another process has the Derby metastore open: Derby holds a lock on
    dbex.lck for as long as it runs (a file left behind by a killed process is not
    locked)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: Spark reports it when the metastore is first used
        return False
    try:
        with open(os.path.join(metastore, "dbex.lck"), "r+b") as lock:
            try:
                fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
    except OSError:  # no metastore yet, or not ours to open
        return False
    return False


def _busy(url: str, warehouse: str) -> KpiframeError:
    return KpiframeError(Problem(
        "engine-connect",
        f"cannot open the Spark catalog of {url}: another process has "
        f"{os.path.join(warehouse, 'metastore_db')} open",
        hint="the embedded metastore admits one Spark process at a time: wait for the other "
        "kpiframe or Spark process to end; for concurrent use, run a Spark Connect server on "
        "the warehouse and use sc://host:port"))


def _open_metastore(spark: Any, url: str, warehouse: str) -> None:
    """Touch the metastore now: the error Spark gives when it cannot, on first use deep
    inside a query, is a page of Java."""
    try:
        spark.catalog.listDatabases()
    except Exception as error:
        if _metastore_busy(os.path.join(warehouse, "metastore_db")):
            raise _busy(url, warehouse) from None
        raise KpiframeError(Problem(
            "engine-connect", f"cannot open the Spark catalog of {url} in "
            f"{os.path.join(warehouse, 'metastore_db')}: {str(error).splitlines()[0][:300]}",
            hint="catalog=memory runs without it (tables are forgotten when the process "
            "ends)")) from None


def connect_session(url: str) -> Any:
    """A Spark Connect session for an sc:// URL."""
    _answers(url)
    _quiet()
    from pyspark.sql import SparkSession

    return (SparkSession.builder.remote(url)
            .config("spark.sql.session.timeZone", "UTC").getOrCreate())


class SparkConnection:
    dialect = "spark"

    def __init__(self, url: str) -> None:
        self.spark = classic_session(url)

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
        exact = {i for i, (_, kind) in enumerate(columns) if kind == "decimal"}
        # a naive datetime is read in the Python process's local time zone: make it UTC,
        # the time zone kpiframe's sessions run in
        stamps = {i for i, (_, kind) in enumerate(columns) if kind == "timestamp"}
        data = [tuple(_decimal(v) if i in exact else _utc(v) if i in stamps else v
                      for i, v in enumerate(r)) for r in rows]
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


def _utc(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(repr(value)) if isinstance(value, float) else value


class SparkConnectConnection(SparkConnection):
    """The same statements and catalog calls as SparkConnection, through a Spark Connect
    server: the server runs them and owns the tables."""

    def __init__(self, url: str) -> None:
        self.spark = connect_session(url)
