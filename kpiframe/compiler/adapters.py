"""Everything that differs by engine, in one adapter class per dialect.

sqlglot prints one tree in every dialect, but some trees are not the best (or not valid)
statement everywhere, and some row expressions compute different things on different
engines. Those choices live here, one class per dialect overriding the portable
behaviour of `Adapter`, as sqlglot keeps dialect quirks in dialect classes, never as
`if dialect == ...` branches through the compiler.

Statement shapes:

- `agg: last` needs, per entity, the value at the latest time. Engines with an arg-max
  aggregate (DuckDB's ARG_MAX, Spark's MAX_BY) take it in one hash aggregate; the others
  rank rows in a window. Ties at the latest time resolve to the largest value everywhere.
  The order is by the pair (time, value); where both are whole numbers (a DATE or
  TIMESTAMP as days or microseconds since 1970, a whole-number value) DuckDB takes the
  MAX of both packed in one 128-bit number instead of comparing a pair (within a few
  percent of a plain ARG_MAX), and PostgreSQL takes the MAX of the two-element array
  [time, value] in a hash aggregate.
- The spine of periods: DuckDB and PostgreSQL generate exactly the periods from the first
  to the last (GENERATE_SERIES); the portable statement numbers them from cross joins of
  ten digits, up to a cap.
- Matching --by values, NULL included: PostgreSQL cannot hash or merge `IS NOT DISTINCT
  FROM`, and its estimate of such a join's cost turned on JIT compilation that took longer
  than the query; one-element arrays compare NULLs as equal and hash.
- Oracle (before 23c) refuses a SELECT without FROM; its constant rows read DUAL.
- PostgreSQL rounds only NUMERIC to a number of digits.
- DAX's and PRQL's parsers read another language while their generators print SQL: the
  statement check (verify.py) reads their output back as `read_as` says.

Row expressions (a KPI's `filter` and `expr`, `--where`) are portable SQL by their shape
(kpiframe/exprbuild.py), but two of the forms they allow compute different things on
different engines:

- `LIKE` ignores case on SQLite (for ASCII letters) and on no other engine; PostgreSQL and
  Spark treat a backslash in the pattern as an escape character, DuckDB and SQLite do not.
  kpiframe's `LIKE` is case-sensitive, `%` matches any run of characters, `_` exactly one,
  and every other character (backslash included) only itself. `ILIKE` is the same without
  regard to case.
- `extract` is a syntax error on SQLite; Spark's day of week counts from 1 = Sunday where
  PostgreSQL and DuckDB count from 0; PostgreSQL refuses hour, minute or second of a DATE
  and returns seconds with their fraction, as Spark does. kpiframe's `extract` gives whole
  numbers: `dow` 0 = Sunday, `week` the ISO week (1-53, weeks start on Monday), `second`
  the whole seconds, and hour, minute and second of a DATE are 0.

`adapt_row_expr` is the entry point for row expressions; the SQL writer calls it where a
row expression is copied into a scan, and on the KPI values of the final SELECT.
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from kpiframe.compiler.kinds import Kind
from kpiframe.exprbuild import DATE_PARTS

#: date parts that need a time of day: a DATE's are 0
TIME_PARTS = frozenset({"hour", "minute", "second"})

_INT = exp.DataType.Type.BIGINT


def _int(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, _INT)


class Adapter:
    """The portable statement, as ANSI SQL writes it: no arg-max aggregate, SELECT
    without FROM allowed, `EXTRACT` with its result made a whole number (a DATE's time
    parts read from its midnight), and `LIKE`/`ILIKE` as written, since ANSI LIKE has no
    escape character unless the SQL names one. A dialect without an adapter of its own
    (`compile --dialect`) gets this one."""

    #: the sqlglot dialect names this adapter serves
    names: ClassVar[tuple[str, ...]] = ()
    #: the table a SELECT of constants reads, where the engine needs one
    constant_from: ClassVar[str | None] = None
    #: the dialect sqlglot reads this one's output back with (None: the same one)
    read_as: ClassVar[str | None] = None
    #: the character LIKE treats as an escape when the SQL names none (None: no such one)
    like_escape: ClassVar[str | None] = None

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect  # the sqlglot dialect name it was asked for

    def takes_last(self, value: Kind, time: str) -> bool:
        """Whether `arg_max` takes `last` of a `value` kind of number ordered by a `time`
        (the canonical type, date or timestamp) in a hash aggregate; where it does not,
        the SQL writer ranks the rows in a window."""
        return False

    @property
    def constant_tables(self) -> frozenset[tuple[str, str]]:
        """(schema, table) names a statement may read besides the platforms' tables."""
        if self.constant_from is None:
            return frozenset()
        return frozenset({("", self.constant_from.casefold())})

    def arg_max(self, value: exp.Expr, time: exp.Expr, condition: exp.Expr | None,
                kind: Kind, time_type: str) -> exp.Expr:
        """`value` at the latest `time` among rows that meet `condition` (None: all) and
        have a value and a time; the largest value among rows tied at that time. Only
        where `takes_last(kind, time_type)`."""
        raise NotImplementedError("this dialect takes `last` through a window")

    def series(self, first: exp.Expr, last: exp.Expr, unit: str,
               size: int) -> exp.Expr | None:
        """The periods from `first` to `last` (DATEs), `size` `unit`s apart, as a
        set-returning expression of one SELECT's column; None: the portable spine of
        numbered digits."""
        return None

    def null_safe_eq(self, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        """`left` equals `right`, or both are NULL: how --by values are matched."""
        return exp.NullSafeEQ(this=left, expression=right)

    def finish(self, tree: exp.Expr) -> exp.Expr:
        """The whole statement, once built: what this engine needs added."""
        if self.constant_from is None:
            return tree
        for select in tree.find_all(exp.Select):
            if not select.args.get("from_"):
                select.from_(exp.Table(this=exp.to_identifier(self.constant_from)), copy=False)
        return tree

    def ascending(self, value: exp.Expr) -> exp.Ordered:
        """`value` ascending, for a column that is never NULL (a spine's period): NULLs
        are left where the dialect puts them, so no NULLS FIRST/LAST is printed, which
        some dialects cannot spell inside a window."""
        nulls_first = Dialect.get_or_raise(self.dialect).NULL_ORDERING == "nulls_are_small"
        return exp.Ordered(this=value, nulls_first=nulls_first)

    # -- calendar ------------------------------------------------------------------------------
    # Everything returns a DATE; compiler/dates.py is the entry point.

    def to_date(self, value: exp.Expr) -> exp.Expr:
        """A date or timestamp (UTC) as a DATE."""
        return exp.cast(value, exp.DataType.Type.DATE)

    def date_literal(self, day: str) -> exp.Expr:
        return exp.cast(exp.Literal.string(day), exp.DataType.Type.DATE)

    def trunc(self, day: exp.Expr, grain: str) -> exp.Expr:
        """The first day of the period of `grain` (not day) containing `day`."""
        truncated = exp.DateTrunc(this=day, unit=exp.var(grain.upper()))  # type: ignore[no-untyped-call]
        return exp.cast(truncated, exp.DataType.Type.DATE)

    def add(self, day: exp.Expr, count: exp.Expr, unit: str) -> exp.Expr:
        """`day` plus `count` DAYs or MONTHs; months clamp to the month's end."""
        return exp.cast(exp.DateAdd(this=day, expression=count, unit=exp.var(unit)),
                        exp.DataType.Type.DATE)

    # -- extract ---------------------------------------------------------------------------

    def extract(self, part: str, value: exp.Expr) -> exp.Expr:
        """`part` of `value` (a DATE or TIMESTAMP) as a whole number."""
        if part in TIME_PARTS:
            value = exp.cast(value, exp.DataType.Type.TIMESTAMP)  # a DATE is its midnight
        native: exp.Expr = exp.Extract(this=exp.var(part.upper()), expression=value)
        if part == "second":
            native = exp.Floor(this=native)  # whole seconds, as DuckDB gives them
        return _int(native)

    # -- LIKE / ILIKE ------------------------------------------------------------------------

    def like(self, node: exp.Like) -> exp.Expr:
        return exp.Like(this=node.this, expression=self.literal_pattern(node.expression))

    def ilike(self, node: exp.ILike) -> exp.Expr:
        return exp.ILike(this=node.this, expression=self.literal_pattern(node.expression))

    def literal_pattern(self, pattern: exp.Expr) -> exp.Expr:
        """The pattern with this engine's default escape character made to match itself:
        doubled in a string literal, by REPLACE for any other expression."""
        escape = self.like_escape
        if escape is None:
            return pattern
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            return exp.Literal.string(str(pattern.this).replace(escape, escape * 2))
        if isinstance(pattern, exp.Null):
            return pattern
        return replace(pattern, escape, escape * 2)

    # -- the walk ------------------------------------------------------------------------------

    def adapt(self, node: exp.Expr) -> exp.Expr:
        """One node whose children are already adapted."""
        if isinstance(node, exp.Extract) and isinstance(node.this, exp.Var):
            part = node.this.name.lower()
            if part in DATE_PARTS:
                return self.extract(part, node.expression)
        if isinstance(node, (exp.Like, exp.ILike)):
            # sqlglot may keep `x NOT LIKE p` as a LIKE with `negate` set: keep the NOT
            negate = bool(node.args.get("negate"))
            plain = type(node)(this=node.this, expression=node.expression)
            matched = self.like(plain) if isinstance(plain, exp.Like) else self.ilike(plain)
            return exp.Not(this=matched) if negate else matched
        return node


def replace(text: exp.Expr, old: str, new: str) -> exp.Expr:
    """SQL `REPLACE(text, old, new)`: every engine kpiframe runs on has it by this name."""
    return exp.Anonymous(this="REPLACE", expressions=[
        text, exp.Literal.string(old), exp.Literal.string(new)])


def usable(value: exp.Expr, time: exp.Expr, condition: exp.Expr | None) -> exp.Expr:
    """A row `last` may take: it meets the condition and has a value and a time."""
    present: list[exp.Expr] = [
        exp.Not(this=exp.Is(this=exp.Paren(this=v.copy()), expression=exp.null()))
        for v in (value, time)]
    if condition is not None:
        present.insert(0, condition.copy())
    return exp.and_(*present, copy=False)


def _epoch_day() -> exp.Expr:
    return exp.cast(exp.Literal.string("1970-01-01"), exp.DataType.Type.DATE)


def _interval(unit: str, size: int) -> exp.Expr:
    return exp.Interval(this=exp.Literal.string(str(size)), unit=exp.var(unit.upper()))


class _ArgMaxFilter(Adapter):
    """ARG_MAX / MAX_BY keyed by the (time, value) row, with a FILTER clause."""

    def takes_last(self, value: Kind, time: str) -> bool:
        return True

    def key(self, time: exp.Expr, value: exp.Expr, kind: Kind, time_type: str) -> exp.Expr:
        return exp.Tuple(expressions=[time, value])

    def arg_max(self, value: exp.Expr, time: exp.Expr, condition: exp.Expr | None,
                kind: Kind, time_type: str) -> exp.Expr:
        key = self.key(time, value.copy(), kind, time_type)
        # a pair holding a NULL is not NULL: rows without a value or a time are filtered
        return exp.Filter(this=exp.ArgMax(this=value, expression=key),
                          expression=exp.Where(this=usable(value, time, condition)))


class DuckDB(_ArgMaxFilter):
    """ARG_MAX for `last`. DuckDB's `EXTRACT` already gives whole numbers (seconds without
    their fraction), 0 for a DATE's time parts and 0 = Sunday; its LIKE has no default
    escape."""

    names = ("duckdb",)

    def arg_max(self, value: exp.Expr, time: exp.Expr, condition: exp.Expr | None,
                kind: Kind, time_type: str) -> exp.Expr:
        """A whole-number value and its time packed in one INT128, time * 2^64 + value +
        2^63: a BIGINT value lies in [-2^63, 2^63), so the number orders as the pair
        (time, value) does, and its low 64 bits give the value back. MAX of it skips
        NULLs (a row without a value or a time), then one AND per entity unpacks it.
        DuckDB compares a pair (a STRUCT) through a generic path at twice the cost of
        a plain ARG_MAX; this is within a few percent of one. Other values keep the
        pair."""
        if kind != "integer":
            return super().arg_max(value, time, condition, kind, time_type)
        ticks: exp.Expr
        if time_type == "date":
            ticks = exp.Sub(this=time, expression=_epoch_day())  # days, a BIGINT
        else:
            ticks = exp.Anonymous(this="EPOCH_US", expressions=[time])
        high = exp.Mul(this=exp.cast(ticks, exp.DataType.Type.INT128),
                       expression=exp.Literal.number(2**64))
        packed = exp.Add(this=exp.Add(this=high, expression=value),
                         expression=exp.Literal.number(2**63))
        latest: exp.Expr = exp.Max(this=packed)
        if condition is not None:
            latest = exp.Filter(this=latest, expression=exp.Where(this=condition))
        low = exp.BitwiseAnd(this=exp.Paren(this=latest),
                             expression=exp.Literal.number(2**64 - 1))
        return exp.cast(exp.Sub(this=exp.Paren(this=low), expression=exp.Literal.number(2**63)),
                        exp.DataType.Type.BIGINT)

    def series(self, first: exp.Expr, last: exp.Expr, unit: str,
               size: int) -> exp.Expr | None:
        periods = exp.GenerateSeries(start=first, end=last, step=_interval(unit, size))
        return exp.cast(exp.Unnest(expressions=[periods]), exp.DataType.Type.DATE)

    def extract(self, part: str, value: exp.Expr) -> exp.Expr:
        return exp.Extract(this=exp.var(part.upper()), expression=value)


class Postgres(Adapter):
    """PostgreSQL's LIKE escapes with a backslash unless told otherwise; its `EXTRACT`
    returns NUMERIC (seconds with their fraction) and refuses a DATE's time parts, which
    the portable form already handles."""

    names = ("postgres",)
    like_escape = "\\"

    def takes_last(self, value: Kind, time: str) -> bool:
        return value != "other"

    def arg_max(self, value: exp.Expr, time: exp.Expr, condition: exp.Expr | None,
                kind: Kind, time_type: str) -> exp.Expr:
        """The second element of MAX(ARRAY[time, value]): arrays compare element by
        element, and MAX takes them in a hash aggregate where ROW_NUMBER() sorts every
        row. The time is a whole number (days, or microseconds since 1970) so that both
        elements have one type: BIGINT, or NUMERIC for an exact decimal value. An array
        holding a NULL is not NULL (and sorts last), so rows without a value or a time
        are filtered out."""
        keep = usable(value, time, condition)
        whole = exp.DataType.Type.BIGINT if kind == "integer" else exp.DataType.Type.DECIMAL
        ticks: exp.Expr
        if time_type == "date":
            ticks = exp.Sub(this=time, expression=_epoch_day())
            if kind != "integer":
                ticks = exp.cast(ticks, whole)
        else:
            seconds = exp.Extract(this=exp.var("EPOCH"), expression=time)
            ticks = exp.cast(exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000)),
                             whole)
        latest = exp.Filter(this=exp.Max(this=exp.Array(expressions=[ticks, value])),
                            expression=exp.Where(this=keep))
        return exp.Bracket(this=exp.Paren(this=latest), expressions=[exp.Literal.number(1)])

    def series(self, first: exp.Expr, last: exp.Expr, unit: str,
               size: int) -> exp.Expr | None:
        """TIMESTAMP bounds: with DATEs PostgreSQL picks the time-zone-aware variant."""
        periods = exp.GenerateSeries(start=exp.cast(first, exp.DataType.Type.TIMESTAMP),
                                     end=exp.cast(last, exp.DataType.Type.TIMESTAMP),
                                     step=_interval(unit, size))
        return exp.cast(periods, exp.DataType.Type.DATE)

    def null_safe_eq(self, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        return exp.EQ(this=exp.Array(expressions=[left]), expression=exp.Array(expressions=[right]))

    def adapt(self, node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Round):
            # PostgreSQL rounds only NUMERIC to a number of digits
            node.set("this", exp.cast(node.this, exp.DataType.Type.DECIMAL))
            return node
        return super().adapt(node)


class Spark(_ArgMaxFilter):
    """MAX_BY for `last`, keyed by a struct. Spark counts the day of week from 1 = Sunday,
    and its LIKE escapes with a backslash; seconds come with their fraction, as on
    PostgreSQL."""

    names: ClassVar[tuple[str, ...]] = ("spark", "databricks")
    like_escape = "\\"

    def key(self, time: exp.Expr, value: exp.Expr, kind: Kind, time_type: str) -> exp.Expr:
        return exp.Struct(expressions=[time, value])

    def extract(self, part: str, value: exp.Expr) -> exp.Expr:
        if part == "dow":
            return exp.Sub(this=super().extract(part, value), expression=exp.Literal.number(1))
        return super().extract(part, value)


class Spark2(Spark):
    """Spark before 3.0, which has no MAX_BY: `last` through a window."""

    names = ("spark2",)

    def takes_last(self, value: Kind, time: str) -> bool:
        return False


#: SQLite strftime formats of the parts that are one directly
_STRFTIME = {"year": "%Y", "month": "%m", "day": "%d", "dow": "%w", "doy": "%j",
             "hour": "%H", "minute": "%M", "second": "%S"}


class SQLite(Adapter):
    """SQLite has no `EXTRACT` (dates are ISO text read by `strftime`) and its LIKE ignores
    the case of ASCII letters; GLOB is its case-sensitive match, with `*`, `?` and `[...]`
    for wildcards. `ILIKE` needs nothing: sqlglot prints `LOWER(x) LIKE LOWER(p)`, and
    SQLite's LIKE has no escape character."""

    names = ("sqlite",)

    def extract(self, part: str, value: exp.Expr) -> exp.Expr:
        if part == "quarter":
            month = self.extract("month", value)
            return _int_div(exp.Paren(this=exp.Add(this=month, expression=exp.Literal.number(2))),
                            3)
        if part == "week":
            # ISO: the week of the year its Thursday falls in (this SQLite may lack %V)
            thursday = exp.Anonymous(this="DATE", expressions=[
                value, exp.Literal.string("-3 days"), exp.Literal.string("weekday 4")])
            doy = _strftime("%j", thursday)
            return exp.Add(
                this=_int_div(exp.Paren(this=exp.Sub(this=doy, expression=exp.Literal.number(1))),
                              7),
                expression=exp.Literal.number(1))
        return _strftime(_STRFTIME[part], value)

    def like(self, node: exp.Like) -> exp.Expr:
        return exp.Glob(this=node.this, expression=glob_pattern(node.expression))

    # SQLite has no DATE type and no DATE_TRUNC; dates are ISO text, which compares as
    # dates do, read and moved by DATE(value, modifiers...)

    def to_date(self, value: exp.Expr) -> exp.Expr:
        return _sqlite_date(value)

    def date_literal(self, day: str) -> exp.Expr:
        return exp.Literal.string(day)  # DATE('..') would be the same string

    def trunc(self, day: exp.Expr, grain: str) -> exp.Expr:
        if grain == "week":
            return _sqlite_date(day, "-6 days", "weekday 1")
        if grain == "month":
            return _sqlite_date(day, "start of month")
        if grain == "year":
            return _sqlite_date(day, "start of year")
        month = exp.cast(
            exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string("%m"), day]),
            exp.DataType.Type.INT,
        )
        back = exp.Anonymous(
            this="PRINTF",
            expressions=[
                exp.Literal.string("-%d months"),
                exp.Mod(
                    this=exp.Paren(this=exp.Sub(this=month, expression=exp.Literal.number(1))),
                    expression=exp.Literal.number(3),
                ),
            ],
        )
        return _sqlite_date(day, "start of month", back)

    def add(self, day: exp.Expr, count: exp.Expr, unit: str) -> exp.Expr:
        if unit == "DAY":
            return _sqlite_date(
                day,
                exp.Anonymous(this="PRINTF", expressions=[exp.Literal.string("%+d days"), count]),
            )
        months = exp.Anonymous(this="PRINTF", expressions=[exp.Literal.string("%+d months"),
                                                            count])
        # SQLite normalises Jan 31 + 1 month to Mar 2: go via the first of the month, clamp
        first = _sqlite_date(day, "start of month", months)
        last = _sqlite_date(day, "start of month", months, "+1 month", "-1 day")
        dom = exp.Sub(
            this=exp.cast(
                exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string("%d"), day]),
                exp.DataType.Type.INT,
            ),
            expression=exp.Literal.number(1),
        )
        same_day = _sqlite_date(
            first, exp.Anonymous(this="PRINTF", expressions=[exp.Literal.string("+%d days"), dom])
        )
        return exp.Anonymous(this="MIN", expressions=[same_day, last])


