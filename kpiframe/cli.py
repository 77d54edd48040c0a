"""The `kpiframe` command: a thin shell over the Python API.

Start-up stays fast because only click is imported here; each command imports what it
needs. No input produces a traceback: user problems print located and exit 1, usage
errors exit 2, and an internal error prints one line (set KPIFRAME_DEBUG=1 for the
traceback).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.problems import Problem

F = TypeVar("F", bound=Callable[..., Any])

# sqlglot logs "... contains unsupported syntax. Falling back to parsing as a 'Command'"
# for what kpiframe then reports as a located problem: the log line is noise on a terminal
logging.getLogger("sqlglot").setLevel(logging.ERROR)

GRAINS = ("day", "week", "month", "quarter", "year")


class Context:
    def __init__(self, project: str | None, plugins: tuple[str, ...]) -> None:
        self.project_dir = project
        self.plugins = plugins
        #: `--allow-empty`: an empty catalog (or a missing definitions folder) is fine
        self.allow_empty = False

    def catalog(self, paths: Sequence[str] | None = None, *,
                broken_plugins_fail: bool = True) -> Catalog:
        """The catalog; with a plugin that failed to load, the command stops (exit 1)
        unless it reports plugin problems itself (`validate`, `test`, `plugins`)."""
        from kpiframe.catalog import load_catalog

        catalog = load_catalog(list(paths) if paths else None, project=self.project_dir,
                               plugins=self.plugins, allow_empty=self.allow_empty)
        if broken_plugins_fail:
            refuse_broken_plugins(catalog.registry.problems)
            # commands that do not report the catalog's problems still say what they
            # could not read: a KPI in an unreadable file is not simply "unknown"
            _print_problems([p for p in catalog.load_problems if p.rule == "unreadable"])
        return catalog

    def catalog_of(self, paths: Sequence[str]) -> Catalog:
        """The catalog of PATHS given on the command line: a missing one is a usage
        error (exit 2), like an unreadable project."""
        from kpiframe.problems import KpiframeError

        for path in paths:
            if not os.path.exists(path):
                raise click.UsageError(f"no such file or folder: {path}")
        try:
            return self.catalog(paths, broken_plugins_fail=False)
        except KpiframeError as error:
            _print_problems(error.problems)
            sys.exit(2)


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        click.echo(problem.format(), err=True)


def refuse_broken_plugins(problems: Sequence[Problem]) -> None:
    """Stop (exit 1) when a plugin failed: an answer without what it provides would look
    complete and be wrong."""
    if not problems:
        return
    _print_problems(problems)
    click.echo("kpiframe: stopped because a plugin failed (an answer without it would be "
               "incomplete); fix it or run with --disable-plugin NAME", err=True)
    sys.exit(1)


def closed_pipe() -> NoReturn:
    """Whoever read our output stopped reading (`kpiframe list | head -1`): stop quietly,
    as click and pip do. Python flushes stdout again at exit, which would fail the same
    way, so stdout points at devnull first (the recipe in Python's `signal` docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests capture stdout)
        pass
    sys.exit(1)


def handles_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kpiframe.problems import KpiframeError

        try:
            return func(*args, **kwargs)
        except KpiframeError as error:
            from kpiframe.project import ProjectError

            _print_problems(error.problems)
            # a project that cannot be used is a usage error, whatever the command
            sys.exit(2 if isinstance(error, ProjectError) else 1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            closed_pipe()
        except Exception as error:
            from kpiframe.problems import redact

            if os.environ.get("KPIFRAME_DEBUG"):
                raise
            click.echo(f"kpiframe: internal error: {type(error).__name__}: "
                       f"{redact(str(error))}", err=True)
            click.echo("  (set KPIFRAME_DEBUG=1 for the traceback, and please report it)",
                       err=True)
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


def _set_allow_empty(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.ensure_object(Context).allow_empty = value


def takes_definitions(func: F) -> F:
    """`--definitions PATH` (repeatable): the catalog is these files and folders instead
    of the project's, so a folder of definitions can be used without a kpiframe.yaml."""
    option = click.option(
        "--definitions", "definitions", multiple=True, metavar="PATH",
        type=click.Path(exists=True),
        help="Definition files or folders to load instead of the project's (repeatable).")
    return option(func)


def allows_empty(func: F) -> F:
    """`--allow-empty` for a command that loads the catalog. Without it, no definitions
    (or a `definitions:` path that does not exist) stop the command: a mistyped folder
    must not pass CI as a clean, empty catalog."""
    option = click.option(
        "--allow-empty", is_flag=True, expose_value=False, callback=_set_allow_empty,
        help="Accept a catalog without KPI definitions (and a missing definitions folder).")
    return option(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kpiframe")
@click.option("--project", type=click.Path(file_okay=False), default=None,
              help="Project folder with kpiframe.yaml (default: the working directory).")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Load a plugin module that is not installed (repeatable).")
@click.option("--disable-plugin", "disabled", multiple=True, metavar="NAME",
              help="Do not load this plugin (entry-point name, module or distribution; "
              "repeatable).")
@click.pass_context
def main(ctx: click.Context, project: str | None, plugins: tuple[str, ...],
         disabled: tuple[str, ...]) -> None:
    """kpiframe: social-media KPIs as YAML, compiled to SQL for any engine.

    \b
    Start with:   kpiframe demo
    Then:         kpiframe list
                  kpiframe query engagement_rate_by_reach --grain month --by platform
    """
    ctx.obj = Context(project, plugins)
    if disabled:
        from kpiframe.plugins import disabled_for

        ctx.with_resource(disabled_for(disabled))


# --------------------------------------------------------------------------- validate


@main.command()
@allows_empty
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "junit", "sarif"]),
              default="text", show_default=True, help="Report format.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_obj
@handles_errors
def validate(obj: Context, paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check definition files: YAML, JSON Schema and semantics.

    Exit status: 0 clean, 1 problems found, 2 usage error.
    """
    from kpiframe import reports

    catalog = obj.catalog_of(paths)
    problems = catalog.validate()
    files = len(catalog.files)
    kpis = len(catalog.kpis) + len(catalog.broken - set(catalog.kpis) - catalog.unparsed)
    if fmt == "json":
        output = reports.as_json(problems, kpis, files)
    elif fmt == "github":
        output = reports.github(problems, kpis, files)
    elif fmt == "junit":
        names = [(k.file, k.name) for k in catalog.kpis.values()]
        output = reports.junit(problems, kpis, files, names)
    elif fmt == "sarif":
        output = reports.sarif(problems, kpis, files)
    else:
        output = reports.text(problems, kpis, files)
    click.echo(output)
    failing = [p for p in problems if p.is_error or strict]
    sys.exit(1 if failing else 0)


# --------------------------------------------------------------------------- listing


@main.command("list")
@allows_empty
@takes_definitions
@click.option("--tag", default=None, help="Only KPIs with this tag.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_obj
@handles_errors
def list_(obj: Context, definitions: tuple[str, ...], tag: str | None, fmt: str) -> None:
    """The KPIs in the catalog, then its dashboards (table format)."""
    import json

    from kpiframe import render

    catalog = obj.catalog(definitions)
    rows = []
    for kpi in sorted(catalog.kpis.values(), key=lambda k: k.name):
        if tag and tag not in kpi.tags:
            continue
        rows.append({
            "name": kpi.name, "type": kpi.type, "unit": kpi.unit, "label": kpi.title,
            "tags": ", ".join(kpi.tags), "file": f"{kpi.file}:{kpi.node.pos.line}",
        })
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(render.table(rows, ["name", "type", "unit", "label", "tags", "file"]))
    click.echo(f"\n{len(rows)} KPIs. `kpiframe show NAME` explains one.")
    if not catalog.kpis:  # "0 KPIs" alone leaves the user guessing where kpiframe looked
        click.echo(_where_looked(catalog, definitions), err=True)
    from kpiframe.dashboards import listing

    boards = [] if tag else listing(catalog)
    if boards:  # `kpiframe list --format json` stays a list of KPIs
        click.echo("\n" + render.table(boards, ["name", "title", "grain", "periods", "tiles",
                                                "file"]))
        click.echo(f"\n{len(boards)} dashboards. `kpiframe report NAME` draws one.")


def _where_looked(catalog: Catalog, definitions: Sequence[str]) -> str:
    """Where an empty catalog was looked for: the folders or files, the project (with or
    without its kpiframe.yaml), and the plugins that ship definitions."""
    from pathlib import Path

    from kpiframe.project import FILENAME, display

    paths = [Path(p) for p in definitions] or catalog.project.definition_paths()
    shown = ", ".join(f"'{display(p)}'" + ("" if p.exists() else " (not found)")
                      for p in paths)
    project = display(catalog.project.root) or "."
    config = catalog.project.file or f"no {FILENAME} there"
    shipping = sorted({plugin for plugin, _ in catalog.registry.definition_files})
    plugins = ", ".join(shipping) if shipping else "none of the installed plugins"
    return (f"kpiframe looked for KPI definitions in {shown} (project {project}: {config}) "
            f"and in the plugins that ship them ({plugins}).\n"
            "Pass --definitions PATH, run from a project folder (or --project DIR), "
            "or install a plugin that ships a catalog.")


@main.command()
@allows_empty
@takes_definitions
@click.argument("kpi")
@click.option("--dialect", default="duckdb", show_default=True,
              help="Show the SQL for this sqlglot dialect.")
@click.option("--grain", type=click.Choice(GRAINS), default="month", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--plan", "plan", is_flag=True,
              help="Print the query plan (scans, windows, joins) instead of the SQL.")
@click.pass_obj
@handles_errors
def show(obj: Context, definitions: tuple[str, ...], kpi: str, dialect: str, grain: str,
         fmt: str, plan: bool) -> None:
    """One KPI: its definition, lineage, sources and compiled SQL (or its plan).

    The name of a dashboard shows the dashboard: its periods, rows and tiles."""
    from kpiframe import dashboards, explain

    catalog = obj.catalog(definitions)
    board = None if kpi in catalog.kpis else dashboards.get(catalog, kpi)
    if board is not None:  # `kpiframe show DASHBOARD`
        click.echo(dashboards.describe(catalog, board, fmt))
        return
    if plan:
        from kpiframe.compiler.explain_plan import describe

        click.echo(describe(catalog.plan([kpi], grain=grain)))
        return
    click.echo(explain.show(catalog, kpi, dialect, grain, fmt))


# --------------------------------------------------------------------------- query


def query_options(func: F) -> F:
    options = [
        click.option("--grain", type=click.Choice(GRAINS), default=None,
                     help="Period of each row (none: one row for the whole range)."),
        click.option("--by", "by", multiple=True, metavar="DIM",
                     help="Group by a dimension (repeatable): platform, account_id, ..."),
        click.option("--where", default=None, metavar="EXPR",
                     help="Filter rows first, e.g. \"platform IN ('x', 'linkedin')\"."),
        click.option("--from", "start", default=None, metavar="YYYY-MM-DD",
                     help="First day, inclusive."),
        click.option("--to", "end", default=None, metavar="YYYY-MM-DD",
                     help="Last day, inclusive."),
        click.option("--platform", "platforms", multiple=True, metavar="P",
                     help="Only these platforms (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command("compile")
@allows_empty
@takes_definitions
@click.argument("kpis", nargs=-1, required=True)
@click.option("--dialect", default="duckdb", show_default=True, help="Any sqlglot dialect.")
@query_options
@click.pass_obj
@handles_errors
def compile_(obj: Context, definitions: tuple[str, ...], kpis: tuple[str, ...], dialect: str,
             grain: str | None, by: tuple[str, ...], where: str | None, start: str | None,
             end: str | None, platforms: tuple[str, ...]) -> None:
    """Print the SQL that computes KPIS."""
    from kpiframe.gcpause import gc_paused

    with gc_paused():  # one bounded piece of work, then exit: the collector only costs
        catalog = obj.catalog(definitions)
        sql = catalog.compile(kpis, dialect=dialect, grain=grain, by=by, where=where,
                              start=start, end=end, platforms=platforms or None)
    click.echo(sql)


@main.command()
@allows_empty
@takes_definitions
@click.argument("kpis", nargs=-1, required=True)
@query_options
@click.option("--engine", default=None, metavar="URL",
              help="duckdb:///relative.duckdb, duckdb:////absolute/path.duckdb, "
              "sqlite:///file.db, postgresql://..., spark://local")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--no-targets", is_flag=True,
              help="Only the KPI columns: no target, attainment and status.")
@click.pass_obj
@handles_errors
def query(obj: Context, definitions: tuple[str, ...], kpis: tuple[str, ...], grain: str | None,
          by: tuple[str, ...], where: str | None, start: str | None, end: str | None,
          platforms: tuple[str, ...], engine: str | None, fmt: str, no_targets: bool) -> None:
    """Run KPIS on an engine and print the numbers.

    A KPI with a target gets three more columns: KPI.target, KPI.attainment (percent)
    and KPI.status (met, missed, on_track, behind)."""
    from kpiframe import render

    catalog = obj.catalog(definitions)
    rows = catalog.query(kpis, grain=grain, by=by, where=where, start=start, end=end,
                         platforms=platforms or None, engine=engine, targets=not no_targets)
    _print_problems(rows.warnings)  # a missing column read as NULL, say: on stderr
    if fmt == "json":
        click.echo(render.to_json(rows, rows.columns))
    elif fmt == "csv":
        click.echo(render.to_csv(rows, rows.columns), nl=False)
    else:
        from kpiframe.targets import columns_of, status_style

        headers = {k: catalog.kpis[k].title for k in kpis}
        styles = {columns_of(k)[2]: status_style for k in kpis}
        # click.echo drops the colours when the output is not a terminal
        click.echo(render.table(rows, rows.columns, headers=headers, styles=styles))


@main.command()
@allows_empty
@click.argument("names", nargs=-1)
@click.option("--output", "-o", default=None, metavar="FILE",
              help="Where to write (default: report.html, or tile.svg / tile.png).")
@click.option("--format", "fmt", type=click.Choice(["html", "svg", "png"]), default="html",
              show_default=True, help="svg and png draw the first tile only.")
@click.option("--grain", type=click.Choice(GRAINS), default=None,
              help="Override the dashboards' grain.")
@click.option("--last", type=click.IntRange(1, 1000), default=None, metavar="N",
              help="Override how many complete periods to show.")
@click.option("--by", "by", multiple=True, metavar="DIM",
              help="Override the breakdown dimensions (repeatable).")
@click.option("--title", default=None, help="The page's title.")
@click.option("--engine", default=None, metavar="URL", help="Where the data is.")
@click.pass_obj
@handles_errors
def report(obj: Context, names: tuple[str, ...], output: str | None, fmt: str,
           grain: str | None, last: int | None, by: tuple[str, ...], title: str | None,
           engine: str | None) -> None:
    """Write dashboards (or KPIs) as one self-contained HTML page.

    NAMES are dashboards or KPIs (KPIs make one dashboard together); none: every
    dashboard in the catalog. The page needs no network to open."""
    from kpiframe import report as report_

    catalog = obj.catalog()
    built = report_.build(catalog, names, engine=engine, grain=grain, last=last,
                          by=by or None, title=title)
    path = report_.write(built, output or ("report.html" if fmt == "html" else f"tile.{fmt}"),
                         fmt)
    click.echo(f"wrote {path}")


# --------------------------------------------------------------------------- plugins


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_obj
@handles_errors
def plugins(obj: Context, fmt: str) -> None:
    """Loaded plugins, their platforms, and the canonical fields each provides."""
    from kpiframe import explain

    obj.allow_empty = True  # what plugins provide does not depend on any definitions
    catalog = obj.catalog(paths=None, broken_plugins_fail=False)
    click.echo(explain.plugins(catalog, fmt))
    if catalog.registry.problems:
        if fmt == "json":  # the table already shows them; JSON readers want them on stderr
            _print_problems(catalog.registry.problems)
        sys.exit(1)


@main.command("test")
@allows_empty
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-k", "names", multiple=True, metavar="NAME", help="Run only this test (repeatable).")
@click.option("--engine", default="duckdb://", show_default=True, metavar="URL",
              help="Where to run: a fresh in-memory DuckDB, or any engine URL.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "junit"]),
              default="text", show_default=True)
@click.pass_obj
@handles_errors
def test_(obj: Context, paths: tuple[str, ...], names: tuple[str, ...], engine: str,
          fmt: str) -> None:
    """Run KPI unit tests: fixture rows in, expected values out.

    Exit status: 0 all passed, 1 a test failed or the catalog has errors, 2 usage error.
    """
    import time

    from kpiframe import kpitests

    catalog = obj.catalog_of(paths)
    own = kpitests.own_problems(catalog)  # reported as that test's error, below
    errors = [p for p in catalog.validate() if p.is_error and p not in own]
    if errors:
        _print_problems(errors)
        click.echo("the catalog has errors; fix them first (`kpiframe validate`)", err=True)
        sys.exit(1)
    started = time.perf_counter()
    outcomes = kpitests.run_tests(catalog, engine, names)
    click.echo(kpitests.FORMATS[fmt](outcomes, time.perf_counter() - started))
    sys.exit(0 if all(o.passed for o in outcomes) else 1)


@main.command("diff")
@click.argument("base")
@click.argument("head", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="markdown suits a pull-request comment.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when any KPI differs.")
@click.pass_obj
@handles_errors
def diff_(obj: Context, base: str, head: str | None, fmt: str, exit_code: bool) -> None:
    """What changed between two catalogs (folders or git refs), KPI by KPI.

    Without HEAD, BASE is compared with the working tree (the project's definitions as
    they are on disk), as `git diff REF` does."""
    import shutil

    from kpiframe import diff

    keep: list[Any] = []
    try:
        before = diff.load_side(base, obj.project_dir, obj.plugins, keep)
        after = diff.load_side(head, obj.project_dir, obj.plugins, keep) if head is not None \
            else diff.load_working_tree(obj.project_dir, obj.plugins)
        refuse_broken_plugins(list(dict.fromkeys(
            [*before.registry.problems, *after.registry.problems])))
        changes = diff.diff(before, after)
    finally:
        for folder in keep:
            shutil.rmtree(folder, ignore_errors=True)
    click.echo(diff.FORMATS[fmt](changes))
    sys.exit(1 if exit_code and changes else 0)


@main.command()
@click.argument("kind", type=click.Choice(["definitions", "project"]), default="definitions")
def schema(kind: str) -> None:
    """Print the JSON Schema of definition files, or of kpiframe.yaml (`schema project`)."""
    from kpiframe.schema import DEFINITIONS, PROJECT, schema_text

    click.echo(schema_text(PROJECT if kind == "project" else DEFINITIONS), nl=False)


# --------------------------------------------------------------------------- sample data


@main.command("sample-data")
@click.option("--engine", default=None, metavar="URL",
              help="Where to write: duckdb:///file.duckdb, sqlite:///file.db, "
              "postgresql://..., spark://local?warehouse=DIR, sc://host:port (default: the "
              "project's engine, else duckdb:///.kpiframe/sample.duckdb).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True, max=100_000), default=1.0,
              show_default=True,
              help="Size: 1 is tens of thousands of rows, 200 about ten million.")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Same seed, same rows, on any machine.")
@click.option("--layout", "layouts", multiple=True, metavar="L",
              help="Write this layout (repeatable): canonical, fivetran... Default: canonical "
              "and each platform's layout in kpiframe.yaml.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2025-01-01",
              show_default=True, help="First day of the data.")
@click.option("--days", type=click.IntRange(1, 36_600), default=365, show_default=True,
              help="Number of days.")
@click.option("--force", is_flag=True,
              help="Replace tables of the same names that sample data did not build.")
@click.pass_obj
@handles_errors
def sample_data(obj: Context, engine: str | None, scale: float, seed: int,
                layouts: tuple[str, ...], start: Any, days: int, force: bool) -> None:
    """Generate realistic sample data for every installed platform, on any engine."""
    from kpiframe import render
    from kpiframe.demo import long_run, progress_bar
    from kpiframe.engines.base import parse_url
    from kpiframe.plugins import load_registry
    from kpiframe.project import load_project, plugin_problems, refuse
    from kpiframe.sample import build

    project = load_project(obj.project_dir)
    refuse(project.problems)
    registry = load_registry((*project.plugins, *obj.plugins),
                             disable=project.disable_plugins, prefer=project.prefer)
    refuse(plugin_problems(project, registry))
    refuse_broken_plugins(registry.problems)
    url = project.engine_url(engine)
    from kpiframe.problems import KpiframeError, Problem, redact
    from kpiframe.sample.copy import forgets

    gone = forgets(url)
    if gone:
        raise KpiframeError(Problem(
            "sample-engine", f"{gone}: the sample data would be gone when this command ends",
            hint="write it where the next command finds it: a file (duckdb:///file.duckdb, "
            "sqlite:///file.db), a server (postgresql://..., sc://host:port) or "
            "spark://local?warehouse=DIR, which keeps its catalog in DIR"))
    if not layouts:
        configured = {a.layout.name for a in registry.active(project.platforms).values()}
        layouts = ("canonical", *sorted(configured - {"canonical"}))
    label = f"Generating sample data (scale {scale:g}, seed {seed})"
    with progress_bar(label, long_run(scale, days)) as progress:
        summary = build(url, scale=scale, seed=seed, layouts=layouts, start=start.date(),
                        days=days, registry=registry, platforms=project.platforms,
                        progress=progress, force=force)
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)
    schemas: dict[str, dict[str, Any]] = {}
    for name, rows in summary.tables.items():
        schema = name.rpartition(".")[0]
        platform, layout = summary.written.get(name, ("", ""))
        entry = schemas.setdefault(schema, {"schema": schema, "platform": platform,
                                            "layout": layout, "tables": 0, "rows": 0})
        entry["tables"] += 1
        entry["rows"] += rows
    shown = [*schemas.values(), {"schema": "total", "tables": len(summary.tables),
                                 "rows": summary.total_rows}]
    click.echo(render.table(shown, ["schema", "platform", "layout", "tables", "rows"]))
    duckdb_target = url.split(":", 1)[0].lower() == "duckdb"
    path = (parse_url(url).path or "(in memory)") if duckdb_target else redact(url)
    click.echo(f"\nWrote {summary.total_rows:,} rows for {len(summary.platforms)} platforms to "
               f"{path} in {summary.elapsed_seconds:.1f} s.")
    import shlex

    # quoted: `?a=1&b=2` in a URL would end the command in a shell
    flag = "" if engine is None else f" --engine {shlex.quote(redact(url))}"
    # the demo reads DuckDB files only: suggest it only where it can run
    demo = f"  kpiframe demo{flag}\n" if duckdb_target else ""
    click.echo("Next:\n"
               f"{demo}"
               f"  kpiframe query impressions engagement_rate_by_impressions --grain month "
               f"--by platform{flag}")


@main.command()
@click.option("--scale", type=click.FloatRange(min=0, min_open=True, max=100_000), default=None,
              help="Size of the sample data, when the demo builds it (default 1; a different "
              "scale rebuilds it).")
@click.option("--engine", default=None, metavar="URL",
              help="The DuckDB database (default: the project's engine, else "
              "duckdb:///.kpiframe/sample.duckdb).")
@click.pass_obj
@handles_errors
def demo(obj: Context, scale: float | None, engine: str | None) -> None:
    """Build sample data and show the standard catalog on it."""
    from kpiframe import demo as demo_
    from kpiframe.project import existing_definitions, refuse

    # the demo says itself which KPIs it misses and where it looked (demo.check_catalog);
    # a `definitions:` path in kpiframe.yaml that does not exist is still an error
    obj.allow_empty = True
    catalog = obj.catalog()
    refuse(existing_definitions(catalog.project, allow_empty=False)[1])
    url = catalog.project.engine_url(engine)
    demo_.run(catalog, url, scale, default_url=engine is None)


if __name__ == "__main__":  # pragma: no cover
    main()
