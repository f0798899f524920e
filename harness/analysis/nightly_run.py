"""One night: run every model on every task at every seed, judge it against the previous night,
record the night, write the report.

Models run one after another; a model whose endpoint fails (or whose backend raises) fails its own
part of the night, which is recorded with the error, and the night goes on with the next model.
Everything a night generates is in the store as it is made, so a night that crashed is resumed by
running it again: the newest night of the suite that did not finish is picked up (same night id,
same night keys), and only what is missing is generated.

A model nothing identifies (a served model without a declared revision or a revision-like field in
its server's report, a hub id without a revision) gets the night's id as part of its identity: its
samples are never taken from another night, since the name may serve other weights tonight.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from harness import __version__
from harness.analysis.nightly import Verdict, judge_model
from harness.analysis.nightly_config import NightConfig, domains_of
from harness.analysis.nightly_report import report_json, report_markdown
from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.identity import identify as identify_spec
from harness.pipeline.runner import run
from harness.store import NightRow, NightRunRow, Store, now
from harness.task import Task

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ModelPart:
    """What the night did with one model."""

    model: str
    status: str  # done | failed
    identity: Mapping[str, Any]
    runs: Mapping[int, str] = field(default_factory=dict)  # seed -> run id
    generated: int = 0
    reused: int = 0
    error: str | None = None
    baseline_night: str | None = None

    @property
    def identified(self) -> bool:
        return bool(self.identity.get("identified"))

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "status": self.status, "identity": dict(self.identity),
                "runs": {str(s): r for s, r in self.runs.items()}, "generated": self.generated,
                "reused": self.reused, "error": self.error, "baseline_night": self.baseline_night}


@dataclass(frozen=True, slots=True)
class NightResult:
    night_id: str
    config: NightConfig
    started_at: datetime
    resumed: bool
    parts: tuple[ModelPart, ...]
    verdicts: tuple[Verdict, ...]
    domains: Mapping[str, tuple[str, ...]]
    warnings: tuple[str, ...] = ()
    harness_version: str = __version__

    @property
    def generated(self) -> int:
        return sum(p.generated for p in self.parts)

    @property
    def reused(self) -> int:
        return sum(p.reused for p in self.parts)

    @property
    def regressed(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.row.status == "regressed"]

    @property
    def failed(self) -> list[ModelPart]:
        return [p for p in self.parts if p.status == "failed"]

    @property
    def verdict(self) -> str:
        """The night in one word: regressed beats failed beats improved beats steady."""
        statuses = {v.row.status for v in self.verdicts}
        if "regressed" in statuses:
            return "regressed"
        if self.failed:
            return "failed"
        if "improved" in statuses:
            return "improved"
        return "steady" if "steady" in statuses else "no_baseline"

    def exit_code(self) -> int:
        """1: something regressed (when the config says to fail on it); 3: a model's part failed; else 0."""
        if self.regressed and self.config.fail_on_regression:
            return 1
        return 3 if self.failed else 0


def stderr_log(line: str) -> None:
    import sys

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} nightly: {line}", file=sys.stderr, flush=True)


def pick_night(store: Store, suite: str, wanted: str | None = None, new_night: bool = False) -> tuple[str, bool]:
    """The night to run and whether it resumes one: `wanted` if given; else the suite's newest
    night when it did not finish (unless `new_night`); else a new id, `SUITE-YYYY-MM-DD` (UTC),
    with `.2`, `.3` ... for further nights of the same day."""
    if wanted:
        return wanted, store.night(wanted) is not None
    nights = store.nights(suite)
    if nights and nights[0]["status"] != "done" and not new_night:
        return nights[0]["night_id"], True
    base = f"{suite}-{datetime.now(timezone.utc):%Y-%m-%d}"
    taken = {n["night_id"] for n in store.nights()}
    night, i = base, 1
    while night in taken:
        i += 1
        night = f"{base}.{i}"
    return night, False


