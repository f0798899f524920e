"""The DuckDB store: the system of record. Only this package (`store`, `schema`, `queries`) speaks SQL.

DuckDB lets one process hold a file for writing and refuses every other process meanwhile, readers
included. So the writer never holds the file for long: every operation opens a connection, runs one
short transaction and closes it, retrying with backoff while another process holds the lock. A run
therefore leaves gaps in which `harness runs`, `compare` or the leaderboard can read.

While a model generates, a run writes a chunk a few times a second, and opening and closing the
file for each (the close checkpoints) cost more CPU than the write itself. So a run takes a `lease`:
the file stays open between its operations. A process that finds it held asks for it by touching
`<db>.waiting` each time it retries (every 0.04 s at most). The writer looks at that file's time after
each operation and, between them, as soon as it is touched (a thread waits on inotify; where there is
none it looks every `WATCH_S`); once it changed, it closes the file, waits
`HANDOFF_S` before its next operation (long enough for the asker's next try), and for `GRACE_S` opens
the file per operation, as without a lease, so that a process that asked once and tries again later
finds it free between writes. It also closes the file whenever no operation came for `LINGER_S` (a
model starting, the last items grading). A reader that asks therefore waits for the writer's current
operation at most (and `WATCH_S` without inotify), however busy the writer; a tool that does not ask (the duckdb CLI)
gets in at the lease's pauses.

"Opening" the file is an `ATTACH` to one in-memory DuckDB kept for the process, and closing it a
`DETACH`: the file lock is taken and released exactly as a connection would, but without starting a
database instance each time (about 1.5 ms instead of 15). Operations of one process on stores run one
at a time (a process-wide lock), as one writer per file needs anyway.

Schema changes are numbered migrations (`harness.store.schema`), applied in order and recorded in
`schema_migrations`.
Every query is parameterized; nothing from a model or a data file is spliced into SQL.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import duckdb
import pyarrow as pa

from harness.errors import HarnessError, StoreLocked
from harness.records import Completion, Prompt, stable_hash
import harness.store.queries as queries
from harness.store.columns import arrow_table, numpy_columns
from harness.store.notify import Touches
from harness.store.schema import (ITEM_USAGE_SQL, MIGRATIONS, ROW_TABLES, AuditDisagreementRow, AuditRow, GenerationRow, ItemResultRow, ItemRow, LineageItemRow,
                                   LineageRow, LoopArmRow, LoopRow, ModelRow, NightlyCheckRow, NightRow, NightRunRow,
                                   PivotalPrefixRow, PivotalSearchRow, PivotalTokenRow, PromptRow, QueueRow, RunRow, ScoreRow, TaskReportRow, TaskResultRow, columns_table,
                                   rows_table)

DEFAULT_DB = "harness.duckdb"
DB_ENV = "HARNESS_DB"
LOCK_TIMEOUT_ENV = "HARNESS_LOCK_TIMEOUT"  # seconds to wait for another process's lock

_LOCK_RE = re.compile(r"Could not set lock|Conflicting lock", re.IGNORECASE)
WAITING_SUFFIX = ".waiting"  # `<db>.waiting`: touched by a process that finds the file held
HANDOFF_S = 0.06  # a lease asked for its file closes it and waits this long before its next operation
GRACE_S = 2.0  # and then opens it per operation (as without a lease) for this long
ASK_EVERY_S = 0.04  # a process waiting for the file tries (and asks) at least this often
LINGER_S = 0.5  # a lease with no operation for this long closes the file
WATCH_S = 0.05  # without inotify: how often a lease looks whether a process asked for the file, or it lingered


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def generation_key(model_id: str, prompt_hash: str, sampling_key: str, index: int) -> str:
    return stable_hash([model_id, prompt_hash, sampling_key, index], 32)


def new_run_id() -> str:
    """A fresh run id: its start time (so ids sort by it), then random hex."""
    return now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


# A completion is stored as these columns of `generations`, by the same names as its fields.
COMPLETION_FIELDS = tuple(f.name for f in fields(Completion))


def _completion(row: Mapping[str, Any]) -> Completion:
    values = {f: row[f] for f in COMPLETION_FIELDS}
    return Completion(**{**values, "forced": bool(values["forced"])})  # NULL: stored before it was recorded


def resolve_db_path(db: str | Path | None) -> Path:
    return Path(db or os.environ.get(DB_ENV) or DEFAULT_DB).expanduser()


@dataclass(frozen=True, slots=True)
class CachedSample:
    gen_key: str
    completion: Completion


class _Process:
    """The in-memory DuckDB of this process that store files are attached to, and who holds what."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.attached: dict[tuple[str, bool], list[Any]] = {}  # (path, read_only) -> [alias, depth]
        self.count = 0
        self._anchor: duckdb.DuckDBPyConnection | None = None
        self.single = 0  # holders of `Store.single_threaded`
        self.threads = 0  # DuckDB's threads before the first of them

    def anchor(self) -> duckdb.DuckDBPyConnection:
        if self._anchor is None:
            self._anchor = duckdb.connect(":memory:")
        return self._anchor


_PROCESS = _Process()


