"""The vocabulary a plugin hands to kpiframe: platforms, their layouts, and engines.

These are plain frozen dataclasses so a plugin is data first: a third party describes
where each canonical source (docs/canonical.md) lives in its warehouse layout, and kpiframe does
the SQL. Nothing here imports a database driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Protocol

from kpiframe import canonical


@dataclass(frozen=True)
class Table:
    """A canonical source read from one physical table, field by field.

    `columns` maps a canonical field to a native column name or to a SQL expression over
    the table's columns, written in `dialect` (sqlglot transpiles it to the target engine).
    Fields left out read as NULL. The `platform` field is always supplied by kpiframe.
    """

    table: str
    columns: Mapping[str, str]
    where: str | None = None
    dialect: str = "duckdb"

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.columns)


@dataclass(frozen=True)
class Select:
    """A canonical source as a SELECT, for joins and history-table deduplication.

    The SELECT names its output columns after canonical fields. Unqualified tables in it
    are read from the platform's configured schema. It is parsed once and transpiled by
    sqlglot to whatever engine runs the query.
    """

    sql: str
    dialect: str = "duckdb"

    @cached_property
    def fields(self) -> tuple[str, ...]:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(self.sql, read=self.dialect)
        assert isinstance(tree, exp.Query), "a Select binding must be a query"
        return tuple(name.lower() for name in tree.named_selects)


Binding = Table | Select


@dataclass(frozen=True)
class Layout:
    """One way a platform's data can be laid out in a warehouse (`canonical`, `fivetran`...).

    `encoders` optionally map native table names to SELECTs over the canonical tables
    (unqualified source names such as `posts`): how to write canonical rows in this layout.
    `kpiframe sample-data` and fixture loading use them; reading never does.

    `conform` optionally maps canonical sources to SELECTs over the canonical tables that
    return the same rows adjusted to what this layout can represent exactly (X reports
    only tweet-attributed follows, say). Sample data is conformed before it is written, so
    reading it through this layout or through the canonical one gives the same numbers.
    Every conform query reads the rows as they were before any of them ran; it may drop
    rows; canonical fields it does not return read as NULL; sources without one are left
    as they are. `kpiframe.testing.conform` runs them on fixture rows.
    """

    name: str
    sources: Mapping[str, Binding]
    default_schema: str | None = None
    description: str = ""
    encoders: Mapping[str, Select] = field(default_factory=dict)
    conform: Mapping[str, Select] = field(default_factory=dict)


@dataclass(frozen=True)
class Platform:
    """A social platform: its sources in each supported layout, its words for interactions,
    and how much each interaction is worth by default in weighted KPIs."""

    name: str
    label: str
    layouts: Sequence[Layout]
    #: canonical interaction -> the platform's own name for it ("retweets", "reactions")
    interactions: Mapping[str, str] = field(default_factory=dict)
    #: canonical interaction -> default weight in `weighted` KPIs
    weights: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def layout(self, name: str | None = None) -> Layout:
        if name is None:
            return self.layouts[0]
        for layout in self.layouts:
            if layout.name == name:
                return layout
        raise KeyError(name)

    @property
    def layout_names(self) -> tuple[str, ...]:
        return tuple(layout.name for layout in self.layouts)


#: The house baseline for `weighted` KPIs, per canonical interaction: a like 1, a comment 2
#: (it costs the reader more than a like), a share 3 (it carries the post to a new
#: audience), a save 2 (intent to come back), a click 0.5 (attention, not engagement).
#: Platforms take it through `default_weights` and set only what means more or less on
#: them; a KPI's own `weights` override either.
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "likes": 1.0, "comments": 2.0, "shares": 3.0, "saves": 2.0, "clicks": 0.5,
})


def default_weights(interactions: Iterable[str], **overrides: float) -> dict[str, float]:
    """The house baseline (`DEFAULT_WEIGHTS`) for the interactions a platform has (its
    `interactions` mapping will do), with `overrides` where an interaction weighs
    differently there. An interaction the platform lacks gets no weight."""
    names = set(interactions)
    unknown = sorted(n for n in (*names, *overrides) if n not in DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"not an interaction: {', '.join(unknown)}")
    absent = sorted(set(overrides) - names)
    if absent:
        raise ValueError(f"weight for an interaction the platform lacks: {', '.join(absent)}")
    return {n: float(overrides.get(n, w)) for n, w in DEFAULT_WEIGHTS.items() if n in names}


def canonical_layout(
    provides: Mapping[str, Iterable[str]] | None = None,
    *,
    lacks: Mapping[str, Iterable[str]] | None = None,
    sources: Iterable[str] | None = None,
    description: str = "one table per canonical source, named after it, in the platform's schema",
) -> Layout:
    """The plain canonical layout: source `S` is table `<schema>.S` with canonical columns.

    Say what the platform has either way round: `provides` maps each source it has to the
    fields it can fill; or give the `sources` it has (default: all six) and what it
    `lacks` (source -> fields it cannot fill). Fields left out read as NULL. Every
    first-party plugin uses this, and so can a third party.
    """
    if provides is None:
        chosen = list(sources) if sources is not None else list(canonical.SOURCES)
        missing = {s: set(f) for s, f in (lacks or {}).items()}
        unknown = [s for s in (*chosen, *missing) if s not in canonical.SOURCES]
        if unknown:
            raise ValueError(f"unknown source(s): {', '.join(unknown)}")
        provides = {
            s: [f for f in canonical.SOURCES[s].fields if f not in missing.get(s, ())]
            for s in chosen
        }
    elif lacks is not None or sources is not None:
        raise ValueError("give either provides, or sources and lacks")
    layout_sources: dict[str, Binding] = {}
    for source, fields in provides.items():
        known = canonical.SOURCES[source].fields
        cols = {f: f for f in fields if f != "platform"}
        unknown = [f for f in cols if f not in known]
        if unknown:
            raise ValueError(f"{source} has no field(s) {', '.join(unknown)}")
        layout_sources[source] = Table(table=source, columns=cols)
    return Layout(name="canonical", sources=layout_sources, description=description)


@dataclass(frozen=True)
class PlatformSettings:
    """What `kpiframe.yaml` says about one platform (docs/project.md)."""

    layout: str | None = None
    schema: str | None = None
    enabled: bool = True


# --------------------------------------------------------------------------- engines


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Connection(Protocol):
    """An open connection to an engine. Engines implement this; kpiframe calls it."""

    dialect: str

    def execute(self, sql: str) -> Result: ...

    def ensure_schema(self, schema: str) -> None:
        """Make `schema` exist (a database on Spark, an attached file on SQLite)."""
        ...

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        """Create (or replace) `schema.table` with canonical column types
        (`text`, `integer`, `decimal`, `boolean`, `date`, `timestamp`) and load rows."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Engine:
    """An execution engine: a URL scheme, the sqlglot dialect it speaks, and a connector."""

    scheme: str
    dialect: str
    connect: Callable[[str], Connection]
    label: str = ""
    #: the Python package the connector needs, named in the error when it is missing
    requires: str | None = None
