"""`nightly.toml`: what a night measures, in one file a cron job can name.

    suite = "phi-nightly"            # nights of one suite are compared with each other (default: file name)
    models = ["phi", "70b"]          # aliases from the models file (or inline specs)
    k = 8                            # maj@k / pass@k; n = 16 samples per item (optional, >= k)
    limit = 200                      # first N items of each task (optional)
    seeds = [0, 1]                   # the first is checked against last night; the spread of each
                                     # model's score across all of them is the noise floor
    alpha = 0.05                     # significance level of a change
    fail_on_regression = true        # exit 1 when a task or domain regressed
    label = "math SFT round 2"       # the tuning phase this night belongs to (or --label)
    tuning = "math"                  # the domain being tuned (or --tuning): others that fall are flagged
    report_dir = "nightly-reports"   # night-<id>.md and .json are written here
    leaderboard_url = "http://gpu-box:8501"   # for the report's links
    db = "results.duckdb"            # optional; --db wins
    models_file = "models.toml"      # optional; --models wins
    lock = "nightly.lock"            # optional; default: beside the store, <db>.nightly.lock
    [revisions]                      # which weights each model is tonight (or --revision MODEL=REV)
    phi = "step-1200"
    [sampling]                       # max_tokens, temperature, top_p, stop
    temperature = 0.6
    [domains]                        # named groups of tasks (default: by task kind: math, choice, code)
    math = ["gsm8k", "math500"]
    code = ["humaneval"]

`tasks` lists tasks outside any domain (they get their kind's domain); with `[domains]` alone the
tasks are the domains' tasks. Relative paths are relative to the config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.data import parse_toml
from harness.errors import HarnessError
from harness.vote import DEFAULT_K

_KEYS = {"suite", "models", "tasks", "k", "n", "limit", "seeds", "alpha", "fail_on_regression", "label", "tuning",
         "report_dir", "leaderboard_url", "db", "models_file", "lock", "revisions", "sampling", "domains", "data_dir"}
_SAMPLING = {"max_tokens", "temperature", "top_p", "stop"}
DEFAULT_SEEDS = (0, 1)
DEFAULT_LEADERBOARD = "http://localhost:8501"


@dataclass(frozen=True)
class NightConfig:
    suite: str
    models: tuple[str, ...]
    tasks: tuple[str, ...] = ()
    domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    k: int = DEFAULT_K
    n: int | None = None
    limit: int | None = None
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    alpha: float = 0.05
    fail_on_regression: bool = True
    label: str | None = None
    tuning: str | None = None
    report_dir: Path | None = None
    leaderboard_url: str = DEFAULT_LEADERBOARD
    db: Path | None = None
    models_file: Path | None = None
    data_dir: Path | None = None
    lock: Path | None = None
    revisions: Mapping[str, str] = field(default_factory=dict)
    sampling: Mapping[str, Any] = field(default_factory=dict)

    def all_tasks(self) -> tuple[str, ...]:
        """Every task of the night: the domains' tasks, then the others, each once."""
        seen = dict.fromkeys([t for ts in self.domains.values() for t in ts] + list(self.tasks))
        return tuple(seen)

    def with_overrides(self, **values: Any) -> "NightConfig":
        """This config with the command line's values (None: not given) applied."""
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **given).validated()

    def validated(self) -> "NightConfig":
        if not self.models:
            raise HarnessError("a nightly needs at least one model (models = [...] or --model)")
        if not self.all_tasks():
            raise HarnessError("a nightly needs at least one task (tasks = [...], [domains] or --task)")
        if self.k < 1 or (self.n is not None and self.n < self.k):
            raise HarnessError(f"k must be >= 1 and n >= k (got k={self.k}, n={self.n})")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise HarnessError(f"seeds must be distinct integers, at least one (got {list(self.seeds)})")
        if not 0 < self.alpha < 1:
            raise HarnessError(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.tuning is not None and self.domains and self.tuning not in self.domains:
            raise HarnessError(f"tuning = {self.tuning!r} names no domain; domains: {', '.join(self.domains)}")
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite, "models": list(self.models), "tasks": list(self.all_tasks()),
            "domains": {d: list(ts) for d, ts in self.domains.items()}, "k": self.k, "n": self.n,
            "limit": self.limit, "seeds": list(self.seeds), "alpha": self.alpha,
            "fail_on_regression": self.fail_on_regression, "label": self.label, "tuning": self.tuning,
            "revisions": dict(self.revisions), "sampling": dict(self.sampling),
        }