class Lease:
    """A writer's hold on its store's file between operations (`Store.lease`): `turn` runs before each
    operation (outside `_PROCESS.lock`), `before` and `after` around it (under the lock). A watcher
    thread closes the file when another process asks for it, or when no operation came for
    `LINGER_S` (a model starting, the last items grading), whatever the writer is doing."""

    def __init__(self, store: "Store"):
        self.store = store
        self.held = False
        self.opens = 0  # times the lease opened the file (for tests and benchmarks)
        self.asked = 0  # times another process was seen asking for it
        self._seen = self._stamp()
        self._pause_until = 0.0  # monotonic: the next operation waits until then (a process asked)
        self._yield_until = 0.0  # monotonic: until then the file is opened per operation
        if self._seen is not None:  # asked within the grace period: it may be waiting still
            age = max(0.0, time.time() - self._seen[0] / 1e9)
            if age < GRACE_S:
                self._pause_until = time.monotonic() + max(0.0, HANDOFF_S - age)
                self._yield_until = time.monotonic() + GRACE_S - age
        self._last = time.monotonic()  # the end of the last operation
        self._ended = threading.Event()
        self._touches = Touches.open(store.waiting_path)  # None: polled every WATCH_S instead
        self._watcher = threading.Thread(target=self._watch, name="harness-store-lease", daemon=True)
        self._watcher.start()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.store.waiting_path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino

    def turn(self) -> None:
        """Wait out the pause after another process asked (its next try comes within it)."""
        wait = self._pause_until - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def before(self) -> None:
        """Open the file for the lease unless it is open or a process asked for it lately."""
        if not self.held and time.monotonic() >= self._yield_until:
            self.store._acquire()
            self.held = True
            self.opens += 1

    def after(self) -> None:
        """After an operation: let go of the file if another process asked since the last look."""
        self._last = time.monotonic()
        self._answer()

    def asking(self) -> None:
        """This process asked another for the file: its own touch is not a request to itself."""
        self._seen = self._stamp()

    def _answer(self) -> None:
        """Under the lock: close the file, and pause the next operation, if another process asked."""
        stamp = self._stamp()
        if stamp is not None and stamp != self._seen:
            self._seen = stamp
            self.asked += 1
            now = time.monotonic()
            self._pause_until, self._yield_until = now + HANDOFF_S, now + GRACE_S
            self._close()

    def _close(self) -> None:
        if self.held:
            self.held = False
            self.store._release()

    def _watch(self) -> None:
        while True:
            if self._touches is None:
                if self._ended.wait(WATCH_S):
                    return
            else:  # asleep until a process asks, or until the file has lingered for LINGER_S
                linger = self._last + LINGER_S - time.monotonic() if self.held else LINGER_S
                self._touches.wait(max(0.005, linger))
                if self._ended.is_set():
                    return
            with _PROCESS.lock:  # never in the middle of an operation: they run under it
                if self.held:
                    self._answer()
                if self.held and time.monotonic() - self._last >= LINGER_S:
                    self._close()

    def idle(self) -> None:
        """Close the file now if the lease holds it (it opens again at the next operation)."""
        with _PROCESS.lock:
            self._close()

    def end(self) -> None:
        """Stop watching and close the file."""
        self._ended.set()
        if self._touches is not None:
            self._touches.wake()
        self._watcher.join()
        if self._touches is not None:
            self._touches.close()
        self.idle()


