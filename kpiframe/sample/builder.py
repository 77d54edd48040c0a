"""Build the sample database: plan, generate per platform, conform, write every layout.

1. **Plan.** For each active platform and each requested layout it has: the target schema
   and the tables to write, from the layout's `encoders` or, for a layout of plain
   `Table` bindings (the canonical one), directly. Clashing targets are refused up front.
2. **Generate** every platform's canonical rows at once (`sql.py`, one row per platform
   in `params`, with its flavour from `flavour.py`) in an in-memory staging database
   attached to the target connection.
3. **Stage** each platform in its own staging schema, restricted to the fields its
   canonical layout provides (the others NULL, the sources it lacks empty); then every
   requested layout's `conform` SELECTs replace the sources they name, so every layout
   written holds the same facts.
4. **Write** all tables in one transaction on the target, so a failed build leaves the
   database as it was, and record what was built in `_kpiframe.sample`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from kpiframe import canonical
from kpiframe.platform import Layout, Platform, PlatformSettings, Select, Table
from kpiframe.plugins import Registry, load_registry
from kpiframe.problems import KpiframeError, Problem, did_you_mean
from kpiframe.project import DEFAULT_ENGINE
from kpiframe.sample import copy, flavour, sql

GENERATOR_VERSION = "1"
STAGING = "kpiframe_sample_staging"
INFO_SCHEMA = "_kpiframe"
INFO_TABLE = "sample"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SampleSummary:
    """What `build` wrote."""

    engine_url: str
    #: "schema.table" -> rows, in the order written
    tables: Mapping[str, int]
    elapsed_seconds: float
    platforms: tuple[str, ...] = ()
    layouts: tuple[str, ...] = ()
    #: requested layouts a platform lacks or cannot write
    notes: tuple[str, ...] = ()
    #: "schema.table" -> (platform, layout) it was written for
    written: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class _Write:
    """One table to write: `select` reads the platform's staging schema."""

    schema: str
    table: str
    select: exp.Query
    label: str  # plugin, layout and encoder, for errors
    layout: str = ""


@dataclass
class _PlatformPlan:
    platform: Platform
    plugin: str
    staging: str
    provided: dict[str, tuple[str, ...]]
    conform: list[Layout] = field(default_factory=list)
    writes: list[_Write] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)


