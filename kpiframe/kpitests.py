"""KPI unit tests: given canonical rows per platform and source, a query returns exactly
the expected rows (`tests:` in definition files, run by `kpiframe test`).

Each test runs in isolation: its rows are loaded into fresh tables (an in-memory DuckDB
by default; on another engine, schemas `kpitest_<platform>_<random>` made for this one
test and removed after it, pass or fail, so a real database is left as it was and no
earlier `kpitest_*` schema is ever replaced), only the platforms it gives rows for are
enabled, and every one of them reads the canonical layout. So a test pins a KPI's
definition, not a warehouse: it passes or fails the same on any machine.

A fixture value of the wrong type (text in an integer column, a date that is not one)
is a located error for that test; the other tests still run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kpiframe import canonical
from kpiframe.platform import PlatformSettings
from kpiframe.problems import KpiframeError, Location, Problem, did_you_mean
from kpiframe.yamlsource import YMap

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

DEFAULT_TOLERANCE = 1e-9


@dataclass
class KpiTest:
    name: str
    file: str
    node: YMap

    def loc(self, *path: Any) -> Location:
        from kpiframe.schema import position

        pos = position(self.node, path) or self.node.pos
        return Location(self.file, pos.line, pos.column)

    @property
    def kpis(self) -> list[str]:
        return list(self.node["kpis"])

    @property
    def query(self) -> dict[str, Any]:
        return dict(self.node.get("query") or {})

    @property
    def given(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return {p: {s: list(rows) for s, rows in sources.items()}
                for p, sources in self.node["given"].items()}

    @property
    def expect(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.node["expect"]]

    @property
    def tolerance(self) -> float:
        return float(self.node.get("tolerance", DEFAULT_TOLERANCE))


@dataclass
class Outcome:
    test: KpiTest
    failures: list[str] = field(default_factory=list)
    error: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    actual: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.error

    @property
    def status(self) -> str:
        return "error" if self.error else "failed" if self.failures else "passed"


def collect(catalog: Catalog) -> list[KpiTest]:
    return [KpiTest(str(node["name"]), file.display, node)
            for file in catalog.files for node in file.tests]


# -- validation ---------------------------------------------------------------------------


def check(catalog: Catalog) -> list[Problem]:
    """What the schema cannot see in tests: names, platforms, sources and fields exist."""
    problems: list[Problem] = []
    seen: dict[str, KpiTest] = {}
    registered = catalog.registry.platforms
    known_kpis = set(catalog.kpis) | catalog.broken
    for test in collect(catalog):
        where = f"test '{test.name}'"
        if test.name in seen:
            problems.append(Problem.at(
                test.loc("name"), "duplicate-test",
                f"{where} is already defined at {seen[test.name].loc('name')}",
                hint="test names are unique across the catalog"))
        seen.setdefault(test.name, test)
        for index, name in enumerate(test.kpis):
            if name not in known_kpis:
                problems.append(Problem.at(
                    test.loc("kpis", index), "unknown-kpi", f"{where} queries '{name}'",
                    hint=did_you_mean(name, known_kpis) or "no KPI of that name"))
        problems.extend(_where_problems(catalog, test, where))
        for platform, sources in test.given.items():
            if platform not in registered:
                problems.append(Problem.at(
                    test.loc("given", platform), "unknown-platform",
                    f"{where} gives rows for platform '{platform}', which no plugin provides",
                    hint=did_you_mean(platform, registered)
                    or "`kpiframe plugins` lists platforms"))
                continue
            for source, rows in sources.items():
                src = canonical.SOURCES.get(source)
                if src is None:
                    problems.append(Problem.at(
                        test.loc("given", platform, source), "unknown-source",
                        f"{where} gives rows for unknown source '{source}'",
                        hint=did_you_mean(source, canonical.SOURCES)
                        or "sources: " + ", ".join(canonical.SOURCES)))
                    continue
                for index, row in enumerate(rows):
                    for key in row:
                        if key not in src.fields or key == "platform":
                            problems.append(Problem.at(
                                _key_loc(test, ("given", platform, source, index), key),
                                "unknown-field",
                                f"{where}: {source} has no field '{key}'",
                                hint=did_you_mean(str(key), src.fields)
                                or "the platform comes from `given`; fields: "
                                + ", ".join(f for f in src.fields if f != "platform")))
    return problems


def own_problems(catalog: Catalog) -> set[Problem]:
    """Problems that belong to one test alone (its `query.where`): `kpiframe test` reports
    them as that test's error and runs the others, where a broken KPI stops every test."""
    return {p for test in collect(catalog)
            for p in _where_problems(catalog, test, f"test '{test.name}'")}


