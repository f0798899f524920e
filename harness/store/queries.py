"""The store's read-only questions, one function per question: the leaderboard's SQL, and the one
query behind "a model's latest results" (`latest_results`) that the commands read too.

They live in the store package, the only one that speaks SQL, beside the schema they read
(`harness.store.schema`), and they never write. Every function takes an open connection (a read-only
one from `Store(..., read_only=True).connect()`), runs fixed SQL with values bound as parameters, and
returns a pandas DataFrame. Nothing a user types or a model wrote is spliced into SQL.

They are plain SELECTs over the stored per-item and per-task results, so no page recomputes a vote
from raw generations. (Named CTEs instead of views in the file: a view would be a migration, which a
read-only app cannot apply to an older store, and would freeze this SQL into every file.)
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Sequence

from harness.store.columns import arrow_table, dictionary_text
from harness.store.schema import LATEST_RUN_ORDER, ItemResultRow

if TYPE_CHECKING:  # the commands read `latest_results` through the store without loading pandas
    import duckdb
    import pandas as pd

# Metric names as shown, mapped to their fixed column names in item_results / task_results.
METRIC_COLUMNS: dict[str, str] = {"maj@k": "maj_at_k", "pass@1": "pass_at_1", "pass@k": "pass_at_k"}


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    return con.execute(sql, list(params)).df()


# "A model's latest run of a task", decided here and nowhere else: every finished (`done`) run with
# results for a task, ranked per (model, task) newest first by LATEST_RUN_ORDER. `recency` 0 is the
# latest run, 1 the one before (a nightly's baseline); runs not done have none.
RANKED_RUNS = """ranked AS (
    SELECT t.run_id, t.task, r.model_name,
           CAST(row_number() OVER (PARTITION BY r.model_name, t.task
                                   ORDER BY """ + ", ".join(f"r.{c} DESC" for c in LATEST_RUN_ORDER) + """) - 1
                AS INTEGER) AS recency
    FROM task_results t JOIN runs r USING (run_id)
    WHERE r.status = 'done')"""

def latest_results_sql(models: Sequence[str] | None = None, tasks: Sequence[str] | None = None,
                       back: int = 0, columns: Sequence[str] | None = None) -> tuple[str, list[object]]:
    """The SQL and parameters of `latest_results` (the store runs the same text for the commands);
    `columns` selects some of its columns (names from the schema, never from a user)."""
    return (f"""
        WITH {RANKED_RUNS},
        wanted AS (
            SELECT run_id, task, model_name FROM ranked
            WHERE recency = ? AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], model_name))
              AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], task)))
        SELECT {_latest_columns(columns)}
        FROM item_results i JOIN wanted w USING (run_id, task)
        JOIN runs r ON r.run_id = i.run_id
        LEFT JOIN models m ON m.model_id = r.model_id
        ORDER BY w.model_name, i.task, i.item_id""",
            [back, *([None if models is None else list(models)] * 2), *([None if tasks is None else list(tasks)] * 2)])


_MODEL_COLUMNS = ("params_b", "family", "spec")


def _latest_columns(columns: Sequence[str] | None) -> str:
    if columns is None:
        return "w.model_name AS model, i.* REPLACE (coalesce(i.n_forced, 0) AS n_forced), m.params_b, m.family, m.spec"
    items = {f.name for f in fields(ItemResultRow)}
    out = []
    for c in columns:
        if c == "model":
            out.append("w.model_name AS model")
        elif c == "n_forced":
            out.append("coalesce(i.n_forced, 0) AS n_forced")
        elif c in _MODEL_COLUMNS:
            out.append(f"m.{c}")
        elif c in items:
            out.append(f"i.{c}")
        else:
            raise ValueError(f"latest_results has no column {c!r}")
    return ", ".join(out)


def latest_results(con: duckdb.DuckDBPyConnection, models: Sequence[str] | None = None,
                   tasks: Sequence[str] | None = None, back: int = 0,
                   columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per item, each model's results from its latest run of each task (of some models and tasks;
    `back=1`: the run before the latest; `columns`: only those): the item's `item_results` row (with
    the token totals of its scored samples, stored there with the results: no sample is read) and the
    run's model record (`params_b`, `family`, `spec`: its models-file entry as JSON).
    `harness.analysis.results` turns these rows into a model's results, size and price."""
    sql, params = latest_results_sql(models, tasks, back, columns)
    # Through Arrow, text as categoricals (`columns.dictionary_text`): for hundreds of thousands of rows
    # several times faster than `.df()` to read and to cache (numbers with a missing value come as floats
    # with NaN).
    return dictionary_text(arrow_table(con, sql, params)).to_pandas()


