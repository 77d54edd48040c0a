"""The report as one self-contained HTML page.

Everything is inline: styles, each chart's SVG, and the rows of every query as JSON (for
whoever wants the numbers back). There is no script and a Content-Security-Policy that
forbids fetching anything, so the page opens the same from disk, as a CI artefact or as
an e-mail attachment. Each chart has a text summary and a table of its numbers beside it;
each table cell keeps the exact value in `data-value`, formatted for reading in the text.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kpiframe.report import charts

if TYPE_CHECKING:
    from kpiframe.definitions import Kpi
    from kpiframe.report.data import Report, Section, TileData

NULL = "–"
STATUS_TEXT = {"met": "met", "missed": "missed", "on_track": "on track", "behind": "behind"}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --bg: #f6f8fa; --met: #1a7f37; --on_track: #2f8f4e; --missed: #cf222e; --behind: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
header.page { background: #fff; border-bottom: 1px solid var(--line); padding: 18px 28px; }
header.page h1 { margin: 0 0 4px; font-size: 22px; }
header.page p { margin: 2px 0; color: var(--muted); }
nav ul { list-style: none; padding: 0; margin: 10px 0 0; display: flex; flex-wrap: wrap;
  gap: 6px 14px; }
nav a { color: #0969da; text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1280px; }
section.dashboard { margin-top: 26px; }
section.dashboard > h2 { font-size: 19px; margin: 0 0 2px; }
section.dashboard > p { margin: 2px 0; color: var(--muted); max-width: 90ch; }
h3.row-title { font-size: 13px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); margin: 16px 0 6px; }
.row { display: grid; grid-template-columns: repeat(auto-fit, minmax(580px, 1fr));
  gap: 14px; margin-top: 12px; }
article.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px 10px; min-width: 0; }
article.tile h4 { margin: 0; font-size: 15px; }
.kpi-meta { color: var(--muted); font-size: 12px; margin: 0; }
.headline { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px;
  margin: 6px 0 2px; }
.headline .value { font-size: 28px; font-weight: 600; font-variant-numeric: tabular-nums; }
.headline .period { color: var(--muted); }
.change { font-weight: 600; }
.change.good { color: var(--met); } .change.bad { color: var(--missed); }
.change.flat { color: var(--muted); }
.goal { margin: 0 0 6px; color: var(--muted); }
.status { display: inline-block; padding: 0 7px; border-radius: 10px; color: #fff;
  font-weight: 600; font-size: 12px; }
.status.met { background: var(--met); } .status.on_track { background: var(--on_track); }
.status.missed { background: var(--missed); } .status.behind { background: var(--behind); }
.tile-body { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: flex-start; }
figure { margin: 4px 0 0; overflow-x: auto; flex: 0 1 auto; }
figure svg { max-width: 100%; height: auto; display: block; }
.split { flex: 1 1 170px; min-width: 170px; max-width: 460px; }
.summary { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
table.breakdown { width: 100%; margin-top: 8px; }
table.breakdown td, table.breakdown th { white-space: nowrap; }
table.breakdown caption { text-align: left; color: var(--muted); font-size: 11.5px;
  padding-bottom: 2px; }
td.bar, th.bar { width: 38%; padding-right: 0; }
td.bar span { display: block; height: 9px; border-radius: 2px; background: #0969da; }
td.bar span.met { background: var(--met); } td.bar span.on_track { background: var(--on_track); }
td.bar span.missed { background: var(--missed); } td.bar span.behind { background: var(--behind); }
td.bar span.negative { opacity: .55; }
details { margin-top: 6px; }
summary { cursor: pointer; color: #0969da; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0; font-size: 12.5px;
  font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 2px 10px 2px 0; text-align: right; }
th:first-child, td:first-child { text-align: left; }
code { font-size: 12px; background: var(--bg); padding: 1px 4px; border-radius: 4px; }
.legend span { margin-right: 10px; }
.empty { color: var(--muted); font-style: italic; }
"""


