"""`kpiframe demo`: the standard catalog on generated sample data, in a few readable tables.

The demo builds sample data (`kpiframe.sample`) when its database is missing or empty, or
when the sample data in it no longer matches the installed platforms, then queries a
selection of the standard catalog by platform and by month, and ends with what to try
next. It imports click because only the CLI imports it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from kpiframe import render
from kpiframe.engines.base import parse_url
from kpiframe.problems import KpiframeError, Problem, did_you_mean
from kpiframe.project import display

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog
    from kpiframe.definitions import Kpi
    from kpiframe.sample import SampleInfo, SampleSummary

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Section:
    title: str
    #: KPIs by platform over the whole window
    kpis: tuple[str, ...]
    #: one KPI by month and platform
    monthly: str


SECTIONS = (
    Section(
        "Reach & engagement",
        ("posts_published", "impressions", "social_interactions",
         "engagement_rate_by_impressions", "engagement_rate_by_reach"),
        "engagement_rate_by_impressions",
    ),
    Section("Audience", ("followers", "net_follower_growth"), "audience_growth_rate"),
    Section("Listening", ("share_of_voice", "net_sentiment"), "share_of_voice"),
    Section(
        "Care & web",
        ("response_rate", "avg_response_time", "social_referral_sessions", "conversion_rate"),
        "social_referral_sessions",
    ),
)

#: every KPI the demo reads, in the order it first shows them
REQUIRED = tuple(dict.fromkeys(
    name for section in SECTIONS for name in (*section.kpis, section.monthly)
))

#: a duration KPI is shown in hours rather than seconds
SECONDS_PER_HOUR = 3600


# --------------------------------------------------------------------------- progress


@contextlib.contextmanager
def progress_bar(label: str, show: bool) -> Iterator[Progress]:
    """A `progress` callback for `kpiframe.sample.build` drawing a click progress bar on
    stderr (one step per table); when `show` is false, it prints `label` once instead."""
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []
        state = {"done": 0}

        def shown(item: str | None) -> str | None:
            return item

        def update(step: str, done: int, total: int) -> None:
            if not show:
                if not state["done"]:
                    click.echo(f"{label}...", err=True)
                    state["done"] = done
                return
            if not bars:
                bar: Any = click.progressbar(
                    length=total, label=label, file=sys.stderr,
                    item_show_func=shown, show_eta=True,
                )
                bars.append(stack.enter_context(bar))
            bars[0].update(done - state["done"], step)
            state["done"] = done

        yield update


def long_run(scale: float, days: int) -> bool:
    """Whether a build is long enough to deserve a progress bar (more than a few seconds)."""
    return scale * days / 365 >= 10


# --------------------------------------------------------------------------- the data


def check_catalog(catalog: Catalog) -> None:
    """Every KPI the demo reads must be in the catalog: say which are not, and where we
    looked, before anything is built."""
    missing = [name for name in REQUIRED if name not in catalog.kpis]
    if not missing:
        return
    folders = ", ".join([*(display(p) + "/" for p in catalog.project.definition_paths()),
                         *_plugins(catalog)])
    if len(missing) == len(REQUIRED):
        raise KpiframeError(Problem(
            "demo-no-catalog",
            f"the demo queries the standard KPI catalog, and none of its KPIs is in "
            f"{folders or 'the catalog'} ({len(catalog.kpis)} KPIs found)",
            hint="install the standard catalog with `pip install kpiframe-social`, or run "
            "`kpiframe demo` from a kpiframe checkout (its definitions/ folder is the "
            "standard catalog), or set `definitions:` in kpiframe.yaml",
        ))
    problems = [
        Problem(
            "demo-missing-kpi",
            f"the demo needs KPI '{name}', which is not in the catalog ({folders})",
            kpi=name,
            hint=did_you_mean(name, catalog.kpis)
            or "restore it from the standard catalog, or run the demo from a kpiframe checkout",
        )
        for name in missing
    ]
    raise KpiframeError(problems)


def _plugins(catalog: Catalog) -> list[str]:
    """The plugins whose shipped definitions are in the catalog (the standard catalog is
    plugin 'social' when kpiframe-social is installed), as shown to the user."""
    return [f"plugin '{name}'" for name in sorted({f.plugin for f in catalog.files
                                                     if f.plugin and f.kpis})]


def sources(catalog: Catalog) -> str:
    """Where the catalog's KPIs come from: the project's folders that exist, then plugins."""
    found = [display(p) + "/" for p in catalog.project.definition_paths() if p.exists()]
    return ", ".join([*found, *_plugins(catalog)]) or "no definition files"


def _needs_build(state: str, info: SampleInfo | None, scale: float | None,
                 wanted: dict[str, str]) -> str | None:
    """Why the sample data must be (re)built, or None to use what is there."""
    if state == "missing":
        return "no database yet"
    if state == "empty":
        return "the database is empty"
    if state != "sample" or info is None:
        return None  # someone's own tables: query them, never overwrite them
    if scale is not None and scale != info.scale:
        return f"it was built at scale {info.scale:g}"
    for name, layout in wanted.items():
        if layout not in info.platforms.get(name, ()):
            return f"platform '{name}' ({layout} layout) is not in it"
    return None


def ensure_data(catalog: Catalog, url: str,
                scale: float | None) -> tuple[SampleInfo | None, SampleSummary | None]:
    """Build the sample data if needed; (what the database holds, the build summary)."""
    from kpiframe.sample import build, database_state

    path = parse_url(url).path if url.lower().startswith("duckdb:") else None
    if url.lower().startswith("duckdb:") and (path is None or path == ":memory:"):
        raise KpiframeError(Problem(
            "demo-engine", "the demo needs a DuckDB file, not an in-memory database",
            hint="e.g. --engine duckdb:///demo.duckdb"))
    state, info = database_state(url)
    wanted = {name: active.layout.name for name, active in catalog.platforms.items()}
    reason = _needs_build(state, info, scale, wanted)
    if reason is None:
        return info, None
    chosen = scale if scale is not None else (info.scale if info is not None else 1.0)
    seed = info.seed if info is not None else 42
    layouts = ("canonical", *sorted(set(wanted.values()) - {"canonical"}))
    days = info.days if info is not None else 365
    kwargs: dict[str, Any] = {}
    if info is not None:
        kwargs["start"] = info.start
    label = f"Building sample data in {path} ({reason}): scale {chosen:g}, seed {seed}"
    with progress_bar(label, long_run(chosen, days)) as progress:
        summary = build(url, scale=chosen, seed=seed, layouts=layouts, days=days,
                        registry=catalog.registry, platforms=catalog.project.platforms,
                        progress=progress, **kwargs)
    return database_state(url)[1], summary


# --------------------------------------------------------------------------- tables


def header(kpi: Kpi) -> str:
    if kpi.unit == "percent":
        return f"{kpi.title} %"
    if kpi.unit == "seconds":
        return f"{kpi.title} (h)"
    return kpi.title


def value(kpi: Kpi, raw: Any) -> Any:
    """A KPI's value as shown: durations in hours, rates with two decimals."""
    if raw is None or isinstance(raw, bool):
        return raw
    if kpi.unit == "seconds":
        return f"{float(raw) / SECONDS_PER_HOUR:,.2f}"
    if kpi.unit in ("percent", "ratio", "score") or (
            isinstance(raw, float) and not raw.is_integer()):
        return f"{float(raw):,.2f}"
    return raw


