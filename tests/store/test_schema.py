"""The result schema has one owner: the typed rows match the tables the migrations make, column for
column and type for type, and `put_results` takes only rows of the right class."""

from __future__ import annotations

import dataclasses

import pytest

from harness.store import ItemResultRow, ScoreRow, Store, TaskReportRow, TaskResultRow
from harness.store.schema import ROW_TABLES, arrow_schema, rows_table

from factories import item_result, task_result

DUCK = {"VARCHAR": "string", "INTEGER": "int32", "DOUBLE": "double", "BOOLEAN": "bool", "TIMESTAMP": "timestamp[us]",
        "JSON": "string", "BIGINT": "int64"}


@pytest.mark.parametrize("cls", list(ROW_TABLES))
def test_rows_match_the_migrated_tables(tmp_path, cls):
    store = Store(tmp_path / "s.duckdb")
    cols = store.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                       "ORDER BY ordinal_position", [ROW_TABLES[cls]])
    schema = arrow_schema(cls)
    assert [c["column_name"] for c in cols] == schema.names
    for c in cols:
        assert DUCK[c["data_type"]] == str(schema.field(c["column_name"]).type), c


def test_put_results_round_trip_and_replace(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    items = [item_result("r1", "t", "a", correct=True), item_result("r1", "t", "b", correct=False, answer=None)]
    scores = [ScoreRow(run_id="r1", task="t", item_id="a", sample_index=0, gen_key=None, extracted="42",
                       canonical="42", verdict="correct", cls=0, detail=None)]
    report = TaskReportRow(run_id="r1", task="t", name="position_bias", data='{"p": 0.5}', text="text")
    store.put_results(scores, items, task_result(items), [report])
    got = store.query("SELECT item_id, maj_correct, maj_answer FROM item_results ORDER BY item_id")
    assert got == [{"item_id": "a", "maj_correct": True, "maj_answer": "42"},
                   {"item_id": "b", "maj_correct": False, "maj_answer": None}]
    assert store.task_reports("r1")[0]["name"] == "position_bias"
    # Writing the same run and task again replaces, never duplicates.
    store.put_results(scores, items[:1], task_result(items[:1]))
    assert store.query("SELECT count(*) AS n FROM item_results")[0]["n"] == 1
    assert store.task_reports("r1") == []


def test_rows_of_the_wrong_class_or_run_are_refused(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    items = [item_result("r1", "t", "a", correct=True)]
    with pytest.raises(TypeError, match="expected ScoreRow"):
        store.put_results(items, items, task_result(items))  # type: ignore[arg-type]
    other = [dataclasses.replace(items[0], run_id="r2")]
    with pytest.raises(ValueError, match="r2/t among results of r1/t"):
        store.put_results([], other, task_result(items))
    assert rows_table(ItemResultRow, items).num_rows == 1
    assert "maj_at_k" in arrow_schema(ItemResultRow).names and "n" in arrow_schema(TaskResultRow).names


def test_every_table_has_its_row_class(tmp_path):
    """Adding a column is a migration and a field: every table the migrations make is written through
    a typed row, so no insert lists columns by hand."""
    store = Store(tmp_path / "s.duckdb")
    tables = {r["table_name"] for r in store.query("SELECT table_name FROM information_schema.tables")}
    assert tables - {"schema_migrations"} == set(ROW_TABLES.values())