def _sqlite_date(*args: exp.Expr | str) -> exp.Expr:
    return exp.Anonymous(
        this="DATE",
        expressions=[a if isinstance(a, exp.Expr) else exp.Literal.string(a) for a in args],
    )


def _int_div(numerator: exp.Expr, denominator: int) -> exp.Expr:
    """Integer division of a whole number (`typed`: sqlglot prints SQLite's plain `/`)."""
    return exp.Div(this=numerator, expression=exp.Literal.number(denominator), typed=True)


def _strftime(fmt: str, value: exp.Expr) -> exp.Expr:
    return _int(exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string(fmt), value]))


#: a LIKE pattern's characters -> GLOB's, in an order that leaves what it wrote untouched:
#: GLOB's own wildcards first become bracketed literals, then LIKE's become GLOB's
_GLOB_STEPS = (("[", "[[]"), ("*", "[*]"), ("?", "[?]"), ("%", "*"), ("_", "?"))


def glob_pattern(pattern: exp.Expr) -> exp.Expr:
    """A LIKE pattern as the GLOB pattern that matches the same strings, case-sensitively:
    translated now when it is a string literal, by nested REPLACE in SQL otherwise."""
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        text = str(pattern.this)
        return exp.Literal.string("".join(_glob_char(c) for c in text))
    if isinstance(pattern, exp.Null):
        return pattern
    for old, new in _GLOB_STEPS:
        pattern = replace(pattern, old, new)
    return pattern