# --------------------------------------------------------------------------- numbers


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def number(value: Any, unit: str | None) -> str:
    """A KPI value as people read it: separators, 2 decimals for rates, % for percent,
    hours for durations (the exact value stays in `data-value`)."""
    raw = _float(value)
    if raw is None:
        return NULL
    if unit == "percent":
        return f"{raw:,.2f}%"
    if unit == "seconds":
        return f"{raw / 3600:,.2f} h"
    if unit in ("ratio", "currency") or not raw.is_integer():
        return f"{raw:,.2f}"
    return f"{int(raw):,}"


def percent(value: Any) -> str:
    raw = _float(value)
    return NULL if raw is None else f"{raw:,.1f}%"


def plain(value: Any) -> Any:
    """A value as `kpiframe query --format json` prints it."""
    from kpiframe.render import _json_value

    out = _json_value(value)
    if isinstance(out, Decimal):
        return float(out)
    return out


def _attr(value: Any) -> str:
    return html.escape(json.dumps(plain(value)), quote=True)


def change(kpi: Kpi, latest: Any, previous: Any) -> tuple[str, str] | None:
    """(text, class) of the change since the previous period: percentage points for a
    percent KPI, else percent of the previous value. Good or bad by the KPI's direction."""
    now, before = _float(latest), _float(previous)
    if now is None or before is None:
        return None
    if kpi.unit == "percent":
        delta = now - before
        text = f"{delta:+,.2f} pp"
    elif before == 0:
        return None
    else:
        delta = (now - before) / abs(before) * 100
        text = f"{delta:+,.1f}%"
    if abs(delta) < 1e-12:
        return ("±0", "flat")
    better = delta > 0 if kpi.direction != "lower_is_better" else delta < 0
    arrow = "▲" if delta > 0 else "▼"
    return (f"{arrow} {text}", "good" if better else "bad")


# --------------------------------------------------------------------------- markup


def _status(status: Any) -> str:
    if not status:
        return NULL
    text = STATUS_TEXT.get(str(status), str(status))
    return f'<span class="status {html.escape(str(status))}">{html.escape(text)}</span>'


def _td(value: Any, text: str) -> str:
    return f'<td data-value="{_attr(value)}">{html.escape(text)}</td>'


def _numbers_table(data: TileData, grain: str) -> str:
    unit = data.kpi.unit
    head = "<tr><th>Period</th><th>Value</th>" + (
        "<th>Target</th><th>Attainment</th><th>Status</th>" if data.has_target else "") + "</tr>"
    body = []
    for p in data.periods:
        cells = [f'<td data-value="{_attr(p["period"])}">'
                 f'{html.escape(charts.period_label(p["period"], grain))}</td>',
                 _td(p["value"], number(p["value"], unit))]
        if data.has_target:
            cells += [_td(p["target"], number(p["target"], unit)),
                      _td(p["attainment"], percent(p["attainment"])),
                      f'<td data-value="{_attr(p["status"])}">{_status(p["status"])}</td>']
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="numbers" data-kpi="{html.escape(data.kpi.name)}">'
            f"<caption hidden>{html.escape(data.title)} by period</caption>"
            f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>")