def task_usage(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str], tasks: Sequence[str]) -> pd.DataFrame:
    """For the given (run, task) pairs (two parallel lists): the totals `Budget.of` sums over the
    items' `item_results` rows, summed here (a page of many items reads one row per run): samples and
    correct ones (NULL when an item lacks its counts), unfinished and forced samples, and token totals
    (NULL when an item's is); with the run's model record (`params_b`, `spec`), as `latest_results`
    gives it."""
    if len(run_ids) != len(tasks):
        raise ValueError("run_ids and tasks must pair up")
    return _df(con, """
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS run_id, unnest(?::VARCHAR[]) AS task),
        sums AS (
            SELECT i.run_id, i.task, count(*) AS items,
                   CASE WHEN count(i.n) = count(*) AND count(i.n_correct) = count(*)
                        THEN CAST(sum(i.n) AS BIGINT) END AS n_samples,
                   CASE WHEN count(i.n) = count(*) AND count(i.n_correct) = count(*)
                        THEN CAST(sum(i.n_correct) AS BIGINT) END AS n_correct,
                   CAST(sum(coalesce(i.n_unfinished, 0)) AS BIGINT) AS n_unfinished,
                   CASE WHEN count(i.prompt_tokens) = count(*) THEN CAST(sum(i.prompt_tokens) AS BIGINT) END
                     AS prompt_tokens,
                   CASE WHEN count(i.completion_tokens) = count(*) THEN CAST(sum(i.completion_tokens) AS BIGINT) END
                     AS completion_tokens,
                   CASE WHEN count(i.thinking_tokens) = count(*) THEN CAST(sum(i.thinking_tokens) AS BIGINT) END
                     AS thinking_tokens,
                   CAST(sum(coalesce(i.n_forced, 0)) AS BIGINT) AS n_forced
            FROM item_results i JOIN wanted USING (run_id, task)
            GROUP BY i.run_id, i.task)
        SELECT s.*, r.model_name AS model, m.params_b, m.spec
        FROM sums s JOIN runs r USING (run_id) LEFT JOIN models m ON m.model_id = r.model_id
        ORDER BY s.run_id, s.task""", [list(run_ids), list(tasks)])


