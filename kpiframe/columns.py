"""Column discovery: what each bound table really has, and what a missing column means.

Real warehouses drift from what a plugin expects: Fivetran's LinkedIn seed misspells
`organization_id`, older connections lack whole tables. Before a query runs, the tables
its bindings read are looked up in the engine's own catalog (once per connection), and
every column they reference is checked:

- a missing column that feeds a canonical field the request uses (or decides which rows
  exist: a join, a filter, a window's partition) is an error naming the platform, schema,
  table and column, and the KPI that needs it;
- a missing column that feeds only fields the request does not use is read as NULL
  (typed by the canonical field it feeds), as Fivetran's own staging models do, and
  reported as a warning;
- missing tables are one error per platform, naming them and both ways out: build the
  platform's data, or disable it in kpiframe.yaml.

For a `Select` binding the decision is made on its parsed tree: each column reference is
resolved through the query's scopes to a physical table, and a canonical output field
depends on the columns of its own expression chain plus every column that shapes the rows
of the scopes it passes through. The compiler calls in here through `current()` only while
`discovering()` is active, so `compile` (no connection) is unchanged.
"""

from __future__ import annotations

import difflib
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from kpiframe import canonical
from kpiframe.problems import Location, Problem

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.compiler.request import Request
    from kpiframe.definitions import Kpi
    from kpiframe.platform import Connection, Table

#: (schema, table) as the engine stores them
TableKey = tuple[str, str]
#: (schema, table, column), compared case-insensitively
ColumnKey = tuple[str, str, str]

#: the columns of each table, per open connection: a run asks the catalog once per table
_CACHE: weakref.WeakKeyDictionary[Any, dict[TableKey, frozenset[str] | None]] = (
    weakref.WeakKeyDictionary()
)
_CURRENT: ContextVar[Discovery | None] = ContextVar("kpiframe_columns", default=None)


def current() -> Discovery | None:
    """The discovery of the query being compiled, if it runs on a connection."""
    return _CURRENT.get()


@contextmanager
def discovering(
    catalog: Catalog, request: Request, con: Connection, engine_label: str
) -> Iterator[Discovery]:
    """Check every binding the compiler builds inside this block against `con`."""
    discovery = Discovery(catalog, request, con, engine_label)
    token = _CURRENT.set(discovery)
    try:
        yield discovery
    finally:
        _CURRENT.reset(token)


def table_columns(con: Connection, schema: str, table: str) -> frozenset[str] | None:
    """The columns of `schema.table` (lower-cased), None when it does not exist; cached
    for as long as the connection is open."""
    try:
        cache = _CACHE.setdefault(con, {})
    except TypeError:  # a connection that cannot be weakly referenced: no cache
        cache = {}
    key = (schema, table)
    if key not in cache:
        found = con.columns(schema, table)  # type: ignore[attr-defined]
        cache[key] = None if found is None else frozenset(c.lower() for c in found)
    return cache[key]


@dataclass
class _Ref:
    """One column reference of a binding that resolves to a physical table."""

    node: exp.Column
    key: ColumnKey
    #: the binding's output fields whose value it feeds
    feeds: set[str] = field(default_factory=set)
    #: those of them that have no fallback for it (it is not one of COALESCE's choices)
    requires: set[str] = field(default_factory=set)
    #: whether it decides which rows the binding returns (a join, filter, grouping...)
    shapes: bool = False