def _glob_char(char: str) -> str:
    return {"[": "[[]", "*": "[*]", "?": "[?]", "%": "*", "_": "?"}.get(char, char)


class Oracle(Adapter):
    """Oracle before 23c refuses a SELECT without FROM: constant rows read DUAL."""

    names = ("oracle",)
    constant_from = "DUAL"


class Teradata(Adapter):
    """sqlglot cannot write Teradata's DATE_ADD with a computed count: a DATE plus a whole
    number is that many days, and ADD_MONTHS moves months, clamping to the month's end."""

    names = ("teradata",)

    def add(self, day: exp.Expr, count: exp.Expr, unit: str) -> exp.Expr:
        if unit == "DAY":
            return exp.cast(exp.Add(this=day, expression=count), exp.DataType.Type.DATE)
        return exp.cast(exp.AddMonths(this=day, expression=count), exp.DataType.Type.DATE)


class Dax(Adapter):
    """sqlglot's DAX dialect parses DAX but prints SQL: its output is read back as plain
    SQL."""

    names = ("dax",)
    read_as = ""


class Prql(Adapter):
    """sqlglot's PRQL dialect parses PRQL but prints SQL with backquoted names and doubled
    quotes, which SQLite's parser reads."""

    names = ("prql",)
    read_as = "sqlite"


_CLASSES: dict[str, type[Adapter]] = {
    name: cls
    for cls in (DuckDB, Postgres, Spark, Spark2, SQLite, Oracle, Teradata, Dax, Prql)
    for name in cls.names
}


@cache
def adapter(dialect: str) -> Adapter:
    """The adapter of a sqlglot dialect name; the portable one for a dialect without its own."""
    return _CLASSES.get(dialect, Adapter)(dialect)


def adapt_row_expr(tree: exp.Expr, dialect: str) -> exp.Expr:
    """An expression as `dialect` computes it the way every engine does.

    `tree` is not changed: a tree with nothing to adapt comes back as it is, any other as an
    adapted copy. Children are adapted before their parent (an `extract` inside a LIKE's
    operand is rewritten too)."""
    if tree.find(exp.Extract, exp.Like, exp.ILike, exp.Round) is None:
        return tree
    rules = adapter(dialect)
    root = tree.copy()
    # reversed pre-order: every node comes after all of its descendants
    for node in reversed(list(root.walk(bfs=False))):
        adapted = rules.adapt(node)
        if adapted is node:
            continue
        if node is root:
            root = adapted
        else:
            node.replace(adapted)
    return root