def _where_problems(catalog: Catalog, test: KpiTest, where: str) -> list[Problem]:
    """A test's `query.where` is checked like `--where`, located in the definition file, so
    `validate` fails on it rather than only `kpiframe test`."""
    from kpiframe.compiler.request import sources_of, where_expr
    from kpiframe.expressions import ExprError

    query = test.node.get("query")
    text = query.get("where") if isinstance(query, dict) else None
    if not isinstance(text, str) or not all(k in catalog.kpis for k in test.kpis):
        return []
    try:
        sources = [s for k in test.kpis for s in sources_of(catalog.kpis[k], catalog)]
        where_expr(text, sources)
    except ExprError as error:
        pos = getattr(query, "value_pos", {}).get("where") or test.node.pos
        line, column = pos.locate(text, error.offset)
        return [Problem.at(Location(test.file, line, column), error.rule,
                           f"{where}: query.where: {error.message}", hint=error.hint)]
    except KpiframeError:  # a broken KPI: reported where it is defined
        return []
    return []


def _key_loc(test: KpiTest, path: Sequence[Any], key: str) -> Location:
    node: Any = test.node
    for step in path:
        node = node[step]
    pos = node.key_pos.get(key, node.pos)
    return Location(test.file, pos.line, pos.column)


# -- running --------------------------------------------------------------------------------


def schemas_for(test: KpiTest, server: bool) -> dict[str, str]:
    """The schema each of the test's platforms is loaded into: in a database of its own
    (in memory), the platform's name; in a real database, a name no one else uses."""
    if not server:
        return {platform: platform for platform in test.given}
    run = uuid.uuid4().hex[:10]
    return {platform: f"kpitest_{platform}_{run}".lower() for platform in test.given}


def _isolated(catalog: Catalog, test: KpiTest, schemas: dict[str, str]) -> Catalog:
    """The catalog with only the test's platforms enabled, each reading the canonical
    layout from its own schema."""
    settings = {name: PlatformSettings(enabled=False) for name in catalog.registry.platforms}
    for platform in test.given:
        settings[platform] = PlatformSettings(layout="canonical", schema=schemas[platform])
    project = dataclasses.replace(catalog.project, platforms=settings)
    # the catalog's own class: this module is a later stage and does not import it
    isolated = type(catalog)(catalog.files, project, catalog.registry)
    for platform in test.given:
        if "canonical" not in catalog.registry.platforms[platform][0].layout_names:
            raise KpiframeError(Problem.at(
                test.loc("given", platform), "no-canonical-layout",
                f"test '{test.name}': platform '{platform}' has no canonical layout to load "
                "fixture rows into"))
    return isolated


def _load(catalog: Catalog, test: KpiTest, con: Any) -> None:
    from kpiframe.testing import canonical_columns

    tables = []
    problems: list[Problem] = []
    for platform in test.given:
        active = catalog.platforms[platform]
        for source in canonical.SOURCES:
            if active.binding(source) is None:
                continue
            columns = canonical_columns(source)
            rows = []
            for index, row in enumerate(test.given[platform].get(source, [])):
                values = []
                for name, kind in columns:
                    try:
                        values.append(_value(row.get(name), kind))
                    except ValueError as error:
                        problems.append(Problem.at(
                            _key_loc(test, ("given", platform, source, index), name),
                            "bad-fixture-value",
                            f"test '{test.name}': {source}.{name} is {_a(kind)} column, "
                            f"and {show(row.get(name))} {error}",
                            hint=EXAMPLES[kind]))
                rows.append(values)
            tables.append((active.schema, source, columns, rows))
    if problems:
        raise KpiframeError(problems)
    for schema, source, columns, rows in tables:
        try:
            con.create_table(schema, source, columns, rows)
        except KpiframeError:
            raise
        except Exception as error:
            raise KpiframeError(Problem.at(
                test.loc("given"), "fixture-load",
                f"test '{test.name}': the engine refused the rows given for {source}: "
                f"{str(error).strip().splitlines()[0][:300] if str(error).strip() else error!r}",
                hint="check the values' types and ranges")) from None


#: what a value of each canonical type looks like, for the hint of a wrong one
EXAMPLES = {
    "text": "write text, e.g. 'abc'",
    "integer": "write a whole number, e.g. 42",
    "decimal": "write a number, e.g. 0.25",
    "double": "write a number, e.g. 0.25",
    "boolean": "write true or false",
    "date": "write a date as YYYY-MM-DD, e.g. 2025-01-31",
    "timestamp": "write a timestamp as YYYY-MM-DD HH:MM:SS, e.g. 2025-01-31 09:30:00",
}


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _value(value: Any, kind: str) -> Any:
    """A fixture value as the engine takes it; ValueError says why it cannot be one."""
    if value is None:
        return None
    if kind == "text":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)  # ids are text, and YAML reads 123 as a number
        raise ValueError("is not text")
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            if -2**63 <= value < 2**63:
                return value
            raise ValueError("does not fit in 64 bits")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError("is not a whole number")
    if kind in ("decimal", "double"):
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value):
            return value
        raise ValueError("is not a finite number")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError("is not true or false")
    if kind == "date":
        if isinstance(value, dt.datetime):
            raise ValueError("is a timestamp, not a date")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError("is not a date")
    if kind == "timestamp":
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError("is not a timestamp") from None
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if not isinstance(value, dt.datetime):
            raise ValueError("is not a timestamp")
        if value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    return value


