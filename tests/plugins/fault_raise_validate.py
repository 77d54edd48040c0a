"""Fault plugin: kpiframe_validate raises (only `validate` and `test` call it)."""

from kpiframe import hookimpl
from kpiframe.problems import Problem


@hookimpl
def kpiframe_validate(catalog: object) -> list[Problem]:
    raise RuntimeError("fault: house rules exploded")
