"""The SQL type of each canonical field type, shared by column discovery (which reads a
missing column as a typed NULL) and the compiler (which casts every bound column)."""

from __future__ import annotations

from sqlglot import exp


def datatype(text: str) -> exp.DataType:
    """The type `text` names, without the parser's positions of its parameters: the
    compiler copies these types into every statement, and copying a position is a
    dictionary copy per parameter."""
    built = exp.DataType.build(text)
    for node in built.walk():
        node._meta = None
    return built


#: canonical type -> SQL type of the column in a source relation
SQL_TYPES: dict[str, exp.DataType] = {
    "text": datatype("TEXT"),
    "integer": datatype("BIGINT"),
    # money stays exact: DOUBLE turned 0.1 + 0.21 into 0.31000000000000005
    "decimal": datatype("DECIMAL(38, 10)"),
    "boolean": datatype("BOOLEAN"),
    "date": datatype("DATE"),
    "timestamp": datatype("TIMESTAMP"),
}
