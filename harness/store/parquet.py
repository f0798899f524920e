"""Runs to and from Parquet, so results made on many machines merge into one store.

`export_runs` writes one folder: a Parquet file per table (`runs.parquet`, `generations.parquet`, ...)
holding the chosen runs and everything they point at (their model, items, prompts, the generations
their scores name, results, reports). `import_runs` reads any number of such folders (found under
the paths given, at any depth) and inserts only rows whose key the store does not hold yet, so
importing the same export twice, or two exports that share samples, adds nothing twice. Columns a
newer harness added and this one lacks are left out; columns this one has and the export lacks stay
empty.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import pyarrow.parquet as pq

from harness.errors import HarnessError
from harness.store.schema import ITEM_USAGE_SQL
from harness.store.store import Store

# table -> its key, in the order an import fills them
TABLES: dict[str, tuple[str, ...]] = {
    "models": ("model_id",),
    "runs": ("run_id",),
    "prompts": ("prompt_hash",),
    "items": ("task", "task_version", "item_id"),
    "generations": ("gen_key",),
    "scores": ("run_id", "task", "item_id", "sample_index"),
    "item_results": ("run_id", "task", "item_id"),
    "task_results": ("run_id", "task"),
    "task_reports": ("run_id", "task", "name"),
}

# What of each table belongs to the chosen runs (`sel` is the temp table of their run ids).
_SELECT = {
    "runs": "SELECT * FROM runs WHERE run_id IN (SELECT run_id FROM sel)",
    "models": "SELECT * FROM models WHERE model_id IN (SELECT model_id FROM runs WHERE run_id IN (SELECT run_id FROM sel))",
    "generations": """SELECT * FROM generations WHERE run_id IN (SELECT run_id FROM sel)
                      OR gen_key IN (SELECT gen_key FROM scores WHERE run_id IN (SELECT run_id FROM sel))""",
    "prompts": """SELECT * FROM prompts WHERE prompt_hash IN (SELECT prompt_hash FROM generations
                  WHERE run_id IN (SELECT run_id FROM sel)
                  OR gen_key IN (SELECT gen_key FROM scores WHERE run_id IN (SELECT run_id FROM sel)))
                  OR prompt_hash IN (SELECT DISTINCT unnest(json_extract_string(i.prompt_hashes, '$[*]')) FROM items i
                      SEMI JOIN item_results r ON r.task = i.task AND r.task_version = i.task_version
                      AND r.item_id = i.item_id AND r.run_id IN (SELECT run_id FROM sel))""",
    "items": """SELECT * FROM items i SEMI JOIN item_results r ON r.task = i.task AND r.task_version = i.task_version
                AND r.item_id = i.item_id AND r.run_id IN (SELECT run_id FROM sel)""",
    "scores": "SELECT * FROM scores WHERE run_id IN (SELECT run_id FROM sel)",
    "item_results": "SELECT * FROM item_results WHERE run_id IN (SELECT run_id FROM sel)",
    "task_results": "SELECT * FROM task_results WHERE run_id IN (SELECT run_id FROM sel)",
    "task_reports": "SELECT * FROM task_reports WHERE run_id IN (SELECT run_id FROM sel)",
}


def export_runs(store: Store, out: str | Path, *, run_ids: Sequence[str] | None = None,
                model: str | None = None) -> dict[str, int]:
    """Write the chosen runs (all `done` runs, or `run_ids`, or a model's) to folder `out`; returns
    rows written per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with store.connect() as con:
        if run_ids:
            con.execute("CREATE TEMP TABLE sel AS SELECT unnest(?::TEXT[]) AS run_id", [list(run_ids)])
        else:
            con.execute("CREATE TEMP TABLE sel AS SELECT run_id FROM runs WHERE status = 'done' "
                        "AND (? IS NULL OR model_name = ?)", [model, model])
        if not con.execute("SELECT count(*) FROM sel").fetchone()[0]:
            raise HarnessError("no runs to export" + (f" for model {model!r}" if model else ""))
        for table in TABLES:
            with warnings.catch_warnings():  # DuckDB 2 warns of one extra copy: small tables here
                warnings.simplefilter("ignore", UserWarning)
                tab = con.execute(_SELECT[table]).to_arrow_table()
            pq.write_table(tab, out / f"{table}.parquet")
            counts[table] = tab.num_rows
    return counts


def export_folders(paths: Sequence[str | Path]) -> list[Path]:
    """Every export folder (one holding runs.parquet) at or under `paths`."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / "runs.parquet").is_file():
            found.append(p)
        elif p.is_dir():
            found += sorted(f.parent for f in p.rglob("runs.parquet"))
        else:
            raise HarnessError(f"{p}: no such folder")
    if not found:
        raise HarnessError(f"no exported runs (runs.parquet) under {', '.join(map(str, paths))}")
    return sorted(set(found))


def import_runs(store: Store, paths: Sequence[str | Path]) -> dict[str, int]:
    """Merge every export under `paths` into `store`, rows already there skipped; returns rows added per table."""
    folders = export_folders(paths)
    added: dict[str, int] = {}
    with store.connect() as con:
        for table, key in TABLES.items():
            files = [str(f / f"{table}.parquet") for f in folders if (f / f"{table}.parquet").is_file()]
            if not files:
                continue
            have = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table]).fetchall()]
            src = con.read_parquet(files, union_by_name=True)
            cols = [c for c in have if c in src.columns]
            con.register("src", src)
            col_list = ", ".join(f'"{c}"' for c in cols)
            keys = ", ".join(f'"{c}"' for c in key)
            before = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            con.execute(
                f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM "
                f"(SELECT DISTINCT ON ({keys}) {col_list} FROM src) s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE "
                + " AND ".join(f't."{c}" = s."{c}"' for c in key) + ")")
            con.unregister("src")
            added[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before
        if added.get("item_results"):  # an export from before per-item token totals: count them here
            con.execute(ITEM_USAGE_SQL.format(where="true"))
    return added
