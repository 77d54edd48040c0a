"""kpiframe's version, in a module of its own so anything can read it without the package
facade."""

__version__ = "0.1.0"
