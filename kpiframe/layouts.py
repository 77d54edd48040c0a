"""Building blocks for a platform's layouts, so a plugin declares what differs and no more.

Most warehouse layouts (the Fivetran connectors, say) cannot hold every canonical fact:
a post's lifetime counts must be the sums of its days, a day has to carry its post's type,
a platform has its own words for post types. A layout says so with `conform` queries
(see `kpiframe.platform.Layout`), and those queries have the same shape from one platform
to the next. The helpers here build them from a short declaration, as sqlglot trees, so
each plugin states only its own rules:

    conform=conform_posts_to_days(
        totals=["impressions", "likes", "clicks"],
        from_post=["account_id", "post_type"],
        where="p.account_id IS NOT NULL",
    )

Expressions are SQL text over the aliases each helper documents, in `dialect` (DuckDB by
default), parsed by sqlglot like any other plugin SQL: nothing is pasted into a string.
Nothing here knows any particular platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property

import sqlglot
from sqlglot import exp

from kpiframe import canonical
from kpiframe.platform import Select

#: A SQL expression: text in the helper's dialect, or a tree (from `recode`, say).
SQL = str | exp.Expr

__all__ = ["SQL", "BuiltSelect", "conform_fields", "conform_posts_to_days", "recode"]


def _parse(sql: SQL, dialect: str) -> exp.Expr:
    if isinstance(sql, exp.Expr):
        return sql.copy()
    return sqlglot.parse_one(sql, read=dialect)


def _column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True),
                      table=exp.to_identifier(table) if table else None)


def _table(name: str, alias: str) -> exp.Expr:
    return exp.alias_(exp.to_table(name), alias, table=True, copy=False)


def _fields(source: str) -> list[str]:
    """A canonical source's fields as a conform query returns them (`platform` is added
    by kpiframe)."""
    return [f for f in canonical.SOURCES[source].fields if f != "platform"]


def _check(source: str, names: Iterable[str], what: str) -> None:
    unknown = [n for n in names if n not in canonical.SOURCES[source].fields or n == "platform"]
    if unknown:
        raise ValueError(f"{what}: {source} has no field(s) {', '.join(unknown)}")


class BuiltSelect(Select):
    """A `Select` whose SQL a helper generates from a sqlglot tree when it is first read.

    Every plugin is imported on every run, most runs read no conform query, and building
    one costs a few milliseconds: loading a plugin should not pay for it."""

    def __init__(self, build: Callable[[], exp.Expr], dialect: str = "duckdb") -> None:
        object.__setattr__(self, "dialect", dialect)
        object.__setattr__(self, "_build", build)

    @cached_property
    def sql(self) -> str:  # type: ignore[override]  # a field in Select, generated here
        tree: exp.Expr = self._build()  # type: ignore[attr-defined]
        return tree.sql(dialect=self.dialect, pretty=True)


def recode(value: SQL, mapping: Mapping[str, str], *, default: SQL | None = None,
           dialect: str = "duckdb") -> exp.Expr:
    """`CASE value WHEN k THEN v ... ELSE default END`: a platform's own words for a
    canonical value (post types, say). Without `default`, unlisted values become NULL."""
    return exp.Case(
        this=_parse(value, dialect),
        ifs=[exp.If(this=exp.Literal.string(k), true=exp.Literal.string(v))
             for k, v in mapping.items()],
        default=_parse(default, dialect) if default is not None else None,
    )


def conform_fields(source: str, *steps: Mapping[str, SQL], dialect: str = "duckdb") -> Select:
    """A conform query that rewrites some fields of `source` row by row, keeping its rows.

    Each step maps fields to expressions over the previous step's columns (the canonical
    fields, unqualified); later steps see earlier steps' results, so a step can test a
    value an earlier one recoded. Fields no step names pass through unchanged.
    """
    fields = _fields(source)
    for number, step in enumerate(steps, 1):
        _check(source, step, f"conform step {number}")

    def build() -> exp.Expr:
        rows: exp.Expr = _table(source, "c")
        for number, step in enumerate(steps or ({},), 1):
            rows = exp.select(*(
                exp.alias_(_parse(step[f], dialect), f, quoted=True, copy=False) if f in step
                else _column(f, "c")
                for f in fields
            )).from_(rows, copy=False)
            if number < len(steps):
                rows = exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier("c")))
        return rows

    return BuiltSelect(build, dialect)


def conform_posts_to_days(
    totals: Sequence[str],
    *,
    from_post: Mapping[str, SQL] | Sequence[str] = (),
    daily: Mapping[str, SQL] | None = None,
    posts: Mapping[str, SQL] | None = None,
    where: SQL | None = None,
    posts_without_days: bool = True,
    dialect: str = "duckdb",
) -> dict[str, Select]:
    """Conform queries for `posts` and `post_daily` in a layout that derives one from the
    other: lifetime counts that are the sums of the post's days, days that carry their
    post's attributes. Returns `{"posts": ..., "post_daily": ...}` for `Layout(conform=)`.

    - `totals`: the posts fields that become the sum of the post's `post_daily` rows
      (NULL when it has none).
    - `from_post`: post_daily fields a day takes from its post, in both sources; a list of
      names, or names mapped to expressions over the post `p` (a recoded type, say).
    - `daily`: post_daily fields rewritten over the day `d` (`COALESCE(d.likes, 0)` where
      a running total cannot hold a NULL day); the totals sum the rewritten values.
    - `posts`: other posts fields rewritten over the post `p` and its summed days `d`
      (`d.first_day`, its first date, and each total).
    - `where`: which posts are kept, over the post `p`; a day is kept when its post is.
      Days of posts missing from `posts` are dropped.
    - `posts_without_days`: keep posts that have no `post_daily` row.
    """
    daily = dict(daily or {})
    posts = dict(posts or {})
    taken: dict[str, SQL] = (
        dict(from_post) if isinstance(from_post, Mapping)
        else {f: f"p.{f}" for f in from_post}
    )
    _check("posts", [*totals, *posts, *taken], "conform_posts_to_days")
    _check("post_daily", [*totals, *daily, *taken], "conform_posts_to_days")
    clash = set(totals) & (set(posts) | set(taken)) | set(posts) & set(taken)
    if clash:
        raise ValueError(f"conform_posts_to_days: {', '.join(sorted(clash))} given twice")

    def condition() -> exp.Expr | None:
        return _parse(where, dialect) if where is not None else None

    def day_value(name: str) -> exp.Expr:
        return _parse(daily[name], dialect) if name in daily else _column(name, "d")

    def days() -> exp.Expr:
        return (
            exp.select(
                _column("post_id", "d"),
                exp.alias_(exp.Min(this=_column("date", "d")), "first_day", copy=False),
                *(exp.alias_(exp.Sum(this=day_value(t)), t, quoted=True, copy=False)
                  for t in totals),
            )
            .from_(_table("post_daily", "d"), copy=False)
            .group_by(_column("post_id", "d"), copy=False)
        )

    def post_value(name: str) -> exp.Expr:
        if name in posts:
            return _parse(posts[name], dialect)
        if name in taken:
            return _parse(taken[name], dialect)
        return _column(name, "d" if name in totals else "p")

    def posts_query() -> exp.Expr:
        query = (
            exp.select(*(exp.alias_(post_value(f), f, quoted=True, copy=False)
                         for f in _fields("posts")))
            .from_(_table("posts", "p"), copy=False)
            .join(exp.Subquery(this=days(), alias=exp.TableAlias(this=exp.to_identifier("d"))),
                  on=exp.EQ(this=_column("post_id", "d"), expression=_column("post_id", "p")),
                  join_type="left" if posts_without_days else "inner", copy=False)
        )
        kept = condition()
        return query if kept is None else query.where(kept, copy=False)

    def daily_value(name: str) -> exp.Expr:
        return _parse(taken[name], dialect) if name in taken else day_value(name)

    def daily_query() -> exp.Expr:
        query = (
            exp.select(*(exp.alias_(daily_value(f), f, quoted=True, copy=False)
                         for f in _fields("post_daily")))
            .from_(_table("post_daily", "d"), copy=False)
            .join(_table("posts", "p"),
                  on=exp.EQ(this=_column("post_id", "p"), expression=_column("post_id", "d")),
                  copy=False)
        )
        kept = condition()
        return query if kept is None else query.where(kept, copy=False)

    return {"posts": BuiltSelect(posts_query, dialect),
            "post_daily": BuiltSelect(daily_query, dialect)}