def _strs(value: Any, what: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise HarnessError(f"{where}: {what} must be a list of names")
    return tuple(value)


def load_config(path: str | Path) -> NightConfig:
    """Read and check a nightly.toml; every problem is one line naming the file and the key."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise HarnessError(f"nightly config {p} not found")
    doc = parse_toml(p.read_text(encoding="utf-8"), str(p))
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise HarnessError(f"{p}: unknown keys {unknown}; known: {sorted(_KEYS)}")
    where = str(p)
    base = p.parent

    def path_of(key: str) -> Path | None:
        return None if doc.get(key) is None else (base / str(doc[key])).expanduser()

    domains_doc = doc.get("domains", {})
    if not isinstance(domains_doc, dict):
        raise HarnessError(f"{where}: [domains] must be a table of task lists")
    sampling = dict(doc.get("sampling", {}))
    bad = sorted(set(sampling) - _SAMPLING)
    if bad:
        raise HarnessError(f"{where}: unknown [sampling] keys {bad} (the seed comes from seeds = [...])")
    revisions = doc.get("revisions", {})
    if not isinstance(revisions, dict):
        raise HarnessError(f"{where}: [revisions] must map model names to revisions")
    try:
        cfg = NightConfig(
            suite=str(doc.get("suite") or p.stem),
            models=_strs(doc.get("models", []), "models", where),
            tasks=_strs(doc.get("tasks", []), "tasks", where),
            domains={str(d): _strs(ts, f"domains.{d}", where) for d, ts in domains_doc.items()},
            k=int(doc.get("k", DEFAULT_K)), n=None if doc.get("n") is None else int(doc["n"]),
            limit=None if doc.get("limit") is None else int(doc["limit"]),
            seeds=tuple(int(s) for s in doc.get("seeds", DEFAULT_SEEDS)),
            alpha=float(doc.get("alpha", 0.05)), fail_on_regression=bool(doc.get("fail_on_regression", True)),
            label=doc.get("label"), tuning=doc.get("tuning"), report_dir=path_of("report_dir"),
            leaderboard_url=str(doc.get("leaderboard_url", DEFAULT_LEADERBOARD)),
            db=path_of("db"), models_file=path_of("models_file"), data_dir=path_of("data_dir"), lock=path_of("lock"),
            revisions={str(m): str(r) for m, r in revisions.items()}, sampling=sampling,
        )
    except (TypeError, ValueError) as exc:
        raise HarnessError(f"{where}: {exc}") from None
    return cfg.validated()


def parse_revisions(pairs: Sequence[str], models: Sequence[str]) -> dict[str, str]:
    """`--revision step-9` (one model) or `--revision phi=step-9` (repeat) -> {model: revision}."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, eq, rev = pair.partition("=")
        if not eq:
            if len(models) != 1:
                raise HarnessError(f"--revision {pair!r}: with several models write MODEL=REVISION")
            name, rev = models[0], pair
        if not rev.strip():
            raise HarnessError(f"--revision {pair!r}: the revision is empty")
        out[name.strip()] = rev.strip()
    return out


def domains_of(tasks: Mapping[str, Any], named: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Named domains, then each remaining task under its kind (`math`, `choice`, `code`, `other`).
    `tasks` maps task names to Task objects (anything with a `kind`)."""
    out = {d: tuple(ts) for d, ts in named.items()}
    placed = {t for ts in out.values() for t in ts}
    for name, task in tasks.items():
        if name not in placed:
            kind = getattr(task, "kind", "other")
            out[kind] = (*out.get(kind, ()), name)
    return out