@dataclass
class Discovery:
    catalog: Catalog
    request: Request
    con: Connection
    engine_label: str
    #: one problem per platform with missing tables, and per missing column (an error
    #: replacing a warning)
    found: dict[tuple[str, ...], Problem] = field(default_factory=dict)
    #: the missing tables of each platform, as schema.table, in the order they were met
    absent: dict[str, list[str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.found.values() if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.found.values() if not p.is_error]

    # -- the two kinds of binding --------------------------------------------------------

    def adapt_table(
        self,
        source: canonical.Source,
        platform: str,
        binding: Table,
        frm: exp.Table,
        fields: Sequence[str],
        values: dict[str, exp.Expr],
        where: exp.Expr | None,
    ) -> None:
        """Check a Table binding; fill its missing, unused columns with NULL in `values`."""
        schema, table = frm.db, frm.name
        present = self._columns(platform, schema, table)
        if present is None:
            return
        for name, value in list(values.items()):
            for column in list(value.find_all(exp.Column)):
                if column.name.lower() in present:
                    continue
                optional = _has_fallback(column, value)
                ref = _Ref(column, (schema, table, column.name), {name},
                           set() if optional else {name})
                if name in fields and not optional:
                    self._missing_needed(source, platform, ref, present, name)
                else:
                    filled = self._fill(source, platform, ref, present, fields)
                    if column is value:
                        values[name] = filled
        if where is not None:
            for column in where.find_all(exp.Column):
                if column.name.lower() not in present:
                    ref = _Ref(column, (schema, table, column.name))
                    self._missing_needed(source, platform, ref, present, None)

    def adapt_select(
        self, source: canonical.Source, platform: str, tree: exp.Expr, fields: Sequence[str]
    ) -> None:
        """Check a Select binding (schema-qualified); fill missing, unused columns in place."""
        try:
            refs = _lineage(tree, self._lookup(platform))
        except Exception:  # sqlglot could not scope it: the engine will say
            return
        for ref in refs:
            schema, table, column = ref.key
            present = self._columns(platform, schema, table)
            if present is None or column.lower() in present:
                continue
            used = [f for f in sorted(ref.requires) if f in fields]
            if ref.shapes or used:
                self._missing_needed(source, platform, ref, present, used[0] if used else None)
            else:
                self._fill(source, platform, ref, present, fields)

    # -- helpers ---------------------------------------------------------------------------

    def _lookup(self, platform: str) -> Any:
        def lookup(schema: str, table: str) -> frozenset[str] | None:
            return self._columns(platform, schema, table)

        return lookup

    def _columns(self, platform: str, schema: str, table: str) -> frozenset[str] | None:
        found = table_columns(self.con, schema, table)
        if found is None:
            absent = self.absent.setdefault(platform, [])
            if f"{schema}.{table}" not in absent:
                absent.append(f"{schema}.{table}")
                # one problem per platform, however many of its tables are missing: a
                # platform installed after the data was built misses all of them at once
                self.found[("missing-table", platform)] = self._missing_table(platform)
        return found

    def _missing_table(self, platform: str) -> Problem:
        layout = self._layout(platform)
        absent = self.absent[platform]
        tables = (f"table {absent[0]}, which does not" if len(absent) == 1
                  else f"tables {', '.join(absent)}, which do not")
        return Problem(
            "missing-table",
            f"platform '{platform}' ({layout} layout) reads {tables} exist on "
            f"{self.engine_label}, so no total can include it",
            hint=f"build its data (`kpiframe sample-data --engine URL` for sample data, or load "
            f"it with your connector); or disable the platform in kpiframe.yaml: "
            f"`platforms: {{{platform}: {{enabled: false}}}}` (or set its schema or layout "
            f"there)",
        )

    def _layout(self, platform: str) -> str:
        active = self.catalog.platforms.get(platform)
        return active.layout.name if active is not None else "its"

    def _hint(self, platform: str, column: str, present: frozenset[str]) -> str:
        close = difflib.get_close_matches(column.lower(), sorted(present), n=1, cutoff=0.75)
        near = f"the table has '{close[0]}': " if close else ""
        return (
            f"{near}add or map the column (a view that names it), choose another layout or "
            f"schema for '{platform}' in kpiframe.yaml, or disable the platform there: "
            f"`platforms: {{{platform}: {{enabled: false}}}}`"
        )

    def _missing_needed(
        self,
        source: canonical.Source,
        platform: str,
        ref: _Ref,
        present: frozenset[str],
        field_name: str | None,
    ) -> None:
        schema, table, column = ref.key
        kpi, why = self._needed_by(source, field_name)
        what = f"{source.name}.{field_name}" if field_name else f"the rows of {source.name}"
        who = f"KPI '{kpi.name}'" if kpi is not None else why
        loc = _kpi_location(kpi, field_name) if kpi is not None else None
        self.found[(schema, table, column.lower())] = Problem.at(
            loc,
            "missing-column",
            f"platform '{platform}' reads column '{column}' of table {schema}.{table}, which "
            f"has no such column; {who} needs it ({what} comes from it)",
            kpi=kpi.name if kpi is not None else None,
            hint=self._hint(platform, column, present),
        )

    def _fill(
        self,
        source: canonical.Source,
        platform: str,
        ref: _Ref,
        present: frozenset[str],
        fields: Sequence[str],
    ) -> exp.Expr:
        from kpiframe.sqltypes import SQL_TYPES

        schema, table, column = ref.key
        kinds = {source.fields[f].type for f in ref.feeds if f in source.fields}
        null: exp.Expr = exp.null()
        if len(kinds) == 1:
            null = exp.cast(null, SQL_TYPES[kinds.pop()])
        node = ref.node
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            # a bare column selected keeps its name: `share_count` -> NULL AS share_count
            node.replace(exp.alias_(null, exp.to_identifier(node.name), copy=False))
        elif node.parent is not None:
            node.replace(null)
        key = (schema, table, column.lower())
        if key not in self.found:
            used = ", ".join(f"{source.name}.{f}" for f in sorted(ref.feeds) if f in fields)
            fed = ", ".join(f"{source.name}.{f}" for f in sorted(ref.feeds)) or "nothing"
            effect = (f"{used} falls back to its other inputs" if used
                      else f"{fed} reads NULL (this query does not use it)")
            self.found[key] = Problem(
                "missing-column",
                f"platform '{platform}': table {schema}.{table} has no column '{column}'; "
                f"read as NULL, so {effect}",
                severity="warning",
                hint=self._hint(platform, column, present),
            )
        return null

    def _needed_by(self, source: canonical.Source, field_name: str | None
                   ) -> tuple[Kpi | None, str]:
        """The KPI of the request (or the request option) that needs `field_name`."""
        from kpiframe.compiler.request import closure
        from kpiframe.definitions import Ratio, Simple, Weighted

        over = [k for k in closure(self.catalog, self.request.kpis)
                if isinstance(k, (Simple, Weighted)) and k.source == source.name]
        if field_name is not None:
            for kpi in over:
                if field_name in _fields_read(kpi, source):
                    return kpi, ""
            if field_name in self.request.by:
                return None, f"--by {field_name}"
            where = self.request.where
            if where is not None and field_name in where.names:
                return None, "--where"
            for ratio in closure(self.catalog, self.request.kpis):
                if isinstance(ratio, Ratio) and ratio.average_over == field_name:
                    return ratio, ""
        return (over[0], "") if over else (None, "the query")


def _fields_read(kpi: Any, source: canonical.Source) -> set[str]:
    from kpiframe.definitions import Weighted
    from kpiframe.expressions import row_expr

    names: set[str] = set()
    if isinstance(kpi, Weighted):
        names.update(kpi.counted(None, source.interactions))
    elif getattr(kpi, "agg", None) == "last":
        names.update(source.entity)
    for text in (getattr(kpi, "expr", None), kpi.filter):
        if text:
            try:
                tree = row_expr(text, source.fields)
            except Exception:  # an invalid expression fails elsewhere
                continue
            names.update(tree.names)
    return names


def _has_fallback(column: exp.Expr, top: exp.Expr) -> bool:
    """Whether `column` is one of a COALESCE's choices below `top`: missing, it reads as
    NULL and the COALESCE falls back to the others, as Fivetran's staging models do."""
    node = column
    while node is not top and node.parent is not None:
        parent = node.parent
        if isinstance(parent, exp.Coalesce) and len(parent.expressions) >= 1:
            return True
        node = parent
    return False


def _kpi_location(kpi: Kpi, field_name: str | None) -> Location:
    for key in ("expr", "filter"):
        text = getattr(kpi, key, None)
        if text and field_name and field_name in text:
            return kpi.loc(key)
    return kpi.key_loc("name")


# --------------------------------------------------------------------------- lineage

#: a dependency: a physical column, or a named output of a scope (by the scope's id)
_Dep = tuple[str, ...]


def _lineage(tree: exp.Expr, lookup: Any) -> list[_Ref]:
    """Every physical column reference of a query, with the root outputs it feeds.

    A root output depends on the columns of its own expression, through every scope it
    reads, and on the columns that shape the rows of each of those scopes (joins,
    filters, grouping, window partitions and orders of the values it reads). What shapes
    the root's rows shapes every output: it is marked `shapes`, with no `feeds`.
    """
    scopes = traverse_scope(tree)
    root = scopes[-1]
    #: each output's dependencies, and whether it has a fallback for each (COALESCE)
    outputs: dict[int, dict[str, set[tuple[_Dep, bool]]]] = {}
    shaping: dict[int, set[_Dep]] = {}
    refs: dict[int, tuple[exp.Column, ColumnKey]] = {}

    def names(scope: Scope) -> list[str]:
        query = scope.expression
        return [n.lower() for n in query.named_selects] if isinstance(query, exp.Query) else []

    def physical(table: exp.Table, column: exp.Column) -> _Dep:
        key = (table.db, table.name, column.name)
        refs[id(column)] = (column, key)
        return ("col", str(id(column)))

    def resolve(scope: Scope, column: exp.Column) -> _Dep | None:
        selected = {alias: src for alias, (_, src) in scope.selected_sources.items()}
        name = column.name.lower()
        if column.table:
            src = selected.get(column.table) or scope.sources.get(column.table)
            candidates = [src] if src is not None else []
        else:
            candidates = []
            for src in selected.values():
                if isinstance(src, Scope):
                    if name in names(src):
                        candidates.append(src)
                elif isinstance(src, exp.Table):
                    have = lookup(src.db, src.name)
                    if have is not None and name in have:
                        candidates.append(src)
            if not candidates:
                # one source: the column is its (or missing from it); else an alias of
                # this SELECT (DuckDB reads those), else the first table's missing column
                tables: list[exp.Table | Scope] = [
                    s for s in selected.values() if isinstance(s, exp.Table)]
                if len(selected) == 1:
                    candidates = list(selected.values())
                elif name in names(scope):
                    return ("out", str(id(scope.expression)), name)
                else:
                    candidates = tables[:1]
        if len(candidates) != 1:
            return None
        src = candidates[0]
        if isinstance(src, Scope):
            return ("out", str(id(src.expression)), name)
        if isinstance(src, exp.Table):
            return physical(src, column)
        return None

    for scope in scopes:
        key = id(scope.expression)
        outs: dict[str, set[tuple[_Dep, bool]]] = {n: set() for n in names(scope)}
        shape: set[_Dep] = set()
        if scope.set_operation_scopes:
            for branch in scope.set_operation_scopes:
                for mine, theirs in zip(list(outs), names(branch), strict=False):
                    outs[mine].add((("out", str(id(branch.expression)), theirs), False))
        elif isinstance(scope.expression, exp.Select):
            select = scope.expression
            owner = {id(p): p.alias_or_name.lower() for p in select.expressions}
            for column in scope.columns:
                dep = resolve(scope, column)
                if dep is None:
                    continue
                node: exp.Expr = column
                target: str | None = None
                while node.parent is not None and node is not select:
                    if node.parent is select and node.arg_key == "expressions":
                        target = owner.get(id(node))
                        break
                    node = node.parent
                if target is not None and target in outs:
                    outs[target].add((dep, _has_fallback(column, node)))
                else:
                    shape.add(dep)
        outputs[key] = outs
        shaping[key] = shape

    def reach(start: set[tuple[_Dep, bool]], required: bool = False) -> set[str]:
        """Ids of the physical references `start` depends on (`required`: those it
        cannot do without; what shapes a scope it reads is always required)."""
        seen: set[_Dep] = set()
        todo = [dep for dep, optional in start if not (required and optional)]
        found: set[str] = set()
        while todo:
            dep = todo.pop()
            if dep in seen:
                continue
            seen.add(dep)
            if dep[0] == "col":
                found.add(dep[1])
                continue
            scope_id, name = int(dep[1]), dep[2]
            todo.extend(dep for dep, optional in outputs.get(scope_id, {}).get(name, ())
                        if not (required and optional))
            todo.extend(shaping.get(scope_id, ()))
        return found

    root_id = id(root.expression)
    shaped = reach({(dep, False) for dep in shaping[root_id]})
    result = {str(i): _Ref(column, key, shapes=str(i) in shaped)
              for i, (column, key) in refs.items()}
    for output, deps in outputs[root_id].items():
        for ref_id in reach(deps):
            if ref_id not in shaped:
                result[ref_id].feeds.add(output)
        for ref_id in reach(deps, required=True):
            if ref_id not in shaped:
                result[ref_id].requires.add(output)
    return list(result.values())
