"""The SQL type of each canonical field type, shared by column discovery (which reads a
missing column as a typed NULL) and the compiler (which casts every bound column)."""

from __future__ import annotations

from sqlglot import exp

#: canonical type -> SQL type of the column in a source relation
SQL_TYPES: dict[str, exp.DataType] = {
    "text": exp.DataType.build("TEXT"),
    "integer": exp.DataType.build("BIGINT"),
    # money stays exact: DOUBLE turned 0.1 + 0.21 into 0.31000000000000005
    "decimal": exp.DataType.build("DECIMAL(38, 10)"),
    "boolean": exp.DataType.build("BOOLEAN"),
    "date": exp.DataType.build("DATE"),
    "timestamp": exp.DataType.build("TIMESTAMP"),
}
