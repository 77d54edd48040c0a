"""A plan as text a person can check (`kpiframe show KPI --plan`)."""

from __future__ import annotations

from sqlglot import exp

from kpiframe.compiler.plan import Chain, Plan
from kpiframe.definitions import Duration


def _offset(chain: Chain) -> str:
    if not chain:
        return "this period"
    parts = [f"{o} period{'s' if o != 1 else ''} back" if isinstance(o, int)
             else f"{_duration(o)} back" for o in chain]
    return ", then ".join(parts)


def _duration(d: Duration) -> str:
    unit, count = d.days_or_months
    return f"{count} {unit.lower()}{'s' if count != 1 else ''}"


def _sql(node: exp.Expr | None) -> str:
    return "-" if node is None else node.sql(dialect="duckdb")


def describe(plan: Plan) -> str:
    req = plan.request
    lines = ["plan"]
    grain = req.grain or "none (one row for the whole range)"
    lines.append(f"  grain: {grain}")
    if req.by:
        lines.append(f"  by: {', '.join(req.by)}")
    start = req.start.isoformat() if req.start else "first day with data"
    end = req.end.isoformat() if req.end else "last day with data"
    lines.append(f"  range: {start} .. {end}")
    if req.where is not None:
        lines.append(f"  where: {req.where.text}")
    if req.platforms is not None:
        lines.append(f"  platforms: {', '.join(req.platforms)}")
    for scan in plan.scans.values():
        lower = plan.agg_lower(scan)
        lines.append(f"  scan {scan.name}")
        reads = ", ".join(f"{name} ({schema})" for name, _, schema in scan.reads) or "none"
        lines.append(f"    reads: {reads}")
        if lower is not None and plan.reaches_back(scan):
            lines.append(f"    from: {lower.isoformat()} (a change reads earlier periods)")
        for measure in scan.measures.values():
            needed = [w for w, on in (("in range", measure.current),
                                      ("whole periods", measure.whole),
                                      ("per day", measure.daily)) if on]
            if measure.agg == "weighted":
                what = " + ".join(
                    f"{w:g} x sum({name})" + (f" on {', '.join(p)}" if p else "")
                    for w, name, p in measure.terms) or "0"
            else:
                what = f"{measure.agg}({_sql(measure.value) if measure.value else '*'})"
            where = f" where {_sql(measure.condition)}" if measure.condition is not None else ""
            lines.append(f"    measure {measure.kpi.name} = {what}{where}"
                         + (f"  [{', '.join(needed)}]" if needed else ""))
        if scan.from_days:
            lines.append("    aggregated from its daily scan")
    for average in plan.averages.values():
        ratio = average.kpi
        lines.append(f"  average {ratio.name} = avg over {ratio.average_over} of "
                     f"{ratio.numerator} / {ratio.denominator}")
    if req.grain:
        count, capped = plan.spine_periods
        size = f"at most {count:,}" if capped else f"{count:,}"
        lines.append(f"  spine: every {req.grain}, {size} periods"
                     + (", range decided by the data" if plan.data_bounds else ""))
    for window in plan.windows.values():
        cum = window.kpi
        if cum.window is not None:
            kind = f"rolling {_duration(cum.window)}"
        elif cum.grain_to_date is not None:
            kind = f"{cum.grain_to_date} to date"
        else:
            kind = "all time"
        how = "window frame over the day spine" if plan.framed(cum) else "join on the window"
        lines.append(f"  window {cum.name} = sum of {cum.of}, {kind} ({how})")
    for join in plan.joins:
        lines.append(f"  join {join.relation} as {join.alias} at {_offset(join.chain)}")
    for name, value in plan.outputs:
        lines.append(f"  output {name} = {_sql(value)}")
    return "\n".join(lines)