def run_night(cfg: NightConfig, tasks: Sequence[Task], specs: Mapping[str, ModelSpec], store: Store, *,
              night_id: str, resumed: bool = False, source: Source | None = None,
              backend_factory: Callable[[ModelSpec], Any] | None = None,
              identify: Callable[..., Any] = identify_spec, log: Log = stderr_log,
              command: str | None = None) -> NightResult:
    """Run the night `night_id` of `cfg` (the caller holds the lock) and record it; see module doc."""
    source = source or Source(limit=cfg.limit)
    by_name = {t.name: t for t in tasks}
    domains = domains_of(by_name, cfg.domains)
    prior = store.night(night_id)
    started = prior["started_at"] if prior else now()
    night = NightRow(night_id=night_id, suite=cfg.suite, started_at=started, status="running", label=cfg.label,
                     tuned_domain=cfg.tuning, harness_version=__version__, host=socket.gethostname(), pid=os.getpid(),
                     config=json.dumps(cfg.to_json()))
    store.put_night(night)
    log(f"night {night_id} {'resumed' if resumed else 'started'}: suite {cfg.suite}, {len(specs)} model(s), "
        f"tasks {', '.join(by_name)}, k={cfg.k}, seeds {list(cfg.seeds)}"
        + (f", phase {cfg.label!r}" if cfg.label else "") + (f", tuning {cfg.tuning}" if cfg.tuning else ""))
    warnings: list[str] = []
    parts: list[ModelPart] = []
    verdicts: list[Verdict] = []
    status = "failed"
    try:
        for name, spec in specs.items():
            part = _run_model(cfg, name, spec, tasks, store, source, night_id, backend_factory, identify, log,
                              command, warnings)
            if part.status == "done":
                part, vs = _judge(cfg, part, store, domains, night_id)
                verdicts += vs
                for v in vs:
                    if v.row.status in ("regressed", "improved"):
                        log(f"{name}: {v.row.scope} {v.row.domain or v.row.task} {v.row.status} "
                            f"({100 * (v.row.diff or 0):+.1f} points, p={v.row.p_value:.2g}, "
                            f"noise floor {_pts(v.row.noise_floor)})")
                    if v.fell_while_tuning:
                        log(f"{name}: domain {v.row.domain} fell while {v.fell_while_tuning} was being tuned")
            parts.append(part)
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        result = NightResult(night_id, cfg, started, resumed, tuple(parts), tuple(verdicts), domains,
                             tuple(warnings))
        if status == "done":
            if result.generated == 0:
                warnings.append(
                    f"NOTHING NEW WAS GENERATED tonight: all {result.reused} samples came from the store. "
                    "Every model was identified as unchanged (same revision, same server report); if the "
                    "weights did change, declare a new revision (models file or --revision MODEL=REV).")
                result = replace(result, warnings=tuple(warnings))
                log(warnings[-1])
            store.put_nightly_checks([v.row for v in verdicts])
        md = report_markdown(result) if status == "done" else None
        store.put_night(replace(night, status=status, finished_at=now(), verdict=result.verdict if status == "done"
                                else None, generated=result.generated, reused=result.reused, report_md=md,
                                report_json=json.dumps(report_json(result), default=str) if md else None))
        log(f"night {night_id} {status}: verdict {result.verdict}, generated {result.generated}, "
            f"reused {result.reused}, {len(result.failed)} model part(s) failed")
    return result


def _pts(x: float | None) -> str:
    return "not measured (one seed)" if x is None else f"{100 * x:.1f} points"


def _run_model(cfg: NightConfig, name: str, spec: ModelSpec, tasks: Sequence[Task], store: Store, source: Source,
               night_id: str, backend_factory: Callable[[ModelSpec], Any] | None, identify: Callable[..., Any],
               log: Log, command: str | None, warnings: list[str]) -> ModelPart:
    identity: dict[str, Any] = {"name": name, "model": spec.model, "revision": cfg.revisions.get(name, spec.revision)}
    runs: dict[int, str] = {}
    generated = reused = 0
    seed = cfg.seeds[0]
    try:
        ident = identify(spec, revision=cfg.revisions.get(name), strict=True)
        tonight = ident.spec
        if not tonight.weights_identified():
            tonight = replace(tonight, night_key=night_id)
            msg = (f"{name}: nothing identifies its weights (no revision declared, and its server reports none): "
                   f"tonight's samples are tonight's only (night key {night_id}); declare `revision` to reuse them")
            warnings.append(msg)
            log(msg)
        identity = tonight.identity()
        for seed in cfg.seeds:
            extra = {**cfg.sampling, "seed": seed}
            kw: dict[str, Any] = {"backend_factory": backend_factory} if backend_factory is not None else {}
            summary = run(tonight, tasks, cfg.k, store, source, n=cfg.n, sampling=extra, progress=False,
                          command=command, **kw)
            g = sum(t.generated for t in summary.tasks)
            r = sum(t.reused for t in summary.tasks)
            generated, reused = generated + g, reused + r
            runs[seed] = summary.run_id
            store.put_night_run(NightRunRow(night_id=night_id, model_name=name, seed=seed, status="done",
                                            model_id=summary.model_id, identity=json.dumps(identity),
                                            identified=tonight.weights_identified(), run_id=summary.run_id,
                                            generated=g, reused=r))
            log(f"{name} seed {seed}: run {summary.run_id}, generated {g}, reused {r}")
        if generated == 0:
            log(f"{name}: nothing generated, every sample reused (identity {identity['model_id']})")
        return ModelPart(name, "done", identity, runs, generated, reused)
    except Exception as exc:  # noqa: BLE001 - one model's failure must not end the night
        error = f"{type(exc).__name__}: {exc}"
        store.put_night_run(NightRunRow(night_id=night_id, model_name=name, seed=seed, status="failed",
                                        model_id=identity.get("model_id"), identity=json.dumps(identity),
                                        identified=identity.get("identified"), error=error, generated=generated,
                                        reused=reused))
        log(f"{name} FAILED at seed {seed}: {error} (the night goes on with the other models; "
            f"`--night {night_id}` runs this night again and generates only what is missing)")
        return ModelPart(name, "failed", identity, runs, generated, reused, error)


def _judge(cfg: NightConfig, part: ModelPart, store: Store, domains: Mapping[str, tuple[str, ...]],
           night_id: str) -> tuple[ModelPart, list[Verdict]]:
    checked = cfg.seeds[0]
    tonight = [store.item_results(part.runs[s]) for s in cfg.seeds if s in part.runs]
    prev = store.previous_night_run(cfg.suite, part.model, checked, night_id)
    baseline = store.item_results(prev["run_id"]) if prev else None
    vs = judge_model(part.model, domains, tonight, baseline, run_id=part.runs[checked],
                     baseline_run_id=prev["run_id"] if prev else None, night_id=night_id,
                     baseline_night_id=prev["night_id"] if prev else None, alpha=cfg.alpha, tuning=cfg.tuning)
    return replace(part, baseline_night=prev["night_id"] if prev else None), vs
