"""From a request to one SQL statement: `make_request` checks, `compile_query` builds."""

from kpiframe.compiler.query import Compiled, compile_query
from kpiframe.compiler.request import Request, make_request

__all__ = ["Compiled", "Request", "compile_query", "make_request"]
