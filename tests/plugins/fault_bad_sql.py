"""Fault plugin: a platform whose Select binding is not SQL."""

from kpiframe import hookimpl
from kpiframe.platform import Layout, Platform, Select

BROKEN = Platform(name="delta", label="Delta", layouts=[Layout(
    name="export", sources={"post_daily": Select("SELEC post_id, date FROM daily")})])


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [BROKEN]
