"""A tile's charts as Vega-Lite specs, rendered offline to SVG by vl-convert.

Vega-Lite is a real grammar of graphics (scales, axes, label layout, accessibility
labels) and vl-convert runs it in an embedded JavaScript engine, so a report is plain
SVG: no script, nothing fetched when it is opened, readable in an e-mail client or as a
CI artefact. A conversion costs tens of milliseconds, so a page draws one chart per tile
(the trend; the breakdown beside it is a table with bars, its numbers readable as they
are), and only the one-tile image (`--format svg/png`) draws the breakdown as a chart too.
Marks carry names the tests look for: `values` (one mark per period), `target` (the
target line) and `breakdown` (one bar per dimension value).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpiframe.report.data import TileData

VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"
#: colours by status: greens for good news, red and amber for bad, blue without a target
COLOURS = {
    "met": "#1a7f37",
    "on_track": "#4ac26b",
    "missed": "#cf222e",
    "behind": "#bf8700",
    "none": "#0969da",
}
TARGET_COLOUR = "#24292f"
TREND_WIDTH, BREAKDOWN_WIDTH, HEIGHT = 340, 150, 170
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def period_label(day: dt.date, grain: str) -> str:
    """A period as people name it: Jan 2025, 2025 Q1, week of 3 Mar 2025."""
    if grain == "month":
        return day.strftime("%b %Y")
    if grain == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    if grain == "year":
        return str(day.year)
    if grain == "week":
        return f"wk {day.day} {day.strftime('%b %Y')}"
    return f"{day.day} {day.strftime('%b %Y')}"


#: durations are drawn in hours, so the axis gets round hours rather than round seconds
SECONDS_PER_HOUR = 3600


def axis_expr(unit: str | None) -> str:
    """A Vega expression for axis labels in the KPI's unit."""
    if unit == "percent":
        return "format(datum.value, '~r') + '%'"
    if unit == "seconds":
        return "format(datum.value, '~r') + ' h'"
    if unit in ("ratio",):
        return "format(datum.value, '~r')"
    return "format(datum.value, '~s')"