def run_one(catalog: Catalog, test: KpiTest, url: str) -> Outcome:
    from kpiframe.compiler import make_request
    from kpiframe.run import connect, run

    started = time.perf_counter()
    outcome = Outcome(test)
    refused = _where_problems(catalog, test, f"test '{test.name}'")
    if refused:  # this test's own query is wrong: it errs, the others still run
        outcome.error = refused
        return outcome
    in_memory = url.rstrip("/") in ("duckdb:", "sqlite:")
    schemas = schemas_for(test, server=not in_memory)
    try:
        isolated = _isolated(catalog, test, schemas)
        query = test.query
        request = make_request(
            isolated, test.kpis, query.get("grain"), query.get("by", ()), query.get("where"),
            _date(query.get("from")), _date(query.get("to")), query.get("platforms"))
        engine, con = connect(isolated, url)
        try:
            try:
                _load(isolated, test, con)
                rows = run(isolated, request, url, connection=(engine, con))
            finally:
                if not in_memory:
                    outcome.error.extend(_remove(con, schemas.values()))
        finally:
            con.close()
        outcome.actual = list(rows)
        outcome.failures = compare(test.expect, list(rows), rows.columns, test.tolerance)
    except KpiframeError as error:
        outcome.error = [*error.problems, *outcome.error]
    outcome.seconds = time.perf_counter() - started
    return outcome


def _remove(con: Any, schemas: Iterable[str]) -> list[Problem]:
    """Drop the schemas a test made (those that exist); a failure is reported, not
    raised, so the test's own outcome is not lost."""
    from sqlglot import exp

    problems = []
    for schema in schemas:
        try:
            if hasattr(con, "drop_schema"):
                con.drop_schema(schema)
            else:
                drop = exp.Drop(kind="SCHEMA", exists=True, cascade=True,
                                tables=[exp.Table(db=exp.to_identifier(schema, quoted=True))])
                con.execute(drop.sql(dialect=con.dialect))
        except Exception as error:
            problems.append(Problem(
                "test-cleanup", f"could not remove the test schema {schema}: "
                f"{str(error).strip().splitlines()[0][:300] if str(error).strip() else error!r}",
                hint="drop it by hand"))
    return problems


def _date(value: Any) -> dt.date | str | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value  # type: ignore[no-any-return]


def run_tests(catalog: Catalog, url: str = "duckdb://", names: Sequence[str] = ()
              ) -> list[Outcome]:
    tests = collect(catalog)
    if names:
        unknown = [n for n in names if n not in {t.name for t in tests}]
        if unknown:
            raise KpiframeError(Problem(
                "unknown-test", f"no test named '{unknown[0]}'",
                hint=did_you_mean(unknown[0], [t.name for t in tests])
                or "`kpiframe test` without names runs them all"))
        tests = [t for t in tests if t.name in names]
    return [run_one(catalog, test, url) for test in tests]


# -- comparing ----------------------------------------------------------------------------


def _same(expected: Any, actual: Any, tolerance: float) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected == actual)
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(float(expected), float(actual), rel_tol=0, abs_tol=tolerance) or \
            float(expected) == float(actual)
    if isinstance(actual, dt.date) and isinstance(expected, str):
        return actual.isoformat() == expected
    if isinstance(expected, dt.datetime) and isinstance(actual, dt.date):
        return bool(expected.date() == actual)
    return bool(expected == actual)


def show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.10g}"
    return repr(value) if isinstance(value, str) else str(value)


def _label(row: dict[str, Any], keys: Sequence[str]) -> str:
    return " ".join(f"{k}={show(row.get(k))}" for k in keys) or "(the only row)"


