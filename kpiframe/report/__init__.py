"""`kpiframe report`: dashboards (or KPIs) as one self-contained HTML page, or one tile
as an SVG or PNG image for a pull-request comment.

Three stages, one module each: `data` turns dashboards into queries and rows, `charts`
turns a tile's rows into a Vega-Lite figure rendered offline to SVG, `page` lays the
tiles out in HTML with a table and a text summary beside every chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kpiframe.problems import KpiframeError, Problem
from kpiframe.report.data import Report, Section, TileData, gather, resolve

if TYPE_CHECKING:
    from kpiframe.catalog import Catalog

FORMATS = ("html", "svg", "png")

__all__ = ["FORMATS", "Report", "Section", "TileData", "build", "html", "image", "write"]


def build(catalog: Catalog, names: Sequence[str] = (), *, engine: str | None = None,
          grain: str | None = None, last: int | None = None,
          by: Sequence[str] | None = None, title: str | None = None) -> Report:
    """The numbers of a report: dashboards by name, or KPIs (one ad-hoc dashboard), or
    with no names every dashboard in the catalog."""
    # no drawing in a thread beside the queries: vl-convert holds the GIL while it draws,
    # so a drawing thread stalls the queries' Python work as long as it saves
    chosen = resolve(catalog, names, grain, last, by)
    return gather(catalog, chosen, engine, title)


def _latest_label(sec: Section) -> str:
    from kpiframe.report.charts import period_label

    if sec.end is None:
        return ""
    for data in sec.tiles:
        if data.latest is not None:
            return period_label(data.latest["period"], sec.dashboard.grain)
    return ""


def html(report: Report) -> str:
    """The whole page."""
    from kpiframe.report import charts, page

    markup: list[str] = []
    for number, sec in enumerate(report.sections):
        label = _latest_label(sec)

        def render_tile(data: TileData, index: str, sec: Section = sec,
                        label: str = label) -> str:
            spec = charts.tile_spec(data, sec.dashboard.grain, label)
            figure = charts.inline(charts.svg(spec), f"c{index}-")
            return page.tile(data, sec, figure, index)

        markup.append(page.section(sec, number, render_tile))
    return page.document(report, markup)


def image(report: Report, fmt: str) -> str | bytes:
    """The report's first tile alone, as SVG text or PNG bytes."""
    from kpiframe.report import charts

    for sec in report.sections:
        for data in sec.tiles:
            spec = charts.tile_spec(data, sec.dashboard.grain, _latest_label(sec),
                                    breakdown=True)
            spec["title"] = {"text": data.title, "anchor": "start", "fontSize": 14}
            return charts.svg(spec) if fmt == "svg" else charts.png(spec)
    raise KpiframeError(Problem("report-empty", "the report has no tile with data to draw",
                                hint="check the engine has data for these KPIs"))


def write(report: Report, output: str | Path, fmt: str = "html") -> Path:
    """Write the report (html) or its first tile (svg, png) to `output`."""
    path = Path(output)
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            path.write_text(html(report), "utf-8")
        else:
            drawn = image(report, fmt)
            if isinstance(drawn, str):
                path.write_text(drawn, "utf-8")
            else:
                path.write_bytes(drawn)
    except OSError as exc:
        raise KpiframeError(Problem(
            "cannot-write", f"cannot write {path}: {exc.strerror or exc}",
            hint="choose another --output path")) from None
    return path


def demo_report(catalog: Catalog, url: str) -> Path | None:
    """`kpiframe demo`'s last step: every dashboard of the catalog as report.html beside
    the demo's database. None when the catalog has no dashboards."""
    from kpiframe import dashboards
    from kpiframe.engines.base import parse_url

    if not dashboards.of(catalog):
        return None
    where = parse_url(url).path
    folder = Path(where).parent if where and where != ":memory:" else Path(".")
    built = build(catalog, engine=url, title="kpiframe demo: the standard dashboards")
    return write(built, folder / "report.html").resolve()
