"""A plugin whose hooks raise: kpiframe must report it and keep working."""

from __future__ import annotations

from kpiframe import hookimpl
from kpiframe.platform import Platform


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    raise RuntimeError("the platform API is down")


@hookimpl
def kpiframe_validate(catalog: object) -> list[object]:
    raise ValueError("house rules could not be loaded")
