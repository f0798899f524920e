"""Query results as columns: Arrow tables from DuckDB to NumPy arrays (and DataFrames) without a
Python object per row, for readers of hundreds of thousands of rows (`latest_results`).

Text columns are dictionary-encoded first: such results repeat a few models, runs, tasks and answers
row after row, so each distinct string becomes one Python object (and one pandas category), not one
per row."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def arrow_table(con: Any, sql: str, params: Sequence[object]) -> pa.Table:
    """A query's rows as an Arrow table, from DuckDB's relation API (a DB-API result would copy them
    once more); whatever the connection left unfinished (its `USE`, a migration check) is completed
    first, as DuckDB requires."""
    con.complete()
    return con.sql(sql, params=list(params)).to_arrow_table()


def dictionary_text(table: pa.Table) -> pa.Table:
    """`table` with every text column dictionary-encoded (to pandas: categoricals)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(i, field.name, pc.dictionary_encode(table.column(i)))
    return table


def numpy_columns(table: pa.Table) -> dict[str, Any]:
    """Each column as a NumPy array: numbers as they are (a column with a missing value as floats
    with NaN), text and other objects as an object array (missing: None)."""
    return {name: _numpy(col) for name, col in zip(table.column_names, dictionary_text(table).columns)}


def _numpy(col: pa.ChunkedArray) -> np.ndarray:
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(arr.type):
        return arr.to_numpy(zero_copy_only=False)
    words = arr.dictionary.to_numpy(zero_copy_only=False).astype(object)
    codes = arr.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    out = words[codes] if len(words) else np.full(len(arr), None, dtype=object)
    if arr.null_count:
        out[np.asarray(arr.is_null())] = None
    return out
