"""The result schema, in one place: numbered migrations and the typed rows written to them.

A result column is named once, as a field of its row class here, plus the migration that adds it.
The Arrow schema every insert uses is derived from the row class, and inserts go `BY NAME`, so the
store, the pipeline, tests (through `rows_table`) and benchmarks cannot drift apart. Adding a column:
a migration below and a field (with a default, for rows written by older tools) on its row class.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence, get_type_hints

import pyarrow as pa

RUN_STATUSES = ("running", "done", "failed", "interrupted")
# "A model's latest run of a task": its newest `done` run with results for the task, newest by these
# `runs` columns (start time, then run id to break ties). Ranked once, in SQL: `queries.RANKED_RUNS`,
# which `Store.latest_run`, `queries.latest_results` and the leaderboard's `task_scores` all read.
LATEST_RUN_ORDER = ("started_at", "run_id")

# Each item's token totals over its scored samples, from `generations` (a total is NULL when a sample
# did not report its count; `n_forced`: samples whose thinking budget forcing closed), written into
# `item_results`: by the migration that added the columns for every row, and by `Store.put_results`
# for the run and task it stores (`where` restricts the scores read).
ITEM_USAGE_SQL = """
        UPDATE item_results SET prompt_tokens = u.prompt_tokens, completion_tokens = u.completion_tokens,
                                thinking_tokens = u.thinking_tokens, n_forced = u.n_forced
        FROM (SELECT s.run_id, s.task, s.item_id,
                     CASE WHEN count(g.prompt_tokens) = count(*) THEN CAST(sum(g.prompt_tokens) AS BIGINT) END
                       AS prompt_tokens,
                     CASE WHEN count(g.tokens) = count(*) THEN CAST(sum(g.tokens) AS BIGINT) END AS completion_tokens,
                     CASE WHEN count(g.thinking_tokens) = count(*) THEN CAST(sum(g.thinking_tokens) AS BIGINT) END
                       AS thinking_tokens,
                     CAST(count_if(g.forced) AS INTEGER) AS n_forced
              FROM scores s LEFT JOIN generations g ON g.gen_key = s.gen_key
              WHERE {where}
              GROUP BY s.run_id, s.task, s.item_id) AS u
        WHERE item_results.run_id = u.run_id AND item_results.task = u.task AND item_results.item_id = u.item_id;
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "initial schema",
        """
        CREATE TABLE models (
            model_id   TEXT PRIMARY KEY,   -- fingerprint: same weights/endpoint => same id
            name       TEXT NOT NULL,      -- alias or inline spec
            backend    TEXT NOT NULL,
            path       TEXT,
            params_b   DOUBLE,
            family     TEXT,
            spec       JSON,
            first_seen TIMESTAMP NOT NULL
        );
        CREATE TABLE runs (
            run_id          TEXT PRIMARY KEY,
            model_id        TEXT NOT NULL,
            model_name      TEXT NOT NULL,
            started_at      TIMESTAMP NOT NULL,
            finished_at     TIMESTAMP,
            status          TEXT NOT NULL,  -- running | done | failed | interrupted
            k               INTEGER NOT NULL,
            sampling        JSON,
            tasks           JSON,
            command         TEXT,
            harness_version TEXT,
            source          TEXT NOT NULL DEFAULT 'harness'
        );
        CREATE TABLE prompts (
            prompt_hash TEXT PRIMARY KEY,
            prompt      JSON NOT NULL
        );
        CREATE TABLE items (
            task         TEXT NOT NULL,
            task_version INTEGER NOT NULL,
            item_id      TEXT NOT NULL,
            gold         TEXT,
            prompt_hashes JSON,            -- one per prompt variant
            fields       JSON,
            meta         JSON,
            PRIMARY KEY (task, task_version, item_id)
        );
        CREATE TABLE generations (
            gen_key       TEXT PRIMARY KEY, -- hash(model_id, prompt_hash, sampling_key, sample_index)
            model_id      TEXT NOT NULL,
            prompt_hash   TEXT NOT NULL,
            sampling_key  TEXT NOT NULL,
            sample_index  INTEGER NOT NULL,
            seed          BIGINT,
            text          TEXT NOT NULL,
            finish        TEXT NOT NULL,
            tokens        INTEGER,
            prompt_tokens INTEGER,
            latency_s     DOUBLE,
            run_id        TEXT,
            created_at    TIMESTAMP NOT NULL
        );
        CREATE TABLE scores (
            run_id       TEXT NOT NULL,
            task         TEXT NOT NULL,
            item_id      TEXT NOT NULL,
            sample_index INTEGER NOT NULL,
            gen_key      TEXT,
            extracted    TEXT,
            canonical    TEXT,
            verdict      TEXT NOT NULL,
            cls          INTEGER,
            detail       TEXT,
            PRIMARY KEY (run_id, task, item_id, sample_index)
        );
        CREATE TABLE item_results (
            run_id        TEXT NOT NULL,
            task          TEXT NOT NULL,
            task_version  INTEGER NOT NULL,
            item_id       TEXT NOT NULL,
            gold          TEXT,
            n             INTEGER NOT NULL,
            n_correct     INTEGER NOT NULL,
            n_unparseable INTEGER NOT NULL,
            n_timeout     INTEGER NOT NULL,
            maj_answer    TEXT,
            maj_correct   BOOLEAN NOT NULL,
            vote_share    DOUBLE NOT NULL,
            margin        DOUBLE NOT NULL,
            n_classes     INTEGER NOT NULL,
            pass_at_1     DOUBLE NOT NULL,
            pass_at_k     DOUBLE NOT NULL,
            PRIMARY KEY (run_id, task, item_id)
        );
        CREATE TABLE task_results (
            run_id       TEXT NOT NULL,
            task         TEXT NOT NULL,
            task_version INTEGER NOT NULL,
            n_items      INTEGER NOT NULL,
            k            INTEGER NOT NULL,
            generated    INTEGER NOT NULL,
            reused       INTEGER NOT NULL,
            maj_at_k     DOUBLE NOT NULL,
            pass_at_1    DOUBLE NOT NULL,
            pass_at_k    DOUBLE NOT NULL,
            n_timeout    INTEGER NOT NULL,
            n_unparseable INTEGER NOT NULL,
            finished_at  TIMESTAMP NOT NULL,
            PRIMARY KEY (run_id, task)
        );
        CREATE INDEX gen_lookup ON generations (model_id, sampling_key, prompt_hash);
        """,
    ),
    (
        "training queue",
        """
        CREATE TABLE train_queue (
            model_name        TEXT NOT NULL,  -- the model that should learn the item
            task              TEXT NOT NULL,
            task_version      INTEGER NOT NULL,
            item_id           TEXT NOT NULL,
            reason            TEXT NOT NULL,  -- own_samples | teacher
            pass_rate         DOUBLE NOT NULL,
            teacher           TEXT,
            teacher_pass_rate DOUBLE,
            run_id            TEXT NOT NULL,
            teacher_run_id    TEXT,
            queued_at         TIMESTAMP NOT NULL,
            exported_at       TIMESTAMP,      -- set once the item went into SFT data: later scores on it
            export_path       TEXT,           -- are flagged as possibly contaminated
            PRIMARY KEY (model_name, task, item_id)
        );
        ALTER TABLE task_results ADD COLUMN possibly_contaminated INTEGER DEFAULT 0;
        """,
    ),
    (
        "nightly checks",
        """
        CREATE TABLE nightly_checks (
            checked_at      TIMESTAMP NOT NULL,
            model_name      TEXT NOT NULL,
            task            TEXT NOT NULL,
            run_id          TEXT NOT NULL,
            baseline_run_id TEXT,
            n_items         INTEGER NOT NULL,  -- items both runs have
            baseline_score  DOUBLE,
            score           DOUBLE NOT NULL,
            diff            DOUBLE,
            diff_low        DOUBLE,
            diff_high       DOUBLE,
            p_value         DOUBLE,
            status          TEXT NOT NULL      -- regression | improvement | steady | no_baseline
        );
        """,
    ),
    (
        "maj@k estimated from n >= k samples",
        """
        ALTER TABLE item_results ADD COLUMN maj_at_k DOUBLE;
        ALTER TABLE task_results ADD COLUMN n INTEGER;
        """,
    ),
    (
        "task reports",
        """
        CREATE TABLE task_reports (
            run_id TEXT NOT NULL,
            task   TEXT NOT NULL,
            name   TEXT NOT NULL,   -- e.g. position_bias
            data   JSON NOT NULL,
            text   TEXT,
            PRIMARY KEY (run_id, task, name)
        );
        """,
    ),
    (
        "nights: nightly records, their runs and per-domain checks",
        """
        CREATE TABLE nights (
            night_id        TEXT PRIMARY KEY,  -- e.g. phi-2026-12-01 (a second night that day: phi-2026-12-01.2)
            suite           TEXT NOT NULL,     -- the config's name: nights of one suite follow each other
            started_at      TIMESTAMP NOT NULL,
            status          TEXT NOT NULL,     -- running | done | failed | interrupted
            label           TEXT,              -- tuning phase, e.g. "math SFT round 2"
            tuned_domain    TEXT,              -- the domain being tuned this night, if any
            finished_at     TIMESTAMP,
            verdict         TEXT,              -- regressed | improved | steady | no_baseline | failed
            harness_version TEXT,
            host            TEXT,
            pid             INTEGER,
            config          JSON,
            generated       INTEGER,
            reused          INTEGER,
            report_md       TEXT,
            report_json     JSON
        );
        CREATE TABLE night_runs (
            night_id   TEXT NOT NULL,
            model_name TEXT NOT NULL,
            seed       INTEGER NOT NULL,     -- the first seed is checked; all of them measure the noise floor
            status     TEXT NOT NULL,        -- done | failed
            model_id   TEXT,
            identity   JSON,                 -- revision, what the server reported, night key
            identified BOOLEAN,              -- false: nothing identifies the weights, samples are this night's
            run_id     TEXT,
            error      TEXT,
            generated  INTEGER,
            reused     INTEGER,
            PRIMARY KEY (night_id, model_name, seed)
        );
        ALTER TABLE nightly_checks ADD COLUMN night_id TEXT;
        ALTER TABLE nightly_checks ADD COLUMN baseline_night_id TEXT;
        ALTER TABLE nightly_checks ADD COLUMN scope TEXT DEFAULT 'task';  -- task | domain
        ALTER TABLE nightly_checks ADD COLUMN domain TEXT;
        ALTER TABLE nightly_checks ADD COLUMN noise_floor DOUBLE;        -- spread across seeds, measured
        ALTER TABLE nightly_checks ADD COLUMN fell INTEGER;              -- items right before, wrong now
        ALTER TABLE nightly_checks ADD COLUMN rose INTEGER;              -- items wrong before, right now
        """,
    ),
    (
        "runs: what the backend reports (requests served and failed per replica)",
        """
        ALTER TABLE runs ADD COLUMN backend_report JSON;
        """,
    ),
    (
        "reasoning models: thinking beside the answer, unfinished thinking, token accounting",
        """
        ALTER TABLE generations ADD COLUMN thinking TEXT;              -- the server's separate reasoning field
        ALTER TABLE generations ADD COLUMN thinking_tokens INTEGER;    -- of `tokens`, the thinking's share
        ALTER TABLE item_results ADD COLUMN n_unfinished INTEGER DEFAULT 0;  -- thinking never closed
        ALTER TABLE task_results ADD COLUMN n_unfinished INTEGER DEFAULT 0;
        ALTER TABLE task_results ADD COLUMN prompt_tokens BIGINT;      -- totals over the task's samples
        ALTER TABLE task_results ADD COLUMN completion_tokens BIGINT;  -- generated: thinking + answer
        ALTER TABLE task_results ADD COLUMN thinking_tokens BIGINT;
        ALTER TABLE task_results ADD COLUMN latency_s DOUBLE;
        """,
    ),
    (
        "budget forcing: samples whose thinking was closed at the budget",
        """
        ALTER TABLE generations ADD COLUMN forced BOOLEAN;  -- the closing tag is ours; NULL: stored before
        """,
    ),
    (
        "lineage: what a fine-tuned model's weights were trained on; run keys; loops",
        """
        CREATE TABLE lineage (
            model_id      TEXT PRIMARY KEY,  -- the fine-tuned weights (their fingerprint)
            base          TEXT,              -- the folder (or id) it was trained from
            base_model_id TEXT,              -- the base's fingerprint, where it is a local folder
            method        TEXT NOT NULL,     -- sft | dpo
            data_sha256   TEXT,              -- the training file's digest
            recipe        JSON,              -- the training configuration
            seed          INTEGER,
            recorded_at   TIMESTAMP NOT NULL
        );
        CREATE TABLE lineage_items (          -- items these weights saw in training, ancestors' included
            model_id TEXT NOT NULL,
            task     TEXT NOT NULL,
            item_id  TEXT NOT NULL,
            PRIMARY KEY (model_id, task, item_id)
        );
        ALTER TABLE item_results ADD COLUMN possibly_contaminated BOOLEAN DEFAULT false;
        ALTER TABLE runs ADD COLUMN run_key TEXT;  -- model, sampling, k, tasks, items, harness version
        CREATE TABLE loop_arms (
            loop_id      TEXT NOT NULL,      -- the loop's name and its config's digest
            phase        INTEGER NOT NULL,
            arm          TEXT NOT NULL,      -- base | teachable | random | all-failed | easy
            seed         INTEGER NOT NULL,
            model_name   TEXT NOT NULL,
            model_id     TEXT,
            task         TEXT NOT NULL,      -- a test pool's task
            run_id       TEXT NOT NULL,      -- the arm's run on that test pool
            base_run_id  TEXT,               -- the base's run on it (what the arm is paired with)
            n_items      INTEGER NOT NULL,
            n_train      INTEGER,            -- items selected for training
            score        DOUBLE NOT NULL,
            base_score   DOUBLE,
            diff         DOUBLE,
            diff_low     DOUBLE,
            diff_high    DOUBLE,
            p_value      DOUBLE,
            export_path  TEXT,
            recorded_at  TIMESTAMP NOT NULL,
            PRIMARY KEY (loop_id, phase, arm, seed, task)
        );
        CREATE TABLE loops (
            loop_id      TEXT PRIMARY KEY,
            name         TEXT NOT NULL,
            config       JSON NOT NULL,
            summary      JSON,               -- arm against arm, pooled over seeds, per phase and task
            started_at   TIMESTAMP NOT NULL,
            finished_at  TIMESTAMP
        );
        """,
    ),
    (
        "grading conventions recorded; regraded runs; a second grader's disagreements",
        """
        ALTER TABLE task_results ADD COLUMN conventions TEXT;  -- math: the named conventions (and flags) it was graded under
        ALTER TABLE runs ADD COLUMN regraded_from TEXT;        -- a run graded again from another run's stored samples
        CREATE TABLE audits (
            run_id      TEXT NOT NULL,
            task        TEXT NOT NULL,
            grader      TEXT NOT NULL,     -- the second opinion, e.g. math-verify 0.9.0
            audited_at  TIMESTAMP NOT NULL,
            n_samples   INTEGER NOT NULL,  -- scored samples with an answer to judge
            n_checked   INTEGER NOT NULL,  -- of those, judged by the second grader (not timed out or failed)
            n_disagree  INTEGER NOT NULL,  -- samples where correct/not correct differs
            n_items_disagree INTEGER NOT NULL,
            n_items     INTEGER NOT NULL,
            their_pass_at_1 DOUBLE,        -- pass@1 over the checked samples as the second grader sees it
            our_pass_at_1   DOUBLE,        -- the same samples as ours sees them
            PRIMARY KEY (run_id, task, grader)
        );
        CREATE TABLE audit_disagreements (
            run_id       TEXT NOT NULL,
            task         TEXT NOT NULL,
            grader       TEXT NOT NULL,
            item_id      TEXT NOT NULL,
            sample_index INTEGER NOT NULL,
            gold         TEXT,
            extracted    TEXT,
            ours         TEXT NOT NULL,    -- our verdict
            theirs       TEXT NOT NULL,    -- correct | incorrect
            PRIMARY KEY (run_id, task, grader, item_id, sample_index)
        );
        """,
    ),
    (
        "per-item token totals, so pages and compare never join samples with generations",
        """
        ALTER TABLE item_results ADD COLUMN prompt_tokens BIGINT;      -- over the item's scored samples;
        ALTER TABLE item_results ADD COLUMN completion_tokens BIGINT;  -- NULL where a sample did not report it
        ALTER TABLE item_results ADD COLUMN thinking_tokens BIGINT;
        ALTER TABLE item_results ADD COLUMN n_forced INTEGER DEFAULT 0;
        """ + ITEM_USAGE_SQL.format(where="true"),
    ),
    (
        "pivotal tokens: searches, success probabilities along samples, pivotal tokens",
        """
        CREATE TABLE pivotal_searches (
            search_id     TEXT PRIMARY KEY,  -- the run that holds its rollouts
            model_name    TEXT NOT NULL,
            model_id      TEXT NOT NULL,
            task          TEXT NOT NULL,
            source_run_id TEXT,              -- the run whose samples were searched
            params        JSON,              -- rollouts, p_gap, band, seed, budget, sampling
            n_items       INTEGER,           -- items asked about
            n_in_band     INTEGER,           -- of them, p(prompt) inside the band
            n_samples     INTEGER,           -- samples searched
            n_pivotal     INTEGER,
            rollouts      INTEGER,           -- rollouts the estimates used (cached or new)
            generated     INTEGER,           -- of them, generated by this search
            tokens_generated BIGINT,         -- tokens of the generated rollouts
            seconds       DOUBLE,
            budget_hit    BOOLEAN,           -- the rollout budget stopped the search early
            finished_at   TIMESTAMP NOT NULL,
            recheck_seed  INTEGER,           -- fresh rollouts (another seed) re-estimated each delta
            recheck_agree INTEGER,           -- pivotal tokens whose delta kept its sign
            recheck_n     INTEGER
        );
        CREATE TABLE pivotal_prefixes (
            search_id   TEXT NOT NULL,
            task        TEXT NOT NULL,
            item_id     TEXT NOT NULL,
            sample      INTEGER NOT NULL,    -- sample index in the source run
            position    INTEGER NOT NULL,    -- tokens of the sample in the prefix
            prefix      TEXT NOT NULL,       -- the sample's text up to `position` (never the prompt)
            n           INTEGER NOT NULL,    -- rollouts (0: the sample's own verdict at its end)
            n_correct   INTEGER NOT NULL,
            p           DOUBLE NOT NULL,
            next_tokens JSON,                -- [token, rollouts, correct] of the rollouts' first tokens
            PRIMARY KEY (search_id, task, item_id, sample, position)
        );
        CREATE TABLE pivotal_tokens (
            search_id  TEXT NOT NULL,
            task       TEXT NOT NULL,
            item_id    TEXT NOT NULL,
            sample     INTEGER NOT NULL,
            position   INTEGER NOT NULL,     -- index of the token in the sample
            token      TEXT NOT NULL,
            prefix     TEXT NOT NULL,        -- the sample's text before the token
            p_before   DOUBLE NOT NULL,
            p_after    DOUBLE NOT NULL,
            n_before   INTEGER NOT NULL,
            n_after    INTEGER NOT NULL,     -- 0: p_after is the sample's own verdict
            delta      DOUBLE NOT NULL,
            delta_low  DOUBLE NOT NULL,      -- 95% interval (Wilson per side, Newcombe's difference)
            delta_high DOUBLE NOT NULL,
            recheck_delta DOUBLE,            -- the same delta from fresh rollouts
            PRIMARY KEY (search_id, task, item_id, sample, position)
        );
        """,
    ),
]