def compare(expected: list[dict[str, Any]], actual: list[dict[str, Any]],
            columns: Sequence[str], tolerance: float = DEFAULT_TOLERANCE) -> list[str]:
    """Readable differences between expected and actual rows (empty when they agree)."""
    failures: list[str] = []
    keys = [c for c in columns if c == "period" or c in canonical.DIMENSIONS]
    for index, want in enumerate(expected):
        unknown = [k for k in want if k not in columns]
        if unknown:
            failures.append(f"expected row {index + 1} has column(s) {', '.join(unknown)} "
                            f"that the result does not (columns: {', '.join(columns)})")
    if failures:
        return failures
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        diffs = [f"{k}: expected {show(v)}, got {show(got.get(k))}"
                 for k, v in want.items() if not _same(v, got.get(k), tolerance)]
        if diffs:
            failures.append(f"row {index + 1} ({_label(got, keys)}):\n  "
                            + "\n  ".join(diffs))
    if len(expected) != len(actual):
        failures.append(f"expected {len(expected)} rows, got {len(actual)}")
        for row in actual[len(expected):]:
            failures.append("unexpected row: " + "  ".join(
                f"{c}={show(row.get(c))}" for c in columns))
        for row in expected[len(actual):]:
            failures.append("missing row: " + "  ".join(
                f"{c}={show(v)}" for c, v in row.items()))
    return failures


# -- reports ------------------------------------------------------------------------------


def _where(outcome: Outcome) -> Location:
    return outcome.test.loc("name")


def _detail(outcome: Outcome) -> str:
    if outcome.error:
        return "\n".join(p.format() for p in outcome.error)
    return "\n".join(outcome.failures)


def summary(outcomes: Sequence[Outcome], seconds: float) -> str:
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    if not outcomes:
        return "no KPI tests found (add `tests:` to a definition file; see docs/ci.md)"
    return f"{passed} passed, {failed} failed in {seconds:.2f}s"


def text(outcomes: Sequence[Outcome], seconds: float) -> str:
    lines = []
    for outcome in outcomes:
        mark = "PASS" if outcome.passed else "FAIL"
        lines.append(f"{mark} {outcome.test.name} ({_where(outcome)})")
        if not outcome.passed:
            lines.extend("    " + line for line in _detail(outcome).splitlines())
    lines.append(summary(outcomes, seconds))
    return "\n".join(lines)


def as_json(outcomes: Sequence[Outcome], seconds: float) -> str:
    import json

    payload = {
        "tests": [
            {
                "name": o.test.name,
                "file": o.test.file,
                "line": _where(o).line,
                "column": _where(o).column,
                "status": o.status,
                "failures": o.failures,
                "errors": [p.to_dict() for p in o.error],
                "seconds": round(o.seconds, 4),
            }
            for o in outcomes
        ],
        "passed": sum(o.passed for o in outcomes),
        "failed": sum(not o.passed for o in outcomes),
    }
    return json.dumps(payload, indent=2)


def github(outcomes: Sequence[Outcome], seconds: float) -> str:
    from kpiframe.reports import escape_data, escape_property

    lines = []
    for o in outcomes:
        if o.passed:
            continue
        where = _where(o)
        message = f"KPI test '{o.test.name}' failed:\n{_detail(o)}"
        lines.append(f"::error file={escape_property(where.file or '')},line={where.line},"
                     f"col={where.column},title={escape_property('kpi-test')}::"
                     f"{escape_data(message)}")
    lines.append(summary(outcomes, seconds))
    return "\n".join(lines)


def _one_line(failures: Sequence[str]) -> str:
    """The first failure as one line, its differences included: CI systems show a JUnit
    failure's message, often alone, so the row header without the expected and actual
    values would say nothing."""
    head, *diffs = failures[0].splitlines()
    line = f"{head} {'; '.join(d.strip() for d in diffs)}".strip()
    more = len(failures) - 1
    return line + (f" (and {more} more)" if more else "")


def junit(outcomes: Sequence[Outcome], seconds: float) -> str:
    from xml.sax.saxutils import escape, quoteattr

    failures = sum(bool(o.failures) and not o.error for o in outcomes)
    errors = sum(bool(o.error) for o in outcomes)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="kpiframe test" tests="{len(outcomes)}" failures="{failures}" '
           f'errors="{errors}" time="{seconds:.3f}">',
           f'  <testsuite name="kpiframe test" tests="{len(outcomes)}" failures="{failures}" '
           f'errors="{errors}" skipped="0" time="{seconds:.3f}" id="0">']
    for o in outcomes:
        out.append(f"    <testcase name={quoteattr(o.test.name)} classname={quoteattr(o.test.file)}"
                   f' time="{o.seconds:.3f}">')
        if o.error:
            out.append(f"      <error message={quoteattr(o.error[0].message)} "
                       f"type={quoteattr(o.error[0].rule)}>{escape(_detail(o))}</error>")
        elif o.failures:
            out.append(f"      <failure message={quoteattr(_one_line(o.failures))} "
                       f'type="kpi-test">{escape(_detail(o))}</failure>')
        out.append("    </testcase>")
    out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out)


FORMATS = {"text": text, "json": as_json, "github": github, "junit": junit}
