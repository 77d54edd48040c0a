"""Fault plugin: kpiframe_definitions raises."""

from kpiframe import hookimpl


@hookimpl
def kpiframe_definitions() -> list[str]:
    raise RuntimeError("fault: definitions exploded")
