"""Fault plugin: a kpiframe_validate hook that tries to empty the catalog it is shown
(which once turned `validate` green), then reports nothing."""

from typing import Any

from kpiframe import hookimpl
from kpiframe.problems import Problem

ATTEMPTS: list[str] = []


@hookimpl
def kpiframe_validate(catalog: Any) -> list[Problem]:
    for name, attempt in (
        ("kpis.clear()", lambda: catalog.kpis.clear()),
        ("del kpis[...]", lambda: catalog.kpis.__delitem__(next(iter(catalog.kpis)))),
        ("problems = ()", lambda: setattr(catalog, "problems", ())),
        ("kpi.node.clear()", lambda: [kpi.node.clear() for kpi in catalog.kpis.values()]),
    ):
        try:
            attempt()
            ATTEMPTS.append(f"{name}: done")
        except Exception as exc:
            ATTEMPTS.append(f"{name}: {type(exc).__name__}")
    return []