def table(rows: list[dict[str, Any]], columns: Sequence[str], headers: dict[str, str]) -> str:
    """`render.table`, with preformatted numbers right-aligned under their headers."""
    headers = dict(headers)
    for column in columns:
        texts = [v for v in (r.get(column) for r in rows) if isinstance(v, str)]
        if not texts or not all(_number(t) for t in texts):
            continue
        width = max(len(headers.get(column, column)), *(len(render.cell(r.get(column)))
                                                       for r in rows))
        for r in rows:
            r[column] = render.cell(r.get(column)).rjust(width)
        headers[column] = headers.get(column, column).rjust(width)
    return render.table(rows, columns, headers=headers)


def _number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def by_platform(catalog: Catalog, url: str, kpis: Sequence[str]) -> str:
    rows = catalog.query(list(kpis), by=["platform"], engine=url)
    kpi = {name: catalog.kpis[name] for name in kpis}
    shown = [{"platform": r["platform"], **{k: value(kpi[k], r[k]) for k in kpis}} for r in rows]
    headers = {k: header(kpi[k]) for k in kpis}
    headers["platform"] = "Platform"
    return table(shown, ["platform", *kpis], headers)


def by_month_and_platform(catalog: Catalog, url: str, name: str) -> str:
    kpi = catalog.kpis[name]
    rows = catalog.query([name], grain="month", by=["platform"], engine=url)
    total = catalog.query([name], grain="month", engine=url)
    platforms = sorted({r["platform"] for r in rows})
    months: dict[Any, dict[str, Any]] = {}
    for r in total:
        months[r["period"]] = {"month": r["period"].strftime("%Y-%m"),
                               "all": value(kpi, r[name])}
    for r in rows:
        entry = months.setdefault(r["period"], {"month": r["period"].strftime("%Y-%m")})
        entry[r["platform"]] = value(kpi, r[name])
    headers = {"month": "Month", "all": "All platforms"}
    return table([months[p] for p in sorted(months)], ["month", *platforms, "all"], headers)


