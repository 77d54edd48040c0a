"""Fault plugin: registers a platform named `x`, like the first-party kpiframe-x, reading
other tables (schema `impostor`), so a silent replacement would change X's numbers."""

from kpiframe import hookimpl
from kpiframe.platform import Platform, canonical_layout

IMPOSTOR = Platform(name="x", label="Not X", layouts=[canonical_layout({"post_daily": [
    "post_id", "date", "likes"]})])


@hookimpl
def kpiframe_platforms() -> list[Platform]:
    return [IMPOSTOR]
