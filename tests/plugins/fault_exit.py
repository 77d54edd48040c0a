"""Fault plugin: a hook calls sys.exit(0), which would end `validate` green and silent."""

import sys

from kpiframe import hookimpl
from kpiframe.platform import Platform


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    sys.exit(0)