def task_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every scored (run, task): the run's model, its size and family, the task's summary, and its
    `recency` among the model's finished runs of the task (0: the latest, see `RANKED_RUNS`; NULL for a
    run not done)."""
    return _df(con, f"""
        WITH {RANKED_RUNS}
        SELECT t.run_id, t.task, t.task_version, t.n_items, t.k, t.maj_at_k, t.pass_at_1, t.pass_at_k,
               t.n_timeout, t.n_unparseable, t.generated, t.reused, t.finished_at,
               t.n, t.possibly_contaminated, t.conventions,
               r.model_name AS model, r.model_id, r.started_at, r.status, r.source, r.regraded_from,
               m.params_b, m.family, rk.recency,
               a.grader AS audit_grader, a.n_checked AS audit_checked, a.n_disagree AS audit_disagree,
               a.n_items_disagree AS audit_items,
               CASE WHEN a.n_checked > 0 THEN a.n_disagree / a.n_checked END AS audit_rate
        FROM task_results t
        JOIN runs r USING (run_id)
        LEFT JOIN models m ON m.model_id = r.model_id
        LEFT JOIN ranked rk USING (run_id, task)
        LEFT JOIN (SELECT * FROM audits
                   QUALIFY row_number() OVER (PARTITION BY run_id, task ORDER BY audited_at DESC, grader) = 1) a
               ON a.run_id = t.run_id AND a.task = t.task
        ORDER BY t.finished_at, r.model_name, t.task""")


def audit_disagreements(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str], tasks: Sequence[str]) -> pd.DataFrame:
    """For the given (run, task) pairs (two parallel lists): every sample a second grader judged
    otherwise than the stored verdict, from the newest audit of each, with the run's model."""
    return _df(con, """
        WITH wanted AS (SELECT unnest(?::TEXT[]) AS run_id, unnest(?::TEXT[]) AS task),
        latest AS (SELECT run_id, task, grader FROM audits
                   QUALIFY row_number() OVER (PARTITION BY run_id, task ORDER BY audited_at DESC, grader) = 1)
        SELECT r.model_name AS model, d.task, d.item_id, d.sample_index AS sample, d.gold, d.extracted,
               d.ours, d.theirs, d.grader, d.run_id
        FROM audit_disagreements d
        JOIN latest USING (run_id, task, grader)
        JOIN wanted USING (run_id, task)
        JOIN runs r USING (run_id)
        ORDER BY d.task, r.model_name, TRY_CAST(d.item_id AS BIGINT) NULLS LAST, d.item_id, d.sample_index""",
               [list(run_ids), list(tasks)])


def value_histograms(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str], tasks: Sequence[str]) -> pd.DataFrame:
    """For the given (run, task) pairs (two parallel lists): how many items have each maj@k, pass@1
    and pass@k value (an item's maj@k is 0 or 1 with n = k samples, a fraction with n > k).

    Per-item values take few distinct values (c/k), so intervals are bootstrapped from these
    counts instead of shipping every item's row to the app."""
    if len(run_ids) != len(tasks):
        raise ValueError("run_ids and tasks must pair up")
    return _df(con, """
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS run_id, unnest(?::VARCHAR[]) AS task),
        items AS (SELECT i.* FROM item_results i JOIN wanted USING (run_id, task))
        SELECT run_id, task, 'maj@k' AS metric, round(coalesce(maj_at_k, CAST(maj_correct AS DOUBLE)), 12) AS value,
               count(*) AS items
        FROM items GROUP BY ALL
        UNION ALL
        SELECT run_id, task, 'pass@1' AS metric, round(pass_at_1, 12) AS value, count(*) AS items
        FROM items GROUP BY ALL
        UNION ALL
        SELECT run_id, task, 'pass@k' AS metric, round(pass_at_k, 12) AS value, count(*) AS items
        FROM items GROUP BY ALL
        ORDER BY run_id, task, metric, value""", [list(run_ids), list(tasks)])


def runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every run, newest first, with the tasks it scored so far."""
    return _df(con, """
        SELECT r.run_id, r.model_name AS model, r.status, r.k, r.started_at, r.finished_at, r.source,
               r.command, count(t.task) AS tasks_scored,
               string_agg(t.task, ', ' ORDER BY t.task) AS tasks
        FROM runs r LEFT JOIN task_results t USING (run_id)
        GROUP BY ALL ORDER BY r.started_at DESC""")


def item_outcomes(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str], tasks: Sequence[str]) -> pd.DataFrame:
    """Per-item results of the given (run, task) pairs (two parallel lists)."""
    if len(run_ids) != len(tasks):
        raise ValueError("run_ids and tasks must pair up")
    return _df(con, """
        SELECT i.run_id, i.task, i.item_id, i.gold, i.n, i.n_correct, i.n_unparseable, i.n_timeout,
               i.maj_answer, i.maj_correct, i.vote_share, i.margin, i.n_classes, i.pass_at_1, i.pass_at_k
        FROM item_results i
        JOIN (SELECT unnest(?::VARCHAR[]) AS run_id, unnest(?::VARCHAR[]) AS task) AS wanted
          USING (run_id, task)""", [list(run_ids), list(tasks)])


def item(con: duckdb.DuckDBPyConnection, task: str, task_version: int, item_id: str) -> pd.DataFrame:
    """One item as stored: gold answer, fields, meta and its prompts (one row per prompt variant,
    in the item's variant order; `variant` counts from 0)."""
    return _df(con, """
        WITH it AS (
            SELECT item_id, gold, fields, meta, CAST(prompt_hashes AS VARCHAR[]) AS hashes
            FROM items WHERE task = ? AND task_version = ? AND item_id = ?
        ), h AS (
            SELECT item_id, gold, fields, meta, unnest(hashes) AS prompt_hash,
                   unnest(range(len(hashes))) AS variant
            FROM it
        )
        SELECT h.item_id, h.gold, h.fields, h.meta, h.variant, h.prompt_hash, p.prompt
        FROM h LEFT JOIN prompts p ON p.prompt_hash = h.prompt_hash
        ORDER BY h.variant""", [task, task_version, item_id])


def item_runs(con: duckdb.DuckDBPyConnection, task: str, item_id: str) -> pd.DataFrame:
    """Every run with a result for one item of a task, newest first (by `LATEST_RUN_ORDER`): the
    run's model and status and the item's vote, so a page can put several models side by side."""
    return _df(con, """
        SELECT i.run_id, r.model_name AS model, r.status, r.started_at, i.task_version, i.gold, i.n, i.n_correct,
               i.maj_answer, i.maj_correct, i.vote_share, i.n_classes, i.n_unparseable, i.n_timeout
        FROM item_results i JOIN runs r USING (run_id)
        WHERE i.task = ? AND i.item_id = ?
        ORDER BY r.started_at DESC, i.run_id DESC""", [task, item_id])


def samples(con: duckdb.DuckDBPyConnection, run_id: str, task: str, item_id: str) -> pd.DataFrame:
    """Every sample of one item in one run: raw text, the thinking stored beside it (a server's
    separate reasoning field) and its token count, extracted and canonical answer, verdict.

    Two steps so the generations table is probed by primary key for k rows, not scanned."""
    scores = _df(con, """
        SELECT sample_index, verdict, extracted, canonical, cls, detail, gen_key
        FROM scores WHERE run_id = ? AND task = ? AND item_id = ?
        ORDER BY sample_index""", [run_id, task, item_id])
    keys = [k for k in scores["gen_key"].tolist() if isinstance(k, str)]
    if not keys:
        for col in ("text", "thinking", "finish", "tokens", "thinking_tokens", "latency_s", "prompt_hash"):
            scores[col] = None
        return scores
    gens = _df(con, """
        SELECT gen_key, text, thinking, finish, tokens, thinking_tokens, latency_s, prompt_hash
        FROM generations WHERE gen_key IN (SELECT unnest(?::VARCHAR[]))""", [keys])
    return scores.merge(gens, on="gen_key", how="left")


def train_queue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The training queue (`harness teach`): every queued item with why it was queued, the model's
    pass rate on it (the edge: some samples right, or none and a teacher solves it), once
    `harness export-sft` wrote it, when and to which file; and the item's meta, fields and first prompt."""
    return _df(con, """
        SELECT q.model_name AS model, q.task, q.task_version, q.item_id, q.reason, q.pass_rate, q.teacher,
               q.teacher_pass_rate, q.run_id, q.teacher_run_id, q.queued_at, q.exported_at, q.export_path,
               i.meta AS item_meta, i.fields AS item_fields, p.prompt
        FROM train_queue q
        LEFT JOIN items i ON i.task = q.task AND i.task_version = q.task_version AND i.item_id = q.item_id
        LEFT JOIN prompts p ON p.prompt_hash = json_extract_string(i.prompt_hashes, '$[0]')
        ORDER BY q.model_name, q.task, q.item_id""")


def nights(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every nightly, newest first (the report itself is read by `night`)."""
    return _df(con, """
        SELECT night_id, suite, label, tuned_domain, started_at, finished_at, status, verdict, harness_version,
               generated, reused
        FROM nights ORDER BY started_at DESC, night_id DESC""")


def night(con: duckdb.DuckDBPyConnection, night_id: str) -> pd.DataFrame:
    """One night with its markdown report."""
    return _df(con, "SELECT * FROM nights WHERE night_id = ?", [night_id])


def night_runs(con: duckdb.DuckDBPyConnection, night_id: str) -> pd.DataFrame:
    """What one night did per model and seed: run, identity, generated, reused, error."""
    return _df(con, """
        SELECT model_name AS model, seed, status, run_id, model_id, identified, generated, reused, error, identity
        FROM night_runs WHERE night_id = ? ORDER BY model_name, seed""", [night_id])


def night_checks(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every verdict recorded by a night, with its night's phase label, tuned domain and start."""
    return _df(con, """
        SELECT c.night_id, c.model_name AS model, c.scope, c.domain, c.task, c.n_items, c.baseline_score, c.score,
               c.diff, c.diff_low, c.diff_high, c.p_value, c.noise_floor, c.fell, c.rose, c.status,
               c.baseline_night_id, n.suite, n.label, n.tuned_domain, n.started_at AS night_started
        FROM nightly_checks c JOIN nights n USING (night_id)
        ORDER BY n.started_at, n.night_id, c.model_name, c.scope, c.domain, c.task""")


def loops(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every loop, newest first, with its config and result (JSON text)."""
    return _df(con, """SELECT loop_id, name, config, summary, started_at, finished_at FROM loops
                       ORDER BY started_at DESC, loop_id""")


def loop_arms(con: duckdb.DuckDBPyConnection, loop_id: str) -> pd.DataFrame:
    """A loop's arms per phase, seed and test pool, each with its model's lineage (base, the training
    file's digest, recipe, seed, how many items its weights saw)."""
    return _df(con, """SELECT a.loop_id, a.phase, a.arm, a.seed, a.model_name AS model, a.model_id, a.task, a.run_id,
                              a.base_run_id, a.n_items, a.n_train, a.score, a.base_score, a.diff, a.diff_low,
                              a.diff_high, a.p_value, a.export_path, l.base, l.method, l.data_sha256, l.recipe,
                              (SELECT count(*) FROM lineage_items i WHERE i.model_id = a.model_id) AS n_trained
                       FROM loop_arms a LEFT JOIN lineage l USING (model_id)
                       WHERE a.loop_id = ? ORDER BY a.phase, a.task, a.arm, a.seed""", [loop_id])


def pivotal_curves(con: duckdb.DuckDBPyConnection, run_id: str, task: str, item_id: str) -> pd.DataFrame:
    """p(correct) along the samples of one item of a run, from the newest pivotal search of that run
    (`harness pivotal`): one row per estimated prefix (n = 0: the sample's own verdict at its end)."""
    return _df(con, """
        WITH s AS (SELECT search_id FROM pivotal_searches WHERE source_run_id = ? AND task = ?
                   ORDER BY finished_at DESC, search_id DESC LIMIT 1)
        SELECT p.search_id, p.sample, p.position, p.prefix, p.n, p.n_correct, p.p
        FROM pivotal_prefixes p JOIN s USING (search_id)
        WHERE p.task = ? AND p.item_id = ?
        ORDER BY p.sample, p.position""", [run_id, task, task, item_id])


def pivotal_marks(con: duckdb.DuckDBPyConnection, run_id: str, task: str, item_id: str) -> pd.DataFrame:
    """The pivotal tokens of one item's samples in a run, from the newest pivotal search of that run."""
    return _df(con, """
        WITH s AS (SELECT search_id FROM pivotal_searches WHERE source_run_id = ? AND task = ?
                   ORDER BY finished_at DESC, search_id DESC LIMIT 1)
        SELECT t.search_id, t.sample, t.position, t.token, t.prefix, t.p_before, t.p_after, t.delta,
               t.delta_low, t.delta_high, t.n_before, t.recheck_delta
        FROM pivotal_tokens t JOIN s USING (search_id)
        WHERE t.task = ? AND t.item_id = ?
        ORDER BY t.sample, t.position""", [run_id, task, task, item_id])
