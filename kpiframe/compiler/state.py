"""What every part of the SQL writer shares: the plan, the dialect, and period arithmetic.

The writer (stage 4) reads a frozen `Plan` and changes nothing in it. The one thing it
adds is the dialect: each measure's row expressions are adapted to the engine here,
once, so every CTE that copies them writes the same adapted form.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from kpiframe.compiler import dates
from kpiframe.compiler.adapters import adapt_row_expr
from kpiframe.compiler.plan import Chain, Measure, Offset, Plan, Scan
from kpiframe.compiler.trees import col, conjoin, null_safe_eq, number

__all__ = ["Chain", "State", "col", "conjoin", "null_safe_eq", "number"]


class State:
    """A plan being written as SQL for one dialect."""

    def __init__(self, plan: Plan, dialect: str) -> None:
        self.plan = plan
        self.req = plan.request
        self.dialect = dialect
        self.grain = plan.grain
        self.by = plan.by
        self.kpis = plan.kpis
        self.scans = {name: self._adapted(scan) for name, scan in plan.scans.items()}
        self.cums = plan.windows
        self.avgs = plan.averages

    def _adapted(self, scan: Scan) -> Scan:
        def adapt(expr: exp.Expr | None) -> exp.Expr | None:
            return None if expr is None else adapt_row_expr(expr, self.dialect)

        def measure(m: Measure) -> Measure:
            return replace(m, value=adapt(m.value), condition=adapt(m.condition))

        return replace(scan, measures={k: measure(m) for k, m in scan.measures.items()})

    def earlier(self, period: exp.Expr, offset: Offset) -> exp.Expr:
        assert self.grain is not None
        if isinstance(offset, int):
            return dates.shift(period, -offset, self.grain, self.dialect)
        unit, count = offset.days_or_months
        moved = dates.add(period, -count, unit, self.dialect)
        return dates.trunc(moved, self.grain, self.dialect)

    def chain_period(self, chain: Chain) -> exp.Expr:
        period: exp.Expr = col("period", "base")
        for offset in chain:
            period = self.earlier(period, offset)
        return period