# -- typed rows -----------------------------------------------------------------------------------
# One class per table, built by keyword (so the fields follow the table's column order whatever their
# defaults); JSON columns are JSON text here. The store inserts them `BY NAME`.

@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRow:
    """What the store records of a model (`models`): its identity (`model_id`: same weights or
    endpoint, same id) and what users call it; `spec` is its models-file entry as JSON.
    `first_seen` None: the store sets it the first time it sees the model."""

    model_id: str
    name: str
    backend: str
    path: str | None = None
    params_b: float | None = None
    family: str | None = None
    spec: str | None = None
    first_seen: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    """One run (`runs`); `sampling`, `tasks` and `backend_report` are JSON."""

    run_id: str
    model_id: str
    model_name: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # one of RUN_STATUSES
    k: int
    sampling: str | None = None
    tasks: str | None = None
    command: str | None = None
    harness_version: str | None = None
    source: str = "harness"
    backend_report: str | None = None
    run_key: str | None = None  # what makes two runs the same run (pipeline.runner.run_key)
    regraded_from: str | None = None  # the run whose stored samples this run graded again (harness regrade)


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptRow:
    """One rendered prompt (`prompts`), by its hash; `prompt` is JSON."""

    prompt_hash: str
    prompt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRow:
    """One item of a task version (`items`); `prompt_hashes` (one per prompt variant), `fields` and
    `meta` are JSON."""

    task: str
    task_version: int
    item_id: str
    gold: str | None = None
    prompt_hashes: str | None = None
    fields: str | None = None
    meta: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationRow:
    """One completion (`generations`), the cache: keyed by model, prompt, sampling and sample index.
    Its completion fields are `harness.records.Completion`'s, by name."""

    gen_key: str
    model_id: str
    prompt_hash: str
    sampling_key: str
    sample_index: int
    seed: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    text: str
    finish: str
    tokens: int | None = None
    prompt_tokens: int | None = None
    latency_s: float | None = None
    run_id: str | None = None
    created_at: datetime
    thinking: str | None = None
    thinking_tokens: int | None = None
    forced: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    """One item in a model's training queue (`train_queue`, `harness teach`): why it was queued and
    the evidence; `exported_at` / `export_path` once it went into SFT data."""

    model_name: str
    task: str
    task_version: int
    item_id: str
    reason: str  # own_samples | teacher
    pass_rate: float
    teacher: str | None = None
    teacher_pass_rate: float | None = None
    run_id: str
    teacher_run_id: str | None = None
    queued_at: datetime
    exported_at: datetime | None = None
    export_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreRow:
    """One graded sample (`scores`)."""

    run_id: str
    task: str
    item_id: str
    sample_index: int
    gen_key: str | None
    extracted: str | None
    canonical: str | None
    verdict: str
    cls: int | None
    detail: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemResultRow:
    """One item's vote and estimates (`item_results`)."""

    run_id: str
    task: str
    task_version: int
    item_id: str
    gold: str | None
    n: int
    n_correct: int
    n_unparseable: int
    n_timeout: int
    maj_answer: str | None
    maj_correct: bool
    vote_share: float
    margin: float
    n_classes: int
    pass_at_1: float
    pass_at_k: float
    maj_at_k: float | None = None
    n_unfinished: int = 0
    possibly_contaminated: bool = False  # these weights were trained on the item (their lineage says)
    # Token totals over the item's samples: filled in from `generations` by `Store.put_results`.
    prompt_tokens: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    completion_tokens: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    thinking_tokens: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    n_forced: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskResultRow:
    """One task of a run (`task_results`)."""

    run_id: str
    task: str
    task_version: int
    n_items: int
    k: int
    generated: int
    reused: int
    maj_at_k: float
    pass_at_1: float
    pass_at_k: float
    n_timeout: int
    n_unparseable: int
    finished_at: datetime
    possibly_contaminated: int = 0
    n: int | None = None
    n_unfinished: int = 0
    prompt_tokens: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    completion_tokens: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    thinking_tokens: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    latency_s: float | None = None
    conventions: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRow:
    """A second grader's verdict on a run's task (`audits`)."""

    run_id: str
    task: str
    grader: str
    audited_at: datetime
    n_samples: int
    n_checked: int
    n_disagree: int
    n_items_disagree: int
    n_items: int
    their_pass_at_1: float | None = None
    our_pass_at_1: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditDisagreementRow:
    """One sample the second grader judged otherwise (`audit_disagreements`)."""

    run_id: str
    task: str
    grader: str
    item_id: str
    sample_index: int
    gold: str | None
    extracted: str | None
    ours: str
    theirs: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskReportRow:
    """A task-specific analysis of a graded run, e.g. position bias (`task_reports`); `data` is JSON."""

    run_id: str
    task: str
    name: str
    data: str
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NightRow:
    """One nightly (`nights`); `config` and `report_json` are JSON."""

    night_id: str
    suite: str
    started_at: datetime
    status: str
    label: str | None = None
    tuned_domain: str | None = None
    finished_at: datetime | None = None
    verdict: str | None = None
    harness_version: str | None = None
    host: str | None = None
    pid: int | None = None
    config: str | None = None
    generated: int | None = None
    reused: int | None = None
    report_md: str | None = None
    report_json: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NightRunRow:
    """One model's run at one seed in a night (`night_runs`); `identity` is JSON."""

    night_id: str
    model_name: str
    seed: int
    status: str
    model_id: str | None = None
    identity: str | None = None
    identified: bool | None = None
    run_id: str | None = None
    error: str | None = None
    generated: int | None = None
    reused: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NightlyCheckRow:
    """One verdict (`nightly_checks`): a task (scope "task") or a domain's tasks pooled ("domain")."""

    checked_at: datetime
    model_name: str
    task: str
    run_id: str
    baseline_run_id: str | None = None
    n_items: int
    baseline_score: float | None = None
    score: float
    diff: float | None = None
    diff_low: float | None = None
    diff_high: float | None = None
    p_value: float | None = None
    status: str  # regressed | improved | steady | no_baseline
    night_id: str | None = None
    baseline_night_id: str | None = None
    scope: str = "task"
    domain: str | None = None
    noise_floor: float | None = None
    fell: int | None = None
    rose: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LineageRow:
    """A fine-tuned model's lineage (`lineage`), keyed by its weights' fingerprint; `recipe` is JSON."""

    model_id: str
    base: str | None
    base_model_id: str | None
    method: str
    data_sha256: str | None
    recipe: str | None
    seed: int | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LineageItemRow:
    """One item a model's weights saw in training, its ancestors' included (`lineage_items`)."""

    model_id: str
    task: str
    item_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopRow:
    """One loop (`loops`): its config and, once finished, its result (both JSON)."""

    loop_id: str
    name: str
    config: str
    summary: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopArmRow:
    """One arm of a loop, at one seed and phase, measured on one test pool (`loop_arms`)."""

    loop_id: str
    phase: int
    arm: str
    seed: int
    model_name: str
    model_id: str | None
    task: str
    run_id: str
    base_run_id: str | None
    n_items: int
    n_train: int | None
    score: float
    base_score: float | None
    diff: float | None
    diff_low: float | None
    diff_high: float | None
    p_value: float | None
    export_path: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PivotalSearchRow:
    """One pivotal-token search and its cost (`pivotal_searches`); `params` is JSON."""

    search_id: str
    model_name: str
    model_id: str
    task: str
    source_run_id: str | None
    params: str
    n_items: int
    n_in_band: int
    n_samples: int
    n_pivotal: int
    rollouts: int
    generated: int
    tokens_generated: int | None = dataclasses.field(default=None, metadata={"arrow": pa.int64()})
    seconds: float
    budget_hit: bool
    finished_at: datetime
    recheck_seed: int | None = None
    recheck_agree: int | None = None
    recheck_n: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PivotalPrefixRow:
    """p(correct) from one prefix of a searched sample (`pivotal_prefixes`); `next_tokens` is JSON."""

    search_id: str
    task: str
    item_id: str
    sample: int
    position: int
    prefix: str
    n: int
    n_correct: int
    p: float
    next_tokens: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PivotalTokenRow:
    """One pivotal token (`pivotal_tokens`): p before and after it, and the jump with its interval."""

    search_id: str
    task: str
    item_id: str
    sample: int
    position: int
    token: str
    prefix: str
    p_before: float
    p_after: float
    n_before: int
    n_after: int
    delta: float
    delta_low: float
    delta_high: float
    recheck_delta: float | None = None