class Store:
    """A DuckDB file. `read_only` stores never write and never migrate (an old file is refused)."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False,
                 lock_timeout: float | None = None):
        self.path = resolve_db_path(path)
        self.read_only = read_only
        if lock_timeout is None:
            lock_timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, 30))
        self.lock_timeout = lock_timeout
        self._migrated = False
        self._lease: Lease | None = None
        if read_only and not self.path.exists():
            raise HarnessError(f"no results store at {self.path}: run `harness run` first or pass --db PATH")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    # -- connections -------------------------------------------------------------------------

    def _attach(self, con: duckdb.DuckDBPyConnection, alias: str) -> None:
        """ATTACH the file as `alias`, retrying with backoff while another process holds its lock."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        rng = random.Random()
        path = str(self.path).replace("'", "''")  # the user's path, never model text
        mode = " (READ_ONLY)" if self.read_only else ""
        while True:
            try:
                con.execute(f"ATTACH '{path}' AS {alias}{mode}")
                return
            except (duckdb.IOException, duckdb.BinderException, duckdb.CatalogException) as exc:
                if not _LOCK_RE.search(str(exc)):
                    raise HarnessError(f"cannot open results store {self.path}: {exc}") from None
                self._ask_holder()  # a writer holding it under a lease lets go at once (see the module's doc)
                if time.monotonic() >= deadline:
                    holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
                    who = f" by {holder.group(1)} (PID {holder.group(2)})" if holder else ""
                    raise StoreLocked(
                        f"results store {self.path} is held{who} for more than {self.lock_timeout:.0f} s; "
                        f"another `harness` writer is probably running. Wait for it, or use --db OTHER.duckdb"
                    ) from None
                time.sleep(delay * rng.uniform(0.5, 1.0))
                delay = min(delay * 2, ASK_EVERY_S)

    @property
    def waiting_path(self) -> Path:
        """The file a process touches when it finds this store held (see the module's doc)."""
        return self.path.with_name(self.path.name + WAITING_SUFFIX)

    def _ask_holder(self) -> None:
        """Tell a writer holding the file under a lease that this process waits for it."""
        try:
            self.waiting_path.touch()
        except OSError:  # a folder this process may not write to: it waits for the lease's pauses
            return
        if self._lease is not None:
            self._lease.asking()

    def _acquire(self) -> str:
        """Attach the file unless it is attached already; count one more holder. Under `_PROCESS.lock`."""
        key = (str(self.path), self.read_only)
        held = _PROCESS.attached.get(key)
        if held is None:
            _PROCESS.count += 1
            alias = f"store{_PROCESS.count}"
            self._attach(_PROCESS.anchor(), alias)
            held = _PROCESS.attached[key] = [alias, 0]
        held[1] += 1
        return held[0]

    def _release(self) -> None:
        """One holder fewer; the last detaches the file (other processes may open it then)."""
        key = (str(self.path), self.read_only)
        held = _PROCESS.attached[key]
        held[1] -= 1
        if held[1] == 0:
            del _PROCESS.attached[key]
            _PROCESS.anchor().execute(f"DETACH {held[0]}")

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection whose default database is this file, for one operation: attached for the block
        (unless held), detached after; the process's operations on stores run one at a time."""
        lease = self._lease
        if lease is not None:
            lease.turn()
        with _PROCESS.lock:
            if lease is not None:
                lease.before()
            alias = self._acquire()
            con = _PROCESS.anchor().cursor()
            try:
                con.execute(f"USE {alias}")
                yield con
            finally:
                con.close()
                self._release()
                if lease is not None:
                    lease.after()

    @contextmanager
    def lease(self) -> Iterator["Lease"]:
        """Keep the file open between this store's operations in the block unless another process
        asks for it or none comes for `LINGER_S` (see the module's doc)."""
        if self._lease is not None:  # within another lease of this store: that one goes on
            yield self._lease
            return
        lease = self._lease = Lease(self)
        try:
            yield lease
        finally:
            self._lease = None
            lease.end()
            try:  # nothing left beside the store once its writer is done
                self.waiting_path.unlink()
            except OSError:
                pass

    @contextmanager
    def single_threaded(self) -> Iterator[None]:
        """DuckDB runs this process's store operations on one thread for the block (any store, any
        thread; blocks may nest or overlap). For small writes beside a model generating on the same
        cores: a write of a few rows gains nothing from a second thread, which only takes CPU from
        the engine."""
        with _PROCESS.lock:
            if _PROCESS.single == 0:
                anchor = _PROCESS.anchor()
                _PROCESS.threads = anchor.execute("SELECT current_setting('threads')").fetchone()[0]
                anchor.execute("SET threads = 1")
            _PROCESS.single += 1
        try:
            yield
        finally:
            with _PROCESS.lock:
                _PROCESS.single -= 1
                if _PROCESS.single == 0:
                    _PROCESS.anchor().execute(f"SET threads = {int(_PROCESS.threads)}")

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; writers run in one transaction that commits on success."""
        with self._open() as con:
            if not self._migrated:
                self._migrate(con)
            if self.read_only:
                yield con
            else:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        has = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations' "
            "AND table_catalog = current_database()"
        ).fetchone()[0]
        applied = 0
        if has:
            applied = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        if applied > len(MIGRATIONS):
            raise HarnessError(
                f"{self.path} has schema version {applied}, newer than this harness ({len(MIGRATIONS)}): upgrade harness"
            )
        if applied < len(MIGRATIONS):
            if self.read_only:
                raise HarnessError(
                    f"{self.path} has schema version {applied}, older than {len(MIGRATIONS)}: "
                    "run any writing harness command on it once to migrate"
                )
            con.execute("BEGIN TRANSACTION")
            if not has:
                con.execute(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TIMESTAMP)"
                )
            for version, (name, sql) in enumerate(MIGRATIONS, 1):
                if version <= applied:
                    continue
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, now()])
            con.execute("COMMIT")
        self._migrated = True

    def schema_version(self) -> int:
        with self.connect() as con:
            return con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]

    # -- models and runs ---------------------------------------------------------------------

    def _insert(self, con: duckdb.DuckDBPyConnection, cls: type, rows: Sequence[Any], conflict: str = "") -> None:
        """Insert typed rows of one class into its table, by name (`conflict`: an ON CONFLICT clause)."""
        if rows:
            self._insert_table(con, cls, rows_table(cls, rows), conflict)

    @staticmethod
    def _insert_table(con: duckdb.DuckDBPyConnection, cls: type, table: pa.Table, conflict: str = "") -> None:
        """Insert an Arrow table of one row class (`rows_table`, `columns_table`) into its table. DuckDB
        reads `new_rows` from this frame (a replacement scan): registering it as a view and dropping
        it again took more CPU than the insert, about 0.7 ms of 2.6 for a run's chunk of samples."""
        new_rows = table  # noqa: F841 - read by name in the SQL
        con.execute(f"INSERT INTO {ROW_TABLES[cls]} BY NAME SELECT * FROM new_rows {conflict}")

    def upsert_model(self, row: ModelRow) -> None:
        """Record a model; one seen before keeps its first sighting and gets the newer name, size,
        family and spec (its id already says the weights are the same)."""
        with self.connect() as con:
            self._upsert_model(con, row)

    def _upsert_model(self, con: duckdb.DuckDBPyConnection, row: ModelRow) -> None:
        self._insert(con, ModelRow, [row if row.first_seen is not None else replace(row, first_seen=now())],
                     """ON CONFLICT (model_id) DO UPDATE SET name = excluded.name, params_b = excluded.params_b,
                        family = excluded.family, spec = excluded.spec""")

    def start_run(self, row: RunRow, model: ModelRow | None = None) -> str:
        """Record a run (`new_run_id()` names one), and its model as `upsert_model` does in the same
        transaction when given; returns the run's id."""
        with self.connect() as con:
            if model is not None:
                self._upsert_model(con, model)
            self._insert(con, RunRow, [row])
        return row.run_id

    def run_row(self, run_id: str) -> dict[str, Any] | None:
        """The run's row, with its model's backend, path, params, family and spec; None when unknown."""
        rows = self.query("""SELECT r.*, m.backend, m.path, m.params_b, m.family, m.spec
                             FROM runs r LEFT JOIN models m USING (model_id) WHERE r.run_id = ?""", [run_id])
        return rows[0] if rows else None

    def scored_samples(self, run_id: str, task: str) -> list[dict[str, Any]]:
        """What regrading a task of a run needs: each scored sample's item (version, gold, fields, meta),
        sample index, generation key and stored completion, by item and sample."""
        return self.query(
            """SELECT s.item_id, s.sample_index, s.gen_key, s.verdict, s.extracted, ir.task_version,
                      it.gold, it.fields, it.meta, g.text, g.finish, g.tokens, g.prompt_tokens, g.latency_s,
                      g.thinking, g.thinking_tokens, g.forced
               FROM scores s
               JOIN item_results ir USING (run_id, task, item_id)
               LEFT JOIN items it ON it.task = s.task AND it.task_version = ir.task_version AND it.item_id = s.item_id
               LEFT JOIN generations g ON g.gen_key = s.gen_key
               WHERE s.run_id = ? AND s.task = ?
               ORDER BY TRY_CAST(s.item_id AS BIGINT) NULLS LAST, s.item_id, s.sample_index""", [run_id, task])

    def put_audit(self, summary: AuditRow, disagreements: Sequence[AuditDisagreementRow]) -> None:
        """A second grader's verdict on a run's task, replacing an earlier audit by the same grader."""
        key = [summary.run_id, summary.task, summary.grader]
        for row in disagreements:
            if [row.run_id, row.task, row.grader] != key:
                raise ValueError(f"disagreement of {row.run_id}/{row.task}/{row.grader} in the audit of {key}")
        with self.connect() as con:
            for cls, rows in ((AuditRow, [summary]), (AuditDisagreementRow, disagreements)):
                table = ROW_TABLES[cls]
                con.execute(f"DELETE FROM {table} WHERE run_id = ? AND task = ? AND grader = ?", key)
                self._insert(con, cls, rows)

    def audits(self, run_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM audits WHERE run_id = ? ORDER BY task, grader", [run_id])

    def audit_disagreements(self, run_id: str, task: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM audit_disagreements WHERE run_id = ?"
        params: list[Any] = [run_id]
        if task is not None:
            sql += " AND task = ?"
            params.append(task)
        return self.query(sql + " ORDER BY task, TRY_CAST(item_id AS BIGINT) NULLS LAST, item_id, sample_index", params)

    def set_backend_report(self, run_id: str, report: Mapping[str, Any]) -> None:
        """What the backend says about its work in a run (e.g. requests per replica), as JSON."""
        with self.connect() as con:
            con.execute("UPDATE runs SET backend_report = ? WHERE run_id = ?", [json.dumps(report), run_id])

    def backend_report(self, run_id: str) -> dict[str, Any] | None:
        with self.connect() as con:
            row = con.execute("SELECT backend_report FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def discard_empty_run(self, run_id: str) -> bool:
        """Delete a run that stored nothing of its own (no generation, score or result), and its
        model's row when no other run has that model: a command that failed on bad input leaves no
        trace. False (nothing deleted) when the run stored something."""
        with self.connect() as con:
            for table in ("generations", "scores", "item_results", "task_results", "task_reports"):
                if con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run_id]).fetchone()[0]:
                    return False
            row = con.execute("SELECT model_id FROM runs WHERE run_id = ?", [run_id]).fetchone()
            con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
            if row is not None:
                con.execute("DELETE FROM models WHERE model_id = ? AND NOT EXISTS "
                            "(SELECT 1 FROM runs WHERE runs.model_id = models.model_id)", [row[0]])
        return True

    def finish_run(self, run_id: str, status: str) -> None:
        with self.connect() as con:
            con.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?", [status, now(), run_id])

    # -- items and prompts -------------------------------------------------------------------

    def put_items(self, task: str, version: int, rows: Sequence[tuple[Any, Sequence[Prompt]]]) -> None:
        """rows: (Item, prompt variants). Items and prompts are immutable per task version."""
        if not rows:
            return
        prompts: dict[str, PromptRow] = {}
        for _, variants in rows:
            for p in variants:
                prompts.setdefault(p.hash, PromptRow(prompt_hash=p.hash,
                                                     prompt=json.dumps(p.to_json(), ensure_ascii=False)))
        items = [ItemRow(task=task, task_version=version, item_id=it.id, gold=it.gold,
                         prompt_hashes=json.dumps([p.hash for p in v]),
                         fields=json.dumps(dict(it.fields), ensure_ascii=False, default=str),
                         meta=json.dumps(dict(it.meta), ensure_ascii=False, default=str)) for it, v in rows]
        with self.connect() as con:
            self._insert(con, PromptRow, list(prompts.values()), "ON CONFLICT DO NOTHING")
            self._insert(con, ItemRow, items, "ON CONFLICT DO NOTHING")

    # -- generations (the cache) -------------------------------------------------------------

    def cached(self, model_id: str, sampling_key: str, prompt_hashes: Sequence[str], k: int) -> dict[tuple[str, int], CachedSample]:
        """Stored completions for these prompts with sample index < k."""
        if not prompt_hashes:
            return {}
        with self.connect() as con:
            con.register("wanted", pa.table({"prompt_hash": sorted(set(prompt_hashes))}))
            cur = con.execute(
                """SELECT g.* FROM generations g JOIN wanted w USING (prompt_hash)
                   WHERE g.model_id = ? AND g.sampling_key = ? AND g.sample_index < ?""",
                [model_id, sampling_key, k])
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        return {(r["prompt_hash"], r["sample_index"]): CachedSample(r["gen_key"], _completion(r)) for r in rows}

    def put_generations(self, run_id: str, model_id: str, sampling_key: str,
                        rows: Sequence[tuple[str, int, int | None, Completion]]) -> list[str]:
        """rows: (prompt_hash, sample_index, seed, completion). Idempotent: a key already stored is
        kept as it was. Returns the generation keys, in order."""
        keys = [generation_key(model_id, ph, sampling_key, i) for ph, i, _, _ in rows]
        n = len(rows)
        comps = [c for _, _, _, c in rows]
        # The rows of `GenerationRow`, built column by column (no row object per sample).
        table = columns_table(GenerationRow, {
            "gen_key": keys, "model_id": [model_id] * n, "prompt_hash": [ph for ph, _, _, _ in rows],
            "sampling_key": [sampling_key] * n, "sample_index": [i for _, i, _, _ in rows],
            "seed": [seed for _, _, seed, _ in rows], "run_id": [run_id] * n, "created_at": [now()] * n,
            **{f: [getattr(c, f) for c in comps] for f in COMPLETION_FIELDS}})
        try:
            # A plain insert, about 4 ms per write cheaper than ON CONFLICT: the keys were missing at the
            # cache lookup, so only another writer of the same samples makes one conflict, and then
            # the write (rolled back whole) is made again keeping what is stored.
            with self.connect() as con:
                if n:
                    self._insert_table(con, GenerationRow, table)
        except duckdb.ConstraintException:
            with self.connect() as con:
                self._insert_table(con, GenerationRow, table, "ON CONFLICT DO NOTHING")
        return keys

    # -- scores and results ------------------------------------------------------------------

    def put_results(self, scores: Sequence[ScoreRow], items: Sequence[ItemResultRow], summary: TaskResultRow,
                    reports: Sequence[TaskReportRow] = (), *, fresh: bool = False, usage: bool = False) -> None:
        """Scores per sample, results per item, the task's summary and its reports, in one transaction
        (a rerun of the same run and task replaces what was there). `fresh`: the caller knows nothing
        is stored for this run and task yet (nothing to replace). `usage`: the item rows carry their
        tokens and forced counts already (else they are summed from the stored generations)."""
        run_id, task = summary.run_id, summary.task
        mine: list[ScoreRow | ItemResultRow | TaskReportRow] = [*scores, *items, *reports]
        for row in mine:
            if (row.run_id, row.task) != (run_id, task):
                raise ValueError(f"row for {row.run_id}/{row.task} among results of {run_id}/{task}")
        with self.connect() as con:
            for cls, rows in ((ScoreRow, scores), (ItemResultRow, items), (TaskResultRow, [summary]),
                              (TaskReportRow, reports)):
                if not fresh:
                    con.execute(f"DELETE FROM {ROW_TABLES[cls]} WHERE run_id = ? AND task = ?", [run_id, task])
                self._insert(con, cls, rows)
            if not usage:
                con.execute(ITEM_USAGE_SQL.format(where="s.run_id = ? AND s.task = ?"), [run_id, task])

    def task_reports(self, run_id: str, task: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM task_reports WHERE run_id = ?"
        params: list[Any] = [run_id]
        if task is not None:
            sql += " AND task = ?"
            params.append(task)
        return self.query(sql + " ORDER BY task, name", params)

    # -- reading -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts. For the project's own fixed queries only: values go in `params`."""
        with self.connect() as con:
            cur = con.execute(sql, list(params))
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def runs(self, limit: int | None = None, *, model: str | None = None, task: str | None = None) -> list[dict[str, Any]]:
        """Runs newest first (of one model, with one task, when given), each with its tasks and their
        maj@k and pass@1 in task order."""
        where: list[str] = []
        params: list[Any] = []
        if model is not None:
            where.append("r.model_name = ?")
            params.append(model)
        if task is not None:
            where.append("r.run_id IN (SELECT run_id FROM task_results WHERE task = ?)")
            params.append(task)
        sql = """SELECT r.run_id, r.model_name, r.status, r.k, r.started_at, r.finished_at, r.source,
                        list(t.task ORDER BY t.task) FILTER (WHERE t.task IS NOT NULL) AS tasks,
                        list(t.maj_at_k ORDER BY t.task) FILTER (WHERE t.task IS NOT NULL) AS maj_at_k,
                        list(t.pass_at_1 ORDER BY t.task) FILTER (WHERE t.task IS NOT NULL) AS pass_at_1,
                        sum(t.n_items) AS n_items, sum(t.generated) AS generated, sum(t.reused) AS reused
                 FROM runs r LEFT JOIN task_results t USING (run_id)""" + \
              ("" if not where else " WHERE " + " AND ".join(where)) + \
              " GROUP BY ALL ORDER BY r.started_at DESC, r.run_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self.query(sql, params)

    def latest_run(self, model_name: str, task: str, *, back: int = 0) -> str | None:
        """The newest finished (`done`) run of `model_name` that has results for `task` (`back=1`: the one
        before it), as `queries.RANKED_RUNS` ranks them for every reader."""
        rows = self.query(f"WITH {queries.RANKED_RUNS} SELECT run_id FROM ranked "
                          "WHERE model_name = ? AND task = ? AND recency = ?", [model_name, task, back])
        return rows[0]["run_id"] if rows else None

    def latest_results(self, models: Sequence[str] | None = None, tasks: Sequence[str] | None = None,
                       back: int = 0) -> list[dict[str, Any]]:
        """`queries.latest_results` as dicts: per item, each model's results from its latest run of each
        task, with token totals and the run's model record (read them through
        `harness.analysis.results`)."""
        return self.query(*queries.latest_results_sql(models, tasks, back))

    def latest_results_columns(self, models: Sequence[str] | None = None, tasks: Sequence[str] | None = None,
                               back: int = 0, columns: Sequence[str] | None = None) -> dict[str, Any]:
        """`latest_results` (or some of its `columns`) as columns: NumPy arrays by column name (a
        missing number is NaN, missing text None), the same rows without a Python tuple per row."""
        with self.connect() as con:
            sql, params = queries.latest_results_sql(models, tasks, back, columns)
            return numpy_columns(arrow_table(con, sql, params))

    def run_samples(self, run_id: str, task: str | None = None, item_id: str | None = None) -> list[dict[str, Any]]:
        """Every scored sample of a run (of one task, one item): its text, extracted and canonical
        answer, verdict, and the item's gold and majority answer, by task, item and sample; `thinking`
        is the server's separate reasoning field (inline thinking stays in `text`); `forced`: budget
        forcing closed the thinking (None for samples stored before that was recorded)."""
        where, params = ["s.run_id = ?"], [run_id]
        if task is not None:
            where.append("s.task = ?")
            params.append(task)
        if item_id is not None:
            where.append("s.item_id = ?")
            params.append(item_id)
        return self.query(
            """SELECT s.task, s.item_id, s.sample_index AS sample, s.verdict, s.extracted, s.canonical, s.detail,
                      i.gold, i.maj_answer, i.maj_correct, g.text, g.finish, g.tokens, g.thinking,
                      g.thinking_tokens, g.forced
               FROM scores s
               LEFT JOIN item_results i USING (run_id, task, item_id)
               LEFT JOIN generations g ON g.gen_key = s.gen_key
               WHERE """ + " AND ".join(where) + """
               ORDER BY s.task, TRY_CAST(s.item_id AS BIGINT) NULLS LAST, s.item_id, s.sample_index""", params)

    def runs_with_sampling_key(self, sampling_key: str) -> list[str]:
        """Finished runs holding generations stored under `sampling_key` (an ingested file's key)."""
        rows = self.query("""SELECT DISTINCT r.run_id FROM runs r
                             WHERE r.status = 'done' AND r.run_id IN
                               (SELECT run_id FROM generations WHERE sampling_key = ?)
                             ORDER BY r.run_id""", [sampling_key])
        return [r["run_id"] for r in rows]

    def run_model_spec(self, run_id: str) -> dict[str, Any]:
        """The spec recorded for the model of a run (its models-file entry as `ModelSpec.describe`
        gives it: thinking delimiters, price, ...); {} when none was recorded (ingested models)."""
        rows = self.query("SELECT m.spec FROM runs r JOIN models m USING (model_id) WHERE r.run_id = ?", [run_id])
        spec = json.loads(rows[0]["spec"]) if rows and rows[0]["spec"] else {}
        return spec if isinstance(spec, dict) else {}

    def tasks_of_model(self, model_name: str) -> list[str]:
        rows = self.query("""SELECT DISTINCT t.task FROM runs r JOIN task_results t USING (run_id)
                             WHERE r.model_name = ? AND r.status = 'done' ORDER BY t.task""", [model_name])
        return [r["task"] for r in rows]

    def queue_items(self, rows: Sequence[QueueRow]) -> int:
        """Add teachable items to the training queue; an item already queued keeps its export mark
        but gets the newer evidence. Returns how many rows were written."""
        with self.connect() as con:
            self._insert(con, QueueRow, rows, """ON CONFLICT (model_name, task, item_id) DO UPDATE SET
                reason = excluded.reason, pass_rate = excluded.pass_rate, teacher = excluded.teacher,
                teacher_pass_rate = excluded.teacher_pass_rate, run_id = excluded.run_id,
                teacher_run_id = excluded.teacher_run_id, task_version = excluded.task_version""")
        return len(rows)

    def queue(self, model_name: str, *, pending_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM train_queue WHERE model_name = ?"
        if pending_only:
            sql += " AND exported_at IS NULL"
        return self.query(sql + " ORDER BY task, item_id", [model_name])

    def correct_samples(self, run_id: str, task: str) -> list[dict[str, Any]]:
        """Every correct sample of a run's task with its text and prompt, for SFT export."""
        return self.query(
            """SELECT s.item_id, s.sample_index, g.text, g.thinking, g.finish, p.prompt
               FROM scores s JOIN generations g USING (gen_key) JOIN prompts p ON p.prompt_hash = g.prompt_hash
               WHERE s.run_id = ? AND s.task = ? AND s.verdict = 'correct'
               ORDER BY s.item_id, length(g.text) + length(coalesce(g.thinking, '')), s.sample_index""",
            [run_id, task])

    def mark_exported(self, model_name: str, keys: Sequence[tuple[str, str]], path: str) -> None:
        if not keys:
            return
        tab = pa.table({"task": [k[0] for k in keys], "item_id": [k[1] for k in keys]})
        with self.connect() as con:
            con.register("exported", tab)
            con.execute(
                """UPDATE train_queue SET exported_at = ?, export_path = ?
                   WHERE model_name = ? AND (task, item_id) IN (SELECT (task, item_id) FROM exported)""",
                [now(), path, model_name])

    def exported_item_ids(self, model_name: str, task: str) -> set[str]:
        rows = self.query("""SELECT item_id FROM train_queue WHERE model_name = ? AND task = ?
                             AND exported_at IS NOT NULL""", [model_name, task])
        return {r["item_id"] for r in rows}

    # -- lineage: what a model's weights were trained on -------------------------------------

    def put_lineage(self, model_id: str, lineage: Mapping[str, Any], items: Sequence[tuple[str, str]]) -> None:
        """Record a fine-tuned model's lineage and the (task, item id) pairs its weights saw in
        training (its ancestors' included). Idempotent: the same weights record the same lineage."""
        row = LineageRow(model_id=model_id, base=lineage.get("base"), base_model_id=lineage.get("base_model_id"),
                         method=lineage.get("method") or "sft", data_sha256=lineage.get("data_sha256"),
                         recipe=json.dumps(lineage.get("recipe")), seed=lineage.get("seed"), recorded_at=now())
        with self.connect() as con:
            con.execute("DELETE FROM lineage WHERE model_id = ?", [model_id])
            con.execute("DELETE FROM lineage_items WHERE model_id = ?", [model_id])
            self._insert(con, LineageRow, [row])
            self._insert(con, LineageItemRow, [LineageItemRow(model_id=model_id, task=t, item_id=i)
                                               for t, i in sorted(set(items))])

    def lineage(self, model_id: str) -> dict[str, Any] | None:
        rows = self.query("""SELECT l.*, (SELECT count(*) FROM lineage_items i WHERE i.model_id = l.model_id) AS n_items
                             FROM lineage l WHERE l.model_id = ?""", [model_id])
        return rows[0] if rows else None

    def trained_item_ids(self, model_id: str, task: str) -> set[str]:
        """Items of `task` that these weights were trained on, through their lineage."""
        rows = self.query("SELECT item_id FROM lineage_items WHERE model_id = ? AND task = ?", [model_id, task])
        return {r["item_id"] for r in rows}

    def contaminated_items(self, run_id: str, task: str) -> set[str]:
        """Items of a run's task flagged as possibly contaminated (its model's weights saw them)."""
        rows = self.query("""SELECT item_id FROM item_results WHERE run_id = ? AND task = ?
                             AND coalesce(possibly_contaminated, false)""", [run_id, task])
        return {r["item_id"] for r in rows}

    # -- run keys: a run that would repeat a finished one is not made again ------------------

    def finished_run_with_key(self, key: str) -> str | None:
        """The newest finished run recorded under `key` (same model, sampling, k, tasks, items and
        harness version), if any."""
        rows = self.query("""SELECT run_id FROM runs WHERE run_key = ? AND status = 'done'
                             ORDER BY started_at DESC, run_id DESC LIMIT 1""", [key])
        return rows[0]["run_id"] if rows else None

    # -- loops -------------------------------------------------------------------------------

    def put_loop(self, loop_id: str, name: str, config: Mapping[str, Any]) -> None:
        """Record a loop as it starts (a rerun of the same config keeps its first start)."""
        with self.connect() as con:
            self._insert(con, LoopRow, [LoopRow(loop_id=loop_id, name=name, config=json.dumps(config), summary=None,
                                                started_at=now(), finished_at=None)],
                         "ON CONFLICT (loop_id) DO UPDATE SET config = excluded.config")

    def finish_loop(self, loop_id: str, summary: Mapping[str, Any]) -> None:
        with self.connect() as con:
            con.execute("UPDATE loops SET summary = ?, finished_at = ? WHERE loop_id = ?",
                        [json.dumps(summary), now(), loop_id])

    def put_loop_arms(self, rows: Sequence[LoopArmRow]) -> None:
        self._upsert(LoopArmRow, rows, ("loop_id", "phase", "arm", "seed", "task"))

    def loops(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM loops ORDER BY started_at DESC, loop_id")

    def loop_arms(self, loop_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM loop_arms WHERE loop_id = ? ORDER BY phase, task, arm, seed", [loop_id])

    # -- nights ------------------------------------------------------------------------------

    def _upsert(self, cls: type, rows: Sequence[Any], key: Sequence[str]) -> None:
        """Replace the rows of `cls`'s table that share `key` with these rows (by name)."""
        if not rows:
            return
        table = ROW_TABLES[cls]
        where = " AND ".join(f"{c} = ?" for c in key)
        with self.connect() as con:
            for r in rows:
                con.execute(f"DELETE FROM {table} WHERE {where}", [getattr(r, c) for c in key])
            self._insert(con, cls, rows)

    def put_night(self, row: NightRow) -> None:
        self._upsert(NightRow, [row], ("night_id",))

    def put_night_run(self, row: NightRunRow) -> None:
        self._upsert(NightRunRow, [row], ("night_id", "model_name", "seed"))

    def put_nightly_checks(self, rows: Sequence[NightlyCheckRow]) -> None:
        """Append verdicts; a night's checks replace that night's earlier ones (a resumed night)."""
        if not rows:
            return
        nights = sorted({r.night_id for r in rows if r.night_id is not None})
        with self.connect() as con:
            for night in nights:
                con.execute("DELETE FROM nightly_checks WHERE night_id = ?", [night])
            self._insert(con, NightlyCheckRow, rows)

    def night(self, night_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM nights WHERE night_id = ?", [night_id])
        return rows[0] if rows else None

    def nights(self, suite: str | None = None) -> list[dict[str, Any]]:
        """Nights, newest first (of one suite when given)."""
        if suite is None:
            return self.query("SELECT * FROM nights ORDER BY started_at DESC, night_id DESC")
        return self.query("SELECT * FROM nights WHERE suite = ? ORDER BY started_at DESC, night_id DESC", [suite])

    def night_runs(self, night_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM night_runs WHERE night_id = ? ORDER BY model_name, seed", [night_id])

    def night_checks(self, night_id: str) -> list[dict[str, Any]]:
        return self.query("""SELECT * FROM nightly_checks WHERE night_id = ?
                             ORDER BY model_name, scope DESC, domain, task""", [night_id])

    def previous_night_run(self, suite: str, model_name: str, seed: int, night_id: str) -> dict[str, Any] | None:
        """The run tonight's is judged against: from the newest night of `suite` before `night_id` in
        which `model_name` finished a run, the run at `seed` (else that night's lowest seed, when the
        seeds changed)."""
        rows = self.query(
            """SELECT n.night_id, nr.run_id, nr.model_id, nr.seed FROM nights n JOIN night_runs nr USING (night_id)
               WHERE n.suite = ? AND nr.model_name = ? AND nr.status = 'done' AND nr.run_id IS NOT NULL
                 AND n.night_id <> ? AND n.started_at <= (SELECT started_at FROM nights WHERE night_id = ?)
               ORDER BY n.started_at DESC, n.night_id DESC, (nr.seed = ?) DESC, nr.seed LIMIT 1""",
            [suite, model_name, night_id, night_id, seed])
        return rows[0] if rows else None

    def item_results(self, run_id: str, tasks: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Per-item results of a run (of some tasks), ordered by task and item."""
        rows = self.query("SELECT * FROM item_results WHERE run_id = ? ORDER BY task, item_id", [run_id])
        return rows if tasks is None else [r for r in rows if r["task"] in set(tasks)]

    def task_results(self, run_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM task_results WHERE run_id = ? ORDER BY task", [run_id])

    # -- pivotal tokens ----------------------------------------------------------------------

    def put_pivotal(self, search: PivotalSearchRow, prefixes: Sequence[PivotalPrefixRow],
                    tokens: Sequence[PivotalTokenRow]) -> None:
        """A search, the prefixes it estimated and the pivotal tokens it found, in one transaction
        (a search written again replaces what it wrote before)."""
        for other in [r.search_id for r in prefixes] + [r.search_id for r in tokens]:
            if other != search.search_id:
                raise ValueError(f"row of search {other} among those of {search.search_id}")
        with self.connect() as con:
            for cls, rows in ((PivotalSearchRow, [search]), (PivotalPrefixRow, prefixes), (PivotalTokenRow, tokens)):
                table = ROW_TABLES[cls]
                con.execute(f"DELETE FROM {table} WHERE search_id = ?", [search.search_id])
                self._insert(con, cls, rows)

    def set_pivotal_recheck(self, search_id: str, seed: int, deltas: Mapping[tuple[str, str, int, int], float]) -> None:
        """Deltas re-estimated from fresh rollouts (`seed`), by (task, item, sample, position), and
        how many kept their sign."""
        with self.connect() as con:
            rows = con.execute("""SELECT task, item_id, sample, position, delta FROM pivotal_tokens
                                  WHERE search_id = ?""", [search_id]).fetchall()
            agree = n = 0
            for task, item_id, sample, position, delta in rows:
                new = deltas.get((task, item_id, sample, position))
                if new is None:
                    continue
                n += 1
                agree += (new > 0) == (delta > 0) and new != 0
                con.execute("""UPDATE pivotal_tokens SET recheck_delta = ? WHERE search_id = ? AND task = ?
                               AND item_id = ? AND sample = ? AND position = ?""",
                            [new, search_id, task, item_id, sample, position])
            con.execute("""UPDATE pivotal_searches SET recheck_seed = ?, recheck_agree = ?, recheck_n = ?
                           WHERE search_id = ?""", [seed, agree, n, search_id])

    def pivotal_searches(self, model_name: str | None = None) -> list[dict[str, Any]]:
        """Searches, newest first (of one model when given)."""
        if model_name is None:
            return self.query("SELECT * FROM pivotal_searches ORDER BY finished_at DESC, search_id DESC")
        return self.query("""SELECT * FROM pivotal_searches WHERE model_name = ?
                             ORDER BY finished_at DESC, search_id DESC""", [model_name])

    def pivotal_tokens(self, *, search_id: str | None = None, model_name: str | None = None,
                       task: str | None = None, item_id: str | None = None) -> list[dict[str, Any]]:
        """Pivotal tokens with their search's model, source run and rollouts per estimate, by search,
        item, sample and position."""
        where, params = [], []
        for col, val in (("s.search_id", search_id), ("s.model_name", model_name), ("t.task", task),
                         ("t.item_id", item_id)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        return self.query(
            """SELECT t.*, s.model_name, s.model_id, s.source_run_id, s.params
               FROM pivotal_tokens t JOIN pivotal_searches s USING (search_id)"""
            + (" WHERE " + " AND ".join(where) if where else "")
            + """ ORDER BY s.finished_at, t.search_id, t.task, TRY_CAST(t.item_id AS BIGINT) NULLS LAST, t.item_id,
                  t.sample, t.position""", params)

    def pivotal_prefixes(self, search_id: str, task: str | None = None, item_id: str | None = None,
                         sample: int | None = None) -> list[dict[str, Any]]:
        """The prefixes a search estimated (of one item's sample when given), by position."""
        where, params = ["search_id = ?"], list[Any]([search_id])
        for col, val in (("task", task), ("item_id", item_id), ("sample", sample)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        return self.query("SELECT * FROM pivotal_prefixes WHERE " + " AND ".join(where)
                          + " ORDER BY task, item_id, sample, position", params)

    def item_prompts(self, task: str, item_ids: Sequence[str]) -> dict[str, list[Prompt]]:
        """Each item's prompt variants as stored (its newest task version), in variant order."""
        if not item_ids:
            return {}
        rows = self.query(
            """WITH it AS (SELECT item_id, CAST(prompt_hashes AS VARCHAR[]) AS hashes FROM items
                           WHERE task = ? AND list_contains(?, item_id)
                           QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY task_version DESC) = 1),
                    h AS (SELECT item_id, unnest(hashes) AS prompt_hash, unnest(range(len(hashes))) AS variant FROM it)
               SELECT h.item_id, h.variant, p.prompt FROM h JOIN prompts p USING (prompt_hash)
               ORDER BY h.item_id, h.variant""", [task, list(item_ids)])
        out: dict[str, list[Prompt]] = {}
        for r in rows:
            out.setdefault(r["item_id"], []).append(Prompt.from_json(json.loads(r["prompt"])))
        return out