def _breakdown_table(data: TileData, dim: str, label: str) -> str:
    """The latest period by `dim` (by platform), largest first, each value with a bar
    as long as its share of the largest: read as a chart, exact as a table."""
    unit = data.kpi.unit
    rows = data.breakdowns.get(dim, [])
    with_target = any(r["target"] is not None for r in rows)
    name = dim.replace("_", " ")
    head = (f"<tr><th>{html.escape(name.capitalize())}</th><th>Value</th>"
            + ("<th>Target</th><th>Status</th>" if with_target else "")
            + '<th class="bar" aria-hidden="true"></th></tr>')
    largest = max((abs(v) for v in (_float(r["value"]) for r in rows) if v is not None),
                  default=0.0)
    body = []
    ordered = sorted(rows, key=lambda r: -(_float(r["value"]) or -math.inf))
    for r in ordered:
        member, value = r["member"], _float(r["value"])
        cells = [f'<td data-value="{_attr(member)}">{html.escape(str(member))}</td>',
                 _td(r["value"], number(r["value"], unit))]
        if with_target:
            cells += [_td(r["target"], number(r["target"], unit)),
                      f'<td data-value="{_attr(r["status"])}">{_status(r["status"])}</td>']
        width = 0.0 if value is None or not largest else abs(value) / largest * 100
        kind = f"{r['status'] or 'none'}{' negative' if value is not None and value < 0 else ''}"
        cells.append(f'<td class="bar" aria-hidden="true"><span class="{html.escape(kind)}" '
                     f'style="width:{width:.1f}%"></span></td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="breakdown" data-kpi="{html.escape(data.kpi.name)}" '
            f'data-dimension="{html.escape(dim)}"><caption>By {html.escape(name)}, '
            f"{html.escape(label)}</caption><thead>{head}</thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _summary(data: TileData, grain: str) -> str:
    """The chart in words, for screen readers and anyone who cannot see it."""
    unit = data.kpi.unit
    values = [(p, _float(p["value"])) for p in data.periods]
    present = [(p, v) for p, v in values if v is not None]
    if not present:
        return f"{data.title}: no values in these periods."
    low = min(present, key=lambda pv: pv[1])
    high = max(present, key=lambda pv: pv[1])
    first, last = data.periods[0], data.periods[-1]
    text = (f"{data.title} from {charts.period_label(first['period'], grain)} to "
            f"{charts.period_label(last['period'], grain)}: lowest "
            f"{number(low[0]['value'], unit)} ({charts.period_label(low[0]['period'], grain)}), "
            f"highest {number(high[0]['value'], unit)} "
            f"({charts.period_label(high[0]['period'], grain)}), latest "
            f"{number(last['value'], unit)}.")
    statuses = [p["status"] for p in data.periods if p["status"]]
    if statuses:
        met = sum(1 for s in statuses if s in ("met", "on_track"))
        text += f" Target reached in {met} of {len(statuses)} periods."
    return text


def sec_ongoing(section: Section, period: Any) -> bool:
    """Whether `period` (a tile's latest) runs past the data's last day: in progress."""
    as_of, end = section.as_of, section.end
    return as_of is not None and end is not None and end > as_of and period <= as_of


def tile(data: TileData, section: Section, svg_markup: str, index: str) -> str:
    kpi = data.kpi
    grain = section.dashboard.grain
    latest, previous = data.latest, data.previous
    parts = [f'<article class="tile" id="tile-{index}" data-kpi="{html.escape(kpi.name)}" '
             f'data-chart="{html.escape(data.tile.chart)}" '
             f'data-periods="{len(data.periods)}" '
             f'data-marks="{sum(1 for p in data.periods if _float(p["value"]) is not None)}" '
             f'data-target="{"yes" if data.has_target else "no"}">']
    meta = ", ".join(x for x in (kpi.unit, kpi.direction.replace("_", " ")) if x)
    parts.append(f"<h4>{html.escape(data.title)}</h4>"
                 f'<p class="kpi-meta"><code>{html.escape(kpi.name)}</code> · '
                 f"{html.escape(meta)}</p>")
    if latest is not None:
        # the period holding the data's last day, asked for whole (`range.current`): its
        # value is partial, so it is not compared with a whole period
        ongoing = sec_ongoing(section, latest["period"])
        moved = change(kpi, latest["value"], previous["value"]) \
            if previous and not ongoing else None
        parts.append('<div class="headline">'
                     f'<span class="value" data-value="{_attr(latest["value"])}">'
                     f'{html.escape(number(latest["value"], kpi.unit))}</span>'
                     f'<span class="period">{charts.period_label(latest["period"], grain)}'
                     + (f", in progress (data to {section.as_of.isoformat()})"
                        if ongoing and section.as_of else "") + "</span>")
        if moved is not None and previous is not None:
            parts.append(f'<span class="change {moved[1]}">{html.escape(moved[0])} vs '
                         f'{charts.period_label(previous["period"], grain)}</span>')
        parts.append("</div>")
        if latest["target"] is not None:
            judged = (f'{_status(latest["status"])} · '
                      f'{html.escape(percent(latest["attainment"]))} of target'
                      if latest["status"] else "no value to judge")
            parts.append(f'<p class="goal">Target <b data-value="{_attr(latest["target"])}">'
                         f'{html.escape(number(latest["target"], kpi.unit))}</b> · '
                         f"{judged}</p>")
        elif kpi.target is not None:
            parts.append(f'<p class="goal">Target per {html.escape(kpi.target.grain)}: '
                         f"not shown at a {html.escape(grain)} grain</p>")
        else:
            parts.append('<p class="goal">No target</p>')
    summary = _summary(data, grain)
    label = charts.period_label(latest["period"], grain) if latest is not None else ""
    split = "".join(_breakdown_table(data, dim, label) for dim in data.breakdowns)
    parts.append('<div class="tile-body">'
                 f'<figure role="img" aria-label="{html.escape(summary, quote=True)}">'
                 f"{svg_markup}</figure>"
                 + (f'<div class="split">{split}</div>' if split else "") + "</div>")
    parts.append(f'<p class="summary">{html.escape(summary)}</p>')
    parts.append("<details><summary>Numbers by period</summary>"
                 f"{_numbers_table(data, grain)}</details>")
    parts.append("</article>")
    return "".join(parts)


def section(sec: Section, index: int, render_tile: Callable[[TileData, str], str]) -> str:
    board = sec.dashboard
    out = [f'<section class="dashboard" id="{html.escape(board.name)}" '
           f'data-dashboard="{html.escape(board.name)}">',
           f"<h2>{html.escape(board.title)}</h2>"]
    if board.description:
        out.append(f"<p>{html.escape(' '.join(board.description.split()))}</p>")
    if sec.empty or sec.start is None or sec.end is None:
        out.append(f'<p class="empty">{html.escape(sec.empty or "no data")}</p></section>')
        return "".join(out)
    periods = len(sec.tiles[0].periods) if sec.tiles else 0
    by = ", ".join(d.replace("_", " ") for d in board.by)
    out.append(f"<p>By {html.escape(board.grain)}, {sec.start.isoformat()} to "
               f"{sec.end.isoformat()} ({periods} periods)"
               f"{', broken down by ' + html.escape(by) if by else ''}.</p>")
    out.append('<details class="queries"><summary>The queries behind these numbers</summary>'
               + "".join(f"<p><code>{html.escape(q.command())} --format json</code></p>"
                         for q in sec.queries) + "</details>")
    by_kpi = iter(sec.tiles)
    for number_, row in enumerate(board.rows):
        if row.title:
            out.append(f'<h3 class="row-title">{html.escape(row.title)}</h3>')
        out.append('<div class="row">')
        for column, _ in enumerate(row.tiles):
            data = next(by_kpi)
            out.append(render_tile(data, f"{index}-{number_}-{column}"))
        out.append("</div>")
    out.append("</section>")
    return "".join(out)


def data_island(report: Report) -> str:
    """Every query's request and rows, as JSON `kpiframe query --format json` would print
    them. `</` is escaped so the JSON cannot close the element."""
    doc = {
        "dashboards": [
            {"name": s.dashboard.name, "title": s.dashboard.title,
             "queries": [{"args": q.args(), "rows": [{k: plain(v) for k, v in r.items()}
                                                     for r in rows]}
                         for q, rows in zip(s.queries, s.rows, strict=True)]}
            for s in report.sections
        ]
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="kpiframe-data">{text}</script>'


def document(report: Report, sections_markup: Sequence[str]) -> str:
    as_of = max((s.as_of for s in report.sections if s.as_of), default=None)
    nav = "".join(f'<li><a href="#{html.escape(s.dashboard.name)}">'
                  f"{html.escape(s.dashboard.title)}</a></li>" for s in report.sections)
    legend = "".join(f'<span>{_status(s)}</span>' for s in STATUS_TEXT)
    head = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="kpiframe report">'
        f"<title>{html.escape(report.title)}</title><style>{CSS}</style></head><body>"
    )
    header = (
        f'<header class="page"><h1>{html.escape(report.title)}</h1>'
        f"<p>Data up to {as_of.isoformat() if as_of else NULL} · generated "
        f"{report.generated.strftime('%Y-%m-%d %H:%M UTC')} from "
        f"<code>{html.escape(report.engine)}</code></p>"
        f'<p class="legend">Status against target: {legend} '
        "(dashed line: the target; blue: no target)</p>"
        + (f"<nav><ul>{nav}</ul></nav>" if len(report.sections) > 1 else "")
        + "</header>"
    )
    return (head + header + "<main>" + "".join(sections_markup) + "</main>"
            + data_island(report) + "</body></html>\n")