ROW_TABLES: dict[type, str] = {
    ModelRow: "models", RunRow: "runs", PromptRow: "prompts", ItemRow: "items", GenerationRow: "generations",
    QueueRow: "train_queue", ScoreRow: "scores", ItemResultRow: "item_results", TaskResultRow: "task_results", TaskReportRow: "task_reports",
    NightRow: "nights", NightRunRow: "night_runs", NightlyCheckRow: "nightly_checks", LineageRow: "lineage",
    LineageItemRow: "lineage_items", LoopRow: "loops", LoopArmRow: "loop_arms",
    AuditRow: "audits", AuditDisagreementRow: "audit_disagreements",
    PivotalSearchRow: "pivotal_searches", PivotalPrefixRow: "pivotal_prefixes", PivotalTokenRow: "pivotal_tokens",
}

_SCALARS: dict[Any, pa.DataType] = {str: pa.string(), int: pa.int32(), float: pa.float64(), bool: pa.bool_(),
                                    datetime: pa.timestamp("us")}


@functools.cache
def arrow_schema(cls: type) -> pa.Schema:
    """The Arrow schema of a row class, from its field types (`X | None` is nullable X)."""
    hints = get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind = f.metadata.get("arrow")
        if kind is None:
            t = hints[f.name]
            args = [a for a in getattr(t, "__args__", ()) if a is not type(None)]
            kind = _SCALARS[args[0] if args else t]
        out.append(pa.field(f.name, kind))
    return pa.schema(out)


def rows_table(cls: type, rows: Iterable[Any]) -> pa.Table:
    """Rows of one class as an Arrow table with that class's schema (for `INSERT ... BY NAME`)."""
    rows = list(rows)
    for r in rows:
        if type(r) is not cls:
            raise TypeError(f"expected {cls.__name__}, got {type(r).__name__}")
    return pa.table({n: [getattr(r, n) for r in rows] for n in columns(cls)}, schema=arrow_schema(cls))


def columns_table(cls: type, data: dict[str, Sequence[Any]]) -> pa.Table:
    """Columns of one row class's table (every field by name, each a sequence of values, one per
    row) as an Arrow table with that class's schema: `rows_table` for a hot path, without a row
    object per row."""
    names = columns(cls)
    if set(data) != set(names):
        raise ValueError(f"columns of {cls.__name__} must be {sorted(names)}, got {sorted(data)}")
    return pa.table({n: data[n] for n in names}, schema=arrow_schema(cls))


@functools.cache
def columns(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))
