"""Fault plugin: every hook returns something that is not a list of the promised kind."""

from collections.abc import Iterator

from kpiframe import hookimpl


@hookimpl
def kpiframe_platforms() -> object:
    return {"name": "gamma"}  # a dict, not a list of Platform


@hookimpl
def kpiframe_engines() -> object:
    return [42]  # a list, of the wrong thing


@hookimpl
def kpiframe_definitions() -> Iterator[str]:
    yield from ()
    raise ValueError("fault: the generator broke half way")


@hookimpl
def kpiframe_validate(catalog: object) -> object:
    return "not a problem"