def quoted(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _problem(rule: str, message: str, hint: str | None = None) -> KpiframeError:
    return KpiframeError(Problem(rule, message, hint=hint))


# --------------------------------------------------------------------------- checks


def _check_arguments(scale: float, days: int, seed: int, start: dt.date) -> None:
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise _problem("bad-option", f"scale must be a positive number, not {scale!r}",
                       "1 gives tens of thousands of rows; each unit adds as many")
    if scale > 100_000:
        raise _problem("bad-option", f"scale {scale:g} is too large",
                       "200 is about ten million rows")
    if not isinstance(days, int) or not 1 <= days <= 36_600:
        raise _problem("bad-option", f"days must be a whole number from 1 to 36600, not {days!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise _problem("bad-option", f"seed must be an integer, not {seed!r}")
    if not isinstance(start, dt.date):
        raise _problem("bad-option", f"start must be a date, not {start!r}")


def _check_engine(url: str) -> None:
    """A DuckDB URL kpiframe can write to. `build` writes any engine (other engines get a
    copy, copy.py); what reads the sample data's own record in place (`database_state`,
    the demo) reads DuckDB files only."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme != "duckdb":
        raise _problem(
            "sample-engine",
            f"the demo keeps its sample data in a DuckDB file, not in a '{scheme or url}' "
            "database",
            f"run the demo with --engine duckdb:///path/to/file.duckdb (the default is "
            f"{DEFAULT_ENGINE}); for sample data on {scheme or 'this engine'}: kpiframe "
            f"sample-data --engine {url}, then kpiframe query ... --engine {url}",
        )
    from kpiframe.engines.base import parse_url

    if parse_url(url).query.get("read_only") in ("1", "true"):
        raise _problem("sample-engine", f"cannot write sample data to a read-only database: {url}",
                       "drop ?read_only from the URL")


# --------------------------------------------------------------------------- planning


def _canonical_fields(platform: Platform) -> dict[str, tuple[str, ...]]:
    """Fields per source the platform's canonical layout provides (all, without one)."""
    try:
        layout = platform.layout("canonical")
    except KeyError:
        return {name: tuple(f for f in src.fields if f != "platform")
                for name, src in canonical.SOURCES.items()}
    return {name: tuple(f for f in binding.fields if f != "platform")
            for name, binding in layout.sources.items()}


def _parse(select: Select) -> exp.Query:
    try:
        tree = sqlglot.parse_one(select.sql, read=select.dialect)
    except sqlglot.errors.ParseError as error:
        raise ValueError(f"cannot parse its SQL: {str(error).splitlines()[0]}") from None
    if not isinstance(tree, exp.Query):
        raise ValueError("its SQL is not a query")
    return tree


def _staged(tree: exp.Query, staging: str) -> exp.Query:
    """Point the unqualified canonical tables of an encoder or conform query at staging."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if (not table.args.get("db") and table.name in canonical.SOURCES
                and table.name not in ctes):
            table.set("db", quoted(staging))
            table.set("catalog", quoted(STAGING))
    return tree


def _staging_table(staging: str, name: str) -> exp.Table:
    return exp.Table(this=quoted(name), db=quoted(staging), catalog=quoted(STAGING))


def _column_of(expression: str, dialect: str) -> str | None:
    """The column a `Table` binding maps a field to, if it is a plain column."""
    try:
        node = sqlglot.parse_one(expression, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    if isinstance(node, exp.Column) and not node.table:
        return node.name
    return None


def _direct_writes(layout: Layout, schema: str, staging: str,
                   label: str) -> list[_Write] | str:
    """Writes for a layout of plain tables (the canonical one), or why it has none."""
    writes: list[_Write] = []
    for source, binding in layout.sources.items():
        if not isinstance(binding, Table) or binding.where:
            return "it has no encoders and reads a source through a SELECT or a filter"
        columns: list[exp.Expr] = []
        order = list(canonical.SOURCES[source].fields)
        for name in sorted(binding.columns, key=order.index):
            column = _column_of(binding.columns[name], binding.dialect)
            if column is None:
                return f"it has no encoders and maps {source}.{name} to an expression"
            columns.append(exp.alias_(_typed(source, name), quoted(column)))
        target = exp.to_table(binding.table)
        key = [k for k in canonical.SOURCES[source].key if k in binding.columns]
        select = exp.select(*columns).from_(_staging_table(staging, source))
        if key:
            select = select.order_by(*(exp.column(quoted(k)) for k in key))
        writes.append(_Write(target.db or schema, target.name, select,
                             f"{label} table for {source}"))
    return writes


def _typed(source: str, name: str, present: bool = True) -> exp.Expr:
    kind = sql.EXACT.get((source, name)) or sql.TYPES[canonical.SOURCES[source].fields[name].type]
    value: exp.Expr = exp.column(quoted(name)) if present else exp.null()
    return exp.cast(value, exp.DataType.build(kind, dialect="duckdb"))


def _encoder_writes(layout: Layout, schema: str, staging: str, label: str) -> list[_Write]:
    writes = []
    for native, select in layout.encoders.items():
        what = f"{label} encoder for '{native}'"
        try:
            tree = _staged(_parse(select), staging)
        except ValueError as error:
            raise _problem("sample-encoder", f"{what}: {error}",
                           "fix the plugin, or leave this layout out") from None
        writes.append(_Write(schema, native, tree, what))
    return writes


def _schema_for(platform: Platform, layout: Layout, conf: PlatformSettings) -> str:
    configured = conf.layout or platform.layouts[0].name
    if conf.schema and layout.name == configured:
        return conf.schema
    return layout.default_schema or platform.name


def _plan(registry: Registry, settings: Mapping[str, PlatformSettings],
          layouts: Sequence[str]) -> tuple[list[_PlatformPlan], list[str]]:
    active = registry.active(settings)
    if not active:
        raise _problem(
            "no-platforms", "no platform plugin is loaded, so there is nothing to generate",
            "install the first-party plugins (pip install -e plugins/*) or a kpiframe-<name> "
            "package; `kpiframe plugins` lists what is loaded",
        )
    wanted = list(dict.fromkeys(layouts))
    if not wanted:
        raise _problem("bad-option", "no layout requested", "e.g. --layout canonical")
    known = {layout.name for a in active.values() for layout in a.platform.layouts}
    for name in wanted:
        if name not in known:
            raise _problem("unknown-layout", f"no platform has a layout named '{name}'",
                           did_you_mean(name, known) or "layouts: " + ", ".join(sorted(known)))
    plans: list[_PlatformPlan] = []
    notes: list[str] = []
    for index, name in enumerate(sorted(active)):
        platform = active[name].platform
        conf = settings.get(name, PlatformSettings())
        staging = f"p{index}"
        plan = _PlatformPlan(platform, active[name].plugin, staging, _canonical_fields(platform))
        for layout_name in wanted:
            try:
                layout = platform.layout(layout_name)
            except KeyError:
                notes.append(f"{name} has no '{layout_name}' layout")
                continue
            schema = _schema_for(platform, layout, conf)
            label = f"plugin '{plan.plugin}', platform '{name}', layout '{layout.name}':"
            if layout.encoders:
                writes: list[_Write] | str = _encoder_writes(layout, schema, staging, label)
            else:
                writes = _direct_writes(layout, schema, staging, label)
            if isinstance(writes, str):
                notes.append(f"{name}: cannot write layout '{layout_name}': {writes}")
                continue
            for write in writes:
                write.layout = layout.name
            if layout.conform:
                plan.conform.append(layout)
            plan.writes.extend(writes)
            plan.layouts.append(layout.name)
        if plan.writes:
            plans.append(plan)
    seen: dict[tuple[str, str], str] = {}
    for plan in plans:
        for write in plan.writes:
            key = (write.schema.lower(), write.table.lower())
            writer = f"platform '{plan.platform.name}' ({write.layout} layout)"
            other = seen.setdefault(key, writer)
            if other != writer or sum(
                    (w.schema.lower(), w.table.lower()) == key for w in plan.writes) > 1:
                raise _problem(
                    "sample-table-clash",
                    f"{other} and {writer} would both write {write.schema}.{write.table}",
                    "give one of them another schema in kpiframe.yaml "
                    "(platforms: {name: {schema: ...}})",
                )
    if not plans:
        raise _problem("unknown-layout", "no platform can write the requested layouts: "
                       + "; ".join(notes))
    return plans, notes


# --------------------------------------------------------------------------- generating


class _Builder:
    def __init__(self, con: Any, target: str, progress: Progress | None, total: int) -> None:
        self.con = con
        self.target = target
        self.progress = progress
        self.total = total
        self.done = 0

    def run(self, statement: exp.Expr | str, params: Sequence[Any] | None = None) -> Any:
        text = statement if isinstance(statement, str) else statement.sql(dialect="duckdb")
        return self.con.execute(text, params) if params is not None else self.con.execute(text)

    def step(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(label, self.done, self.total)

    def use(self, catalog: str, schema: str) -> None:
        self.run(exp.Use(this=exp.Table(this=quoted(schema), db=quoted(catalog))))

    def small_table(self, name: str, columns: Sequence[tuple[str, str]],
                    rows: Sequence[Sequence[Any]]) -> None:
        create = exp.Create(
            kind="TABLE",
            replace=True,
            this=exp.Schema(this=exp.Table(this=quoted(name)), expressions=[
                exp.ColumnDef(this=quoted(c), kind=exp.DataType.build(t, dialect="duckdb"))
                for c, t in columns
            ]),
        )
        self.run(create)
        self.con.executemany(_insert(exp.Table(this=quoted(name)), len(columns)),
                             [list(r) for r in rows])

    def generate(self, plans: Sequence[_PlatformPlan], seed: int, scale: float,
                 start: dt.date, days: int) -> None:
        """Every platform's canonical rows at once, in the staging database's `main`."""
        self.use(STAGING, "main")
        params: list[tuple[Any, ...]] = []
        types: list[tuple[Any, ...]] = []
        brands: list[tuple[Any, ...]] = []
        for index, plan in enumerate(plans):
            name = plan.platform.name
            params.append((index, *flavour.params(seed, name, scale, start, days).values()))
            types.extend((index, *row) for row in flavour.post_types(seed, name))
            brands.extend((index, *row) for row in flavour.brands(seed, name))
        self.small_table("params", [("pi", "BIGINT"), *flavour.Params.columns()], params)
        self.small_table("post_types", [("pi", "BIGINT"), ("post_type", "VARCHAR"),
                                        ("lo", "DOUBLE"), ("hi", "DOUBLE"),
                                        ("is_video", "BOOLEAN"), ("boost", "DOUBLE"),
                                        ("engage", "DOUBLE")], types)
        self.small_table("brands", [("pi", "BIGINT"), ("brand", "VARCHAR"),
                                    ("is_own", "BOOLEAN"), ("lo", "DOUBLE"), ("hi", "DOUBLE"),
                                    ("positive", "DOUBLE"), ("negative", "DOUBLE")], brands)
        for label, statements in sql.STEPS:
            for statement in statements:
                self.run(statement)
            self.step(f"generated {label}")
        for internal in sql.INTERNAL:
            self.run(exp.Drop(kind="TABLE", exists=True, tables=[_staging_table("main", internal)]))

    def stage(self, plan: _PlatformPlan, index: int) -> None:
        """The platform's rows in its own staging schema, restricted to the fields it
        provides, then conformed to the layouts that ask for it."""
        self.run(exp.Create(kind="SCHEMA", exists=True,
                            this=exp.Table(db=quoted(plan.staging), catalog=quoted(STAGING))))
        for source, src in canonical.SOURCES.items():
            provided = plan.provided.get(source, ())
            columns = [exp.alias_(_typed(source, f, f in provided), quoted(f))
                       for f in src.fields if f != "platform"]
            where = exp.EQ(this=exp.column(quoted("pi")), expression=exp.Literal.number(index))
            select = exp.select(*columns).from_(_staging_table("main", source)).where(
                where if source in plan.provided else exp.false())
            # a view costs no memory; conform queries replace their sources by tables
            self.run(exp.Create(kind="TABLE" if plan.conform else "VIEW", replace=True,
                                expression=select, this=_staging_table(plan.staging, source)))
        if plan.conform:
            for layout in plan.conform:
                self.apply_conform(plan, layout)
            self.restrict(plan)
            names = ", ".join(layout.name for layout in plan.conform)
            self.step(f"{plan.platform.name}: conformed to {names}")

    def restrict(self, plan: _PlatformPlan) -> None:
        """NULL the fields the platform does not provide; empty the sources it lacks."""
        for source, src in canonical.SOURCES.items():
            table = _staging_table(plan.staging, source)
            if source not in plan.provided:
                self.run(exp.delete(table))
                continue
            missing = [f for f in src.fields
                       if f != "platform" and f not in plan.provided[source]]
            if missing:
                self.run(exp.Update(this=table, expressions=[
                    exp.EQ(this=exp.column(quoted(f)), expression=exp.null()) for f in missing
                ]))

    def apply_conform(self, plan: _PlatformPlan, layout: Layout) -> None:
        """Replace the sources `layout.conform` names by its queries' rows; every query
        reads the rows as they were before any of them ran."""
        label = (f"plugin '{plan.plugin}', platform '{plan.platform.name}', "
                 f"layout '{layout.name}':")
        staged: list[tuple[str, str, set[str]]] = []
        for source, select in layout.conform.items():
            what = f"{label} conform query for '{source}'"
            if source not in canonical.SOURCES:
                raise _problem("sample-conform", f"{what}: '{source}' is not a canonical source")
            temporary = f"conformed_{source}"
            try:
                tree = _staged(_parse(select), plan.staging)
                self.run(exp.Create(kind="TABLE", replace=True, expression=tree,
                                    this=_staging_table(plan.staging, temporary)))
            except Exception as error:
                raise _problem("sample-conform", f"{what} failed: {_first_line(error)}",
                               "fix the plugin, or leave this layout out") from None
            staged.append((source, temporary, set(select.fields)))
        for source, temporary, fields in staged:
            columns = [
                exp.alias_(_typed(source, f, f in fields), quoted(f))
                for f in canonical.SOURCES[source].fields if f != "platform"
            ]
            self.run(exp.Create(
                kind="TABLE", replace=True,
                this=_staging_table(plan.staging, source),
                expression=exp.select(*columns).from_(_staging_table(plan.staging, temporary)),
            ))
            self.run(exp.Drop(kind="TABLE", exists=True,
                              tables=[_staging_table(plan.staging, temporary)]))

    def write(self, plan: _PlatformPlan, write: _Write) -> int:
        table = exp.Table(this=quoted(write.table), db=quoted(write.schema),
                          catalog=quoted(self.target))
        self.run(exp.Create(kind="SCHEMA", exists=True,
                            this=exp.Table(db=quoted(write.schema), catalog=quoted(self.target))))
        try:
            self.run(exp.Create(kind="TABLE", replace=True, this=table,
                                expression=write.select.copy()))
        except Exception as error:
            raise _problem("sample-encoder", f"{write.label} failed: {_first_line(error)}",
                           "fix the plugin, or leave this layout out") from None
        rows = int(self.run(exp.select(exp.Count(this=exp.Star())).from_(table)).fetchone()[0])
        self.step(f"{write.schema}.{write.table}")
        return rows

    def record(self, info: Mapping[str, Any]) -> None:
        table = exp.Table(this=quoted(INFO_TABLE), db=quoted(INFO_SCHEMA),
                          catalog=quoted(self.target))
        self.run(exp.Create(kind="SCHEMA", exists=True,
                            this=exp.Table(db=quoted(INFO_SCHEMA), catalog=quoted(self.target))))
        self.run(exp.Create(kind="TABLE", replace=True, this=exp.Schema(this=table, expressions=[
            exp.ColumnDef(this=quoted("key"), kind=exp.DataType.build("VARCHAR")),
            exp.ColumnDef(this=quoted("value"), kind=exp.DataType.build("VARCHAR")),
        ])))
        self.con.executemany(_insert(table, 2), [[k, json.dumps(v)] for k, v in info.items()])


def _insert(table: exp.Table, width: int) -> str:
    """INSERT INTO table VALUES (?, ...): values are bound, never written into the SQL."""
    row = exp.Tuple(expressions=[exp.Placeholder() for _ in range(width)])
    return exp.Insert(this=table, expression=exp.Values(expressions=[row])).sql(dialect="duckdb")


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:500]


def _connect(url: str, *, write: bool) -> Any:
    from kpiframe.engines.duckdb import DuckDBConnection

    try:
        return DuckDBConnection(url, write=write)
    except KpiframeError:
        raise
    except Exception as error:
        raise _problem("engine-connect", f"cannot open {url}: {_first_line(error)}",
                       "is another process using the database?") from None


def _tables(con: Any) -> set[tuple[str, str]]:
    """(schema, table) of every table and view in the target database, lower case."""
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()").fetchall()
    return {(str(schema).lower(), str(table).lower()) for schema, table in rows}


def _recorded(con: Any) -> set[tuple[str, str]] | None:
    """The tables earlier builds recorded in `_kpiframe.sample`, None when it is not
    there or not ours to read."""
    table = exp.Table(this=quoted(INFO_TABLE), db=quoted(INFO_SCHEMA))
    query = exp.select(quoted("value")).from_(table).where(
        exp.EQ(this=exp.column(quoted("key")), expression=exp.Literal.string("tables")))
    try:
        row = con.execute(query.sql(dialect="duckdb")).fetchone()
        names = json.loads(row[0]) if row else None
        if not isinstance(names, dict):
            return None
        return {tuple(str(n).lower().rsplit(".", 1)) for n in names}  # type: ignore[misc]
    except Exception:
        return None


def _check_overwrite(con: Any, plans: Sequence[_PlatformPlan]) -> None:
    """Refuse to replace tables sample data did not build: they are someone's data."""
    existing = _tables(con)
    recorded = _recorded(con)
    ours = set(recorded or ())
    if recorded is not None:
        ours.add((INFO_SCHEMA.lower(), INFO_TABLE.lower()))
    targets = [f"{w.schema}.{w.table}" for p in plans for w in p.writes]
    targets.append(f"{INFO_SCHEMA}.{INFO_TABLE}")
    theirs = [name for name in dict.fromkeys(targets)
              if tuple(name.lower().rsplit(".", 1)) in existing - ours]
    if theirs:
        _refuse_overwrite(theirs)


def _refuse_overwrite(theirs: Sequence[str]) -> None:
    shown = ", ".join(theirs[:8]) + (f" and {len(theirs) - 8} more" if len(theirs) > 8
                                     else "")
    raise _problem(
        "sample-overwrite",
        f"sample data would replace {len(theirs)} table(s) it did not build: {shown}",
        "pass --force to replace them (their rows are lost), or write the sample data "
        "to another database or schema with --engine URL")


def _generate(con: Any, plans: Sequence[_PlatformPlan], info: Mapping[str, Any],
              progress: Progress | None, total: int, *, seed: int, scale: float,
              start: dt.date, days: int) -> dict[str, int]:
    """Generate, stage and write every plan into the DuckDB connection, in one
    transaction, and record what was built; the rows per "schema.table"."""
    tables: dict[str, int] = {}
    target = str(con.execute("SELECT current_database()").fetchone()[0])
    builder = _Builder(con, target, progress, total)
    builder.run(exp.Attach(this=exp.alias_(exp.Literal.string(":memory:"), quoted(STAGING))))
    try:
        for statement in sql.MACROS:
            builder.run(statement)
        builder.generate(plans, seed, scale, start, days)
        for index, plan in enumerate(plans):
            builder.stage(plan, index)
        builder.use(target, "main")
        builder.run("BEGIN TRANSACTION")
        try:
            for plan in plans:
                for write in plan.writes:
                    tables[f"{write.schema}.{write.table}"] = builder.write(plan, write)
            builder.record({**info, "tables": tables})
            builder.run("COMMIT")
        except BaseException:
            builder.run("ROLLBACK")
            raise
    finally:
        builder.use(target, "main")
        builder.run(exp.Detach(this=quoted(STAGING)))
    return tables


def _build_elsewhere(url: str, registry: Registry, plans: Sequence[_PlatformPlan],
                     info: Mapping[str, Any], progress: Progress | None, total: int,
                     force: bool, *, seed: int, scale: float, start: dt.date,
                     days: int) -> dict[str, int]:
    """Build in an in-memory DuckDB database, then copy every table to the target engine
    (copy.py): the generator speaks DuckDB SQL only."""
    writes = [(w.schema, w.table) for p in plans for w in p.writes]
    target = copy.open_target(url, registry)
    try:
        if not force:
            _check_overwrite_elsewhere(target, writes)
        staging = _connect("duckdb:///:memory:", write=True)
        try:
            _generate(staging.con, plans, info, progress, total + len(writes),
                              seed=seed, scale=scale, start=start, days=days)
            done = total
            tables: dict[str, int] = {}
            for schema, table in writes:
                try:
                    tables[f"{schema}.{table}"] = copy.copy_table(
                        staging.con, schema, table, target, schema, table)
                except KpiframeError:
                    raise
                except Exception as error:
                    raise _problem(
                        "sample-copy", f"cannot write {schema}.{table} to {url}: "
                        f"{_first_line(error)}",
                        "the tables written before it are in place; fix the cause and run "
                        "the command again") from None
                done += 1
                if progress is not None:
                    progress(f"{schema}.{table}", done, total + len(writes))
            copy.record(target, INFO_SCHEMA, INFO_TABLE, {**info, "tables": tables})
        finally:
            staging.close()
    finally:
        target.close()
    return tables


def _check_overwrite_elsewhere(target: Any, writes: Sequence[tuple[str, str]]) -> None:
    """`_check_overwrite` through the Connection API, for engines other than DuckDB."""
    names = [*dict.fromkeys(writes), (INFO_SCHEMA, INFO_TABLE)]
    found = copy.existing(target, names)
    recorded = copy.recorded(target, INFO_SCHEMA, INFO_TABLE)
    ours = set(recorded or ())
    if recorded is not None:
        ours.add((INFO_SCHEMA.lower(), INFO_TABLE.lower()))
    theirs = [f"{s}.{t}" for s, t in names if (s.lower(), t.lower()) in found - ours]
    if theirs:
        _refuse_overwrite(theirs)


def build(
    engine_url: str | None = None,
    *,
    scale: float = 1.0,
    seed: int = 42,
    layouts: Sequence[str] = ("canonical",),
    start: dt.date = dt.date(2025, 1, 1),
    days: int = 365,
    registry: Registry | None = None,
    platforms: Mapping[str, PlatformSettings] | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> SampleSummary:
    """Generate sample data for every active platform and write it in `layouts`.

    Tables of the same names that an earlier build did not make are someone's own data:
    the build stops with an error naming them, unless `force`."""
    started = time.perf_counter()
    url = engine_url or DEFAULT_ENGINE
    if isinstance(start, dt.datetime):
        start = start.date()
    _check_arguments(scale, days, seed, start)
    duckdb_target = copy.scheme_of(url) == "duckdb"
    if duckdb_target:
        _check_engine(url)
    if isinstance(layouts, str):
        layouts = (layouts,)
    settings = dict(platforms or {})
    registry = registry or load_registry()
    plans, notes = _plan(registry, settings, layouts)
    total = len(sql.STEPS) + sum((1 if p.conform else 0) + len(p.writes) for p in plans)
    info: dict[str, Any] = {
        "version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "days": days,
        "layouts": list(dict.fromkeys(layouts)),
        "platforms": {p.platform.name: p.layouts for p in plans},
    }
    if duckdb_target:
        connection = _connect(url, write=True)
        try:
            if not force:
                _check_overwrite(connection.con, plans)
            tables = _generate(connection.con, plans, info, progress, total,
                               seed=seed, scale=scale, start=start, days=days)
        finally:
            connection.close()
    else:
        tables = _build_elsewhere(url, registry, plans, info, progress, total, force,
                                  seed=seed, scale=scale, start=start, days=days)
    return SampleSummary(
        engine_url=url,
        tables=tables,
        elapsed_seconds=time.perf_counter() - started,
        platforms=tuple(p.platform.name for p in plans),
        layouts=tuple(dict.fromkeys(layouts)),
        notes=tuple(notes),
        written={f"{w.schema}.{w.table}": (p.platform.name, w.layout)
                 for p in plans for w in p.writes},
    )


@dataclass(frozen=True)
class SampleInfo:
    """What a database says about the sample data built in it (`_kpiframe.sample`)."""

    seed: int
    scale: float
    start: dt.date
    days: int
    layouts: tuple[str, ...]
    #: platform -> layouts written
    platforms: Mapping[str, tuple[str, ...]]
    tables: Mapping[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


def database_state(engine_url: str) -> tuple[str, SampleInfo | None]:
    """("missing" | "empty" | "sample" | "other", info): what is at a DuckDB URL.

    "missing": no file (or an in-memory URL); "empty": no table; "sample": sample data
    built by `build`; "other": tables, but not ours."""
    from kpiframe.engines.base import parse_url

    _check_engine(engine_url)
    parsed = parse_url(engine_url)
    if parsed.path is None or parsed.path == ":memory:":
        return "missing", None
    import os

    if not os.path.exists(parsed.path):
        return "missing", None
    connection = _connect(engine_url, write=False)
    try:
        con = connection.con
        count = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchone()[0]
        if not count:
            return "empty", None
        table = exp.Table(this=quoted(INFO_TABLE), db=quoted(INFO_SCHEMA))
        try:
            rows = con.execute(
                exp.select(quoted("key"), quoted("value")).from_(table).sql(dialect="duckdb")
            ).fetchall()
        except Exception:
            return "other", None
    finally:
        connection.close()
    try:
        values = {k: json.loads(v) for k, v in rows}
        info = SampleInfo(
            seed=int(values["seed"]),
            scale=float(values["scale"]),
            start=dt.date.fromisoformat(values["start"]),
            days=int(values["days"]),
            layouts=tuple(values["layouts"]),
            platforms={k: tuple(v) for k, v in values["platforms"].items()},
            tables={k: int(v) for k, v in values["tables"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return "other", None
    return "sample", info
