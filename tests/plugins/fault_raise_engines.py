"""Fault plugin: kpiframe_engines raises."""

from kpiframe import hookimpl
from kpiframe.platform import Engine


@hookimpl
def kpiframe_engines() -> list[Engine]:
    raise RuntimeError("fault: engines exploded")
