"""Fault plugin: kpiframe_platforms raises."""

from kpiframe import hookimpl
from kpiframe.platform import Platform


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    raise RuntimeError("fault: platforms exploded")