def next_steps(catalog: Catalog, url: str, default_url: bool) -> str:
    engine = "" if default_url else f" --engine {url}"
    platforms = sorted(catalog.platforms)[:2] or ["x", "facebook"]
    where = ", ".join(f"'{p}'" for p in platforms)
    commands = [
        ("kpiframe list", f"the catalog ({len(catalog.kpis)} KPIs)"),
        ("kpiframe show engagement_rate_by_reach", "definition, lineage, sources and SQL"),
        (f"kpiframe query followers audience_growth_rate --grain month --by platform{engine}",
         "any KPIs, by period and dimension"),
        (f"kpiframe query share_of_voice net_sentiment --grain quarter "
         f"--where \"platform IN ({where})\"{engine}", "filtered"),
        (f"kpiframe query impressions --grain week --by post_type --from 2025-03-01 "
         f"--to 2025-03-31{engine}", "a date range, another dimension"),
        ("kpiframe compile engagement_rate_by_impressions --grain week --dialect snowflake",
         "the SQL, for any engine"),
        ("kpiframe validate", "check the catalog like CI does"),
        (f"kpiframe sample-data --scale 50 --layout canonical --layout fivetran{engine}",
         "more data, and Fivetran's tables too"),
    ]
    lines = ["What to try next:"]
    for command, what in commands:
        lines.append(f"  # {what}")
        lines.append(f"  {command}")
    return "\n".join(lines)


def note(text: str) -> None:
    click.echo(text, err=True)


def run(catalog: Catalog, url: str, scale: float | None, default_url: bool,
        echo: Callable[[str], None] = click.echo) -> None:
    """The demo: check the catalog, build the data if needed, print the tables."""
    check_catalog(catalog)
    info, summary = ensure_data(catalog, url, scale)
    path = parse_url(url).path or url
    if summary is not None:
        note(f"Built {summary.total_rows:,} rows in {len(summary.tables)} tables in "
             f"{summary.elapsed_seconds:.1f} s.")
    for problem in catalog.registry.problems:
        note(problem.format())
    lines = [
        "kpiframe demo: the standard KPI catalog on generated sample data",
        "",
        f"  catalog   {len(catalog.kpis)} KPIs in {sources(catalog)}",
        f"  data      {path}"
        + (f" (seed {info.seed}, scale {info.scale:g}, {info.total_rows:,} rows)"
           if info is not None else ""),
    ]
    if info is not None:
        last = info.start + dt.timedelta(days=info.days - 1)
        lines.append(f"  period    {info.start.isoformat()} to {last.isoformat()}")
    lines.append(f"  platforms {', '.join(sorted(catalog.platforms))}")
    echo("\n".join(lines))
    for number, section in enumerate(SECTIONS, 1):
        monthly = catalog.kpis[section.monthly]
        echo("")
        echo(click.style(f"{number}. {section.title}", bold=True))
        echo("")
        echo("By platform, whole period:")
        echo(by_platform(catalog, url, section.kpis))
        echo("")
        echo(f"{header(monthly)}, by month and platform:")
        echo(by_month_and_platform(catalog, url, section.monthly))
    echo("")
    echo(next_steps(catalog, url, default_url))
    from kpiframe.report import demo_report

    written = demo_report(catalog, url)
    if written is not None:
        echo("")
        echo(click.style("The standard dashboards, as a page to open in a browser:", bold=True))
        echo(f"  {written}")