def _number(value: Any, unit: str | None = None) -> float | None:
    """A value as drawn: a float, in hours for a duration."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / SECONDS_PER_HOUR if unit == "seconds" else number


def trend_values(data: TileData, grain: str) -> list[dict[str, Any]]:
    unit = data.kpi.unit
    return [
        {
            "period": period_label(p["period"], grain),
            "value": _number(p["value"], unit),
            "target": _number(p["target"], unit),
            "status": p["status"] or "none",
        }
        for p in data.periods
    ]


def breakdown_values(rows: Sequence[dict[str, Any]], unit: str | None
                     ) -> list[dict[str, Any]]:
    return [
        {"member": str(r["member"]) if r["member"] is not None else "(none)",
         "value": _number(r["value"], unit), "status": r["status"] or "none"}
        for r in rows if _number(r["value"]) is not None
    ]


def _status_colour() -> dict[str, Any]:
    return {
        "field": "status", "type": "nominal", "legend": None,
        "scale": {"domain": list(COLOURS), "range": list(COLOURS.values())},
    }


def trend_spec(data: TileData, grain: str) -> dict[str, Any]:
    """The KPI over the periods, coloured by status, with the target as a dashed line."""
    kpi = data.kpi
    x = {"field": "period", "type": "ordinal", "sort": None, "title": None,
         "axis": {"labelAngle": -40, "labelOverlap": "parity", "labelPadding": 2}}
    y = {"field": "value", "type": "quantitative", "title": None,
         "axis": {"labelExpr": axis_expr(kpi.unit), "tickCount": 5, "grid": True}}
    chart = data.tile.chart
    layers: list[dict[str, Any]] = []
    if chart == "bar":
        layers.append({"name": "values", "mark": {"type": "bar", "cornerRadiusEnd": 2},
                       "encoding": {"x": x, "y": y, "color": _status_colour()}})
    else:
        shape: dict[str, Any] = {"type": chart, "color": COLOURS["none"]}
        if chart == "area":
            shape["opacity"] = 0.18
        else:
            shape["strokeWidth"] = 2
        layers.append({"name": "values_path", "mark": shape, "encoding": {"x": x, "y": y}})
        layers.append({"name": "values",
                       "mark": {"type": "point", "filled": True, "size": 48, "opacity": 1},
                       "encoding": {"x": x, "y": y, "color": _status_colour()}})
    if data.has_target:
        layers.append({
            "name": "target",
            "transform": [{"filter": "isValid(datum.target)"}],
            "mark": {"type": "line", "color": TARGET_COLOUR, "strokeDash": [5, 4],
                     "strokeWidth": 1.5, "interpolate": "step-after" if chart == "bar"
                     else "linear"},
            "encoding": {"x": x, "y": {"field": "target", "type": "quantitative"}},
        })
    return {
        "width": TREND_WIDTH, "height": HEIGHT,
        "title": {"text": "Over time" + (" · dashed: target" if data.has_target else ""),
                  "anchor": "start", "fontSize": 11, "fontWeight": "normal",
                  "color": "#57606a"},
        "data": {"values": trend_values(data, grain)},
        "layer": layers,
    }


def breakdown_spec(data: TileData, dim: str, label: str) -> dict[str, Any]:
    """The latest period's value for each member of `dim` (each platform), largest first."""
    kpi = data.kpi
    values = breakdown_values(data.breakdowns.get(dim, []), kpi.unit)
    y = {"field": "member", "type": "nominal", "title": None,
         "sort": {"field": "value", "order": "descending"}}
    return {
        "width": BREAKDOWN_WIDTH, "height": {"step": 18} if values else HEIGHT,
        "title": {"text": f"By {dim.replace('_', ' ')}, {label}", "anchor": "start",
                  "fontSize": 11, "fontWeight": "normal", "color": "#57606a"},
        "data": {"values": values},
        "layer": [
            {"name": "breakdown", "mark": {"type": "bar", "cornerRadiusEnd": 2},
             "encoding": {
                 "y": y,
                 "x": {"field": "value", "type": "quantitative", "title": None,
                       "axis": {"labelExpr": axis_expr(kpi.unit), "tickCount": 3}},
                 "color": _status_colour()}},
        ],
    }


def tile_spec(data: TileData, grain: str, latest_label: str,
              breakdown: bool = False) -> dict[str, Any]:
    """A tile's figure: the trend, then (`breakdown`) one bar chart per dimension."""
    parts = [trend_spec(data, grain)]
    if breakdown:
        parts += [breakdown_spec(data, dim, latest_label) for dim in data.breakdowns]
    return {
        "$schema": VEGA_LITE,
        "hconcat": parts,
        "spacing": 28,
        "background": "white",
        "config": {
            "font": FONT,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 10, "labelColor": "#424a53", "domainColor": "#d0d7de",
                     "tickColor": "#d0d7de", "gridColor": "#eaeef2"},
        },
    }


def svg(spec: dict[str, Any]) -> str:
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec))


def png(spec: dict[str, Any], scale: float = 2.0) -> bytes:
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(spec, scale=scale))


_ID = re.compile(r'\bid="([^"]+)"')


def inline(markup: str, prefix: str) -> str:
    """An SVG ready to sit inside an HTML page beside others: its ids (clip paths,
    gradients; vega numbers them per process) renamed `<prefix><n>` in order, so two
    charts never share one and the same chart always reads the same; no XML declaration."""
    markup = re.sub(r"^<\?xml[^>]*>\s*", "", markup)
    names = list(dict.fromkeys(_ID.findall(markup)))
    if not names:
        return markup
    renamed = {name: f"{prefix}{number}" for number, name in enumerate(names, 1)}
    pattern = re.compile(r'(id="|url\(#|href="#)(' + "|".join(
        re.escape(n) for n in sorted(names, key=len, reverse=True)) + r')(?=[")])')
    return pattern.sub(lambda m: m.group(1) + renamed[m.group(2)], markup)
