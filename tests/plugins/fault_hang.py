"""Fault plugin: kpiframe_platforms never returns (until a test sets RELEASE)."""

import threading

from kpiframe import hookimpl
from kpiframe.platform import Platform

RELEASE = threading.Event()


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    RELEASE.wait()
    return []
