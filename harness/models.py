"""Model specs: aliases from a TOML models file, or inline specs on the command line.

    [models.phi]
    backend = "vllm"                       # hf | vllm | openai | ray (harness.backend_kinds)
    model = "microsoft/phi-4"              # hub id or local path (for openai: the served model name)
    params_b = 14.7                        # parameter count in billions
    family = "phi"
    [models.phi.sampling]                  # defaults for runs of this model
    temperature = 0.6
    [models.phi.options]                   # handed to the backend (the keys its kind declares)
    tensor_parallel_size = 1

`openai` models name their server with `base_url` and the environment variable holding the API key
with `api_key_env`; the key itself is never written to the file or the store. Several replicas of one
model: `base_urls = ["http://a:8000/v1", "http://b:8000/v1"]` (requests spread over them). The replicas
are one deployment: the model's identity takes the first URL, as `base_url` would, so adding or
dropping a replica keeps the cache.

`revision = "step-1200"` declares which weights a model is (a checkpoint step, a commit hash); for a
served model it is the only thing that tells two deployments under one name apart, so declare it
(or pass `--revision`) when the nightly should trust yesterday's samples of a server.

Reasoning models: `[models.X.thinking]` says how the model delimits its thinking (`open = "<think>"`,
`close = "</think>"` by default; `starts_open = true` when the chat template opens it, as DeepSeek-R1
distills do; both tags "" turn inline splitting off), and `budget = N` caps the thinking at N tokens
before the answer is asked for (budget forcing: the openai and hf backends; see harness/backends/openai.py).
Only the final answer is graded. `price_per_mtok = { input = 0.5, output = 2.0 }` (per million tokens)
gives `compare` a cost per run and per correct answer. Neither the delimiters nor the price are part
of the model's identity (the split is made again at grading time); the budget is, since it changes
what is generated.

Inline specs need no file: `hf:PATH_OR_ID`, `vllm:PATH_OR_ID`, `openai:MODEL@BASE_URL`.
The file is `--models PATH`, else $HARNESS_MODELS, else ./models.toml, else the bundled examples.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from harness.backend_kinds import KINDS, unknown_options
from harness.data import parse_toml
from harness.errors import BackendError, HarnessError, UnknownModel, did_you_mean
from harness.records import stable_hash
from harness.thinking import ThinkingFormat

MODELS_ENV = "HARNESS_MODELS"
_SAMPLING_KEYS = {"max_tokens", "temperature", "top_p", "stop", "seed"}
# Fields of a server's model entry that name the weights themselves (not just the name or path).
REPORTED_REVISION_KEYS = ("revision", "digest", "sha", "sha256", "checkpoint", "commit")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    backend: str
    model: str
    params_b: float | None = None
    family: str | None = None
    base_url: str | None = None
    # replicas of one served model (openai); base_url is then the first of them
    base_urls: tuple[str, ...] = ()
    api_key_env: str | None = None
    revision: str | None = None
    sampling: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    # What the server says about the model (its /v1/models entry, volatile fields dropped): part of
    # the identity, so a server that reports a different root, parent or length is a new model.
    reported: Mapping[str, Any] = field(default_factory=dict)
    # A nightly's key for a model nothing identifies: its samples are that night's only.
    night_key: str | None = None
    # The model this one was fine-tuned from (an alias): items exported from that model's training
    # queue are flagged as possibly contaminated in this model's runs too.
    finetuned_from: str | None = None
    thinking: Mapping[str, Any] = field(default_factory=dict)  # [models.X.thinking]: delimiters, budget
    price_per_mtok: Mapping[str, float] = field(default_factory=dict)  # input / output, per million tokens

    def thinking_format(self) -> ThinkingFormat:
        try:
            return ThinkingFormat.from_table(self.thinking)
        except HarnessError as exc:
            raise HarnessError(f"model {self.name!r}: {exc}") from None

    def thinking_budget(self) -> int | None:
        budget = self.thinking.get("budget")
        return None if budget is None else int(budget)

    def local_weights(self) -> Path | None:
        """The folder of the model's weights when its backend loads them from one (not a server,
        not a hub id); None otherwise."""
        path = Path(self.model).expanduser()
        return path.resolve() if not self._served() and self.backend in KINDS and path.is_dir() else None

    def _served(self) -> bool:
        kind = KINDS.get(self.backend)
        return kind is not None and kind.served(self.base_url)

    def forced_budget(self) -> int | None:
        """The thinking budget a backend is to force, checked once for every backend: one that does
        not force budgets refuses a model with one (never silently ignores it), and forcing needs the
        thinking's closing tag, to close the thinking it cuts off."""
        budget = self.thinking_budget()
        if budget is None:
            return None
        kind = KINDS.get(self.backend)
        if kind is None or not kind.forces_budget:
            forcing = " and ".join(k.name for k in KINDS.values() if k.forces_budget)
            raise BackendError(f"model {self.name!r}: the {self.backend} backend does not force a thinking budget; "
                               f"the {forcing} backends do (serve the model and use the openai backend)")
        if not self.thinking_format().close:
            raise BackendError(f"model {self.name!r}: a thinking budget needs the thinking's closing tag "
                               "([models.X.thinking] close), to close the thinking it cuts off")
        return budget

    def weights_identified(self) -> bool:
        """Whether something pins the weights down: the files' digest (local weights), a declared
        revision, or a revision-like field the server reports. Without any, the same name may serve
        other weights tomorrow, and a nightly must not reuse another night's samples."""
        if not self._served() and Path(self.model).expanduser().is_dir():
            return True
        if self.revision:
            return True
        return any(self.reported.get(key) for key in REPORTED_REVISION_KEYS)

    def identity(self) -> dict[str, Any]:
        """What the fingerprint is made of, as a JSON-able record (for reports and the store)."""
        return {"model_id": self.fingerprint(), "name": self.name, "backend": self.backend, "model": self.model,
                "base_url": self.base_url, "revision": self.revision, "reported": dict(self.reported),
                "night_key": self.night_key, "identified": self.weights_identified()}

    def describe(self) -> dict[str, Any]:
        """What identifies the model (no secrets): stored with every run."""
        return {
            "name": self.name, "backend": self.backend, "model": self.model, "params_b": self.params_b,
            "family": self.family, "base_url": self.base_url,
            **({"base_urls": list(self.base_urls)} if self.base_urls else {}), "revision": self.revision,
            "api_key_env": self.api_key_env, "options": dict(self.options),
            **({"reported": dict(self.reported)} if self.reported else {}),
            **({"night_key": self.night_key} if self.night_key else {}),
            **({"finetuned_from": self.finetuned_from} if self.finetuned_from else {}),
            **({"thinking": dict(self.thinking)} if self.thinking else {}),
            **({"price_per_mtok": dict(self.price_per_mtok)} if self.price_per_mtok else {}),
        }

    def fingerprint(self) -> str:
        """Same weights or endpoint model => same id, so completions are shared across aliases.

        Local weights are identified by their files' names, sizes and a hash of the first and last
        MiB of each (cheap for 100 GB checkpoints, and changes when weights are retrained); hub ids by
        id and revision; servers by model name, URL, declared revision and what the server reports.
        Backend options that change outputs (dtype, quantization) are part of it, and so is a
        nightly's night key for a model nothing identifies. Fields left unset add nothing, so ids
        made before they existed stay valid."""
        ident: dict[str, Any] = {"model": self.model, "revision": self.revision}
        path = Path(self.model).expanduser()
        served = self._served()
        if not served and path.is_dir():
            ident = {"files": _dir_digest(path)}
        elif served:
            ident["base_url"] = (self.base_url or "").rstrip("/")
        for key in ("dtype", "quantization", "chat", "endpoint", "extra_body"):
            if key in self.options:
                ident[key] = self.options[key]
        if self.reported:
            ident["reported"] = dict(self.reported)
        if self.night_key:
            ident["night"] = self.night_key
        if self.thinking_budget() is not None:
            ident["thinking_budget"] = self.thinking_budget()
        return stable_hash(ident, 20)


def _dir_digest(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for f in sorted(path.rglob("*")):
        if not f.is_file() or f.name.startswith("."):
            continue
        size = f.stat().st_size
        h = hashlib.sha256()
        with f.open("rb") as fh:
            h.update(fh.read(1 << 20))
            if size > 2 << 20:
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
        out.append((str(f.relative_to(path)), size, h.hexdigest()[:16]))
    return out


def parse_inline(spec: str) -> ModelSpec | None:
    """`hf:PATH_OR_ID`, `vllm:PATH_OR_ID`, `openai:MODEL@BASE_URL`; None if `spec` is not inline."""
    backend, sep, rest = spec.partition(":")
    if not sep or backend not in KINDS:
        return None
    if not rest:
        raise UnknownModel(f"inline model spec {spec!r} names no model: write {backend}:PATH_OR_ID")
    if KINDS[backend].needs_url:
        model, at, url = rest.rpartition("@")
        if not at or not model or not url.startswith(("http://", "https://")):
            raise UnknownModel(f"inline spec {spec!r}: write {backend}:MODEL@http://HOST:PORT/v1")
        return ModelSpec(name=spec, backend=backend, model=model, base_url=url, api_key_env="OPENAI_API_KEY")
    inline = ModelSpec(name=spec, backend=backend, model=rest)
    missing = _missing_folder(inline)
    if missing is not None:
        raise UnknownModel(f"model {spec}: no such folder {missing} (write {backend}:PATH to a model folder, "
                           f"or {backend}:NAMESPACE/NAME for a hub id)")
    return inline


def models_file(path: str | Path | None = None) -> Path | None:
    """The models file in effect (see module docstring); None means the bundled examples."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise HarnessError(f"models file {p} not found")
        return p
    if os.environ.get(MODELS_ENV):
        p = Path(os.environ[MODELS_ENV]).expanduser()
        if not p.is_file():
            raise HarnessError(f"models file {p} (from ${MODELS_ENV}) not found")
        return p
    p = Path("models.toml")
    return p if p.is_file() else None


def load_models(path: str | Path | None = None) -> dict[str, ModelSpec]:
    p = models_file(path)
    if p is None:
        text = resources.files("harness").joinpath("models.example.toml").read_text(encoding="utf-8")
        where = "bundled models.example.toml"
    else:
        text, where = p.read_text(encoding="utf-8"), str(p)
    doc = parse_toml(text, where)
    return {alias: _spec_from_table(alias, table, where) for alias, table in doc.get("models", {}).items()}


def _spec_from_table(alias: str, t: Mapping[str, Any], where: str) -> ModelSpec:
    def bad(msg: str) -> HarnessError:
        return HarnessError(f"{where}: [models.{alias}] {msg}")

    if not isinstance(t, Mapping):
        raise bad("must be a table")
    backend = t.get("backend")
    if backend not in KINDS:
        raise bad(f"backend must be one of {', '.join(KINDS)}, got {backend!r}")
    kind = KINDS[backend]
    if not isinstance(t.get("model"), str) or not t["model"]:
        raise bad("needs model = \"PATH_OR_ID\"")
    urls = t.get("base_urls")
    if urls is not None:
        if t.get("base_url"):
            raise bad("give base_url (one server) or base_urls (replicas), not both")
        if (not isinstance(urls, list) or not urls
                or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls)):
            raise bad("base_urls must be a non-empty list of \"http://HOST:PORT/v1\" URLs")
        if not kind.replicas:
            raise bad(f"base_urls (replicas) is for {' and '.join(k.name for k in KINDS.values() if k.replicas)} "
                      "models (Ray's HTTP processor takes one URL)")
    if kind.needs_url and not t.get("base_url") and not urls:
        raise bad(f"an {backend} model needs base_url = \"http://HOST:PORT/v1\" (or base_urls = [...] for replicas)")
    if "api_key" in t:
        raise bad("holds an api_key: put the key in an environment variable and name it with api_key_env")
    for table in ("sampling", "options"):
        if not isinstance(t.get(table, {}), Mapping):
            raise bad(f"{table} must be a table: [models.{alias}.{table}]")
    bad_options = unknown_options(backend, dict(t.get("options", {})))
    if bad_options:
        raise bad(f"unknown {backend} option(s) {', '.join(bad_options)}; known: {', '.join(kind.options)}")
    sampling = dict(t.get("sampling", {}))
    unknown = set(sampling) - _SAMPLING_KEYS
    if unknown:
        raise bad(f"unknown sampling keys {sorted(unknown)}; known: {sorted(_SAMPLING_KEYS)}")
    for key, value in sampling.items():
        if key == "stop":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad(f"sampling.stop must be a list of strings, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int if key in ("max_tokens", "seed") else (int, float)):
            raise bad(f"sampling.{key} must be a number, got {value!r}")
    params = t.get("params_b")
    if params is not None and (isinstance(params, bool) or not isinstance(params, (int, float)) or params <= 0):
        raise bad(f"params_b must be a positive number (billions of parameters), got {params!r}")
    thinking = t.get("thinking", {})
    if not isinstance(thinking, Mapping):
        raise bad("thinking must be a table: [models.X.thinking] open = \"<think>\", close = \"</think>\"")
    try:
        ThinkingFormat.from_table(thinking)
    except HarnessError as exc:
        raise bad(str(exc)) from None
    if thinking.get("budget") is not None and (not isinstance(thinking["budget"], int) or thinking["budget"] < 1):
        raise bad("thinking.budget must be a positive number of tokens")
    price = t.get("price_per_mtok", {})
    if not isinstance(price, Mapping) or set(price) - {"input", "output"} or \
            not all(isinstance(v, (int, float)) and v >= 0 for v in price.values()):
        raise bad("price_per_mtok must be a table like { input = 0.5, output = 2.0 } (per million tokens)")
    return ModelSpec(
        name=alias, backend=backend, model=t["model"],
        params_b=None if params is None else float(params), family=t.get("family"),
        base_url=t.get("base_url") or (urls[0] if urls else None), base_urls=tuple(urls or ()),
        api_key_env=t.get("api_key_env"),
        revision=None if t.get("revision") is None else str(t["revision"]),
        sampling=sampling, options=dict(t.get("options", {})),
        finetuned_from=None if t.get("finetuned_from") is None else str(t["finetuned_from"]),
        thinking=dict(thinking), price_per_mtok={k: float(v) for k, v in price.items()},
    )


def resolve(name: str, path: str | Path | None = None) -> ModelSpec:
    """An alias from the models file, or an inline spec."""
    inline = parse_inline(name)
    if inline is not None:
        return inline
    models = load_models(path)
    where = models_file(path) or "the bundled examples"
    if name in models:
        missing = _missing_folder(models[name])
        if missing is not None:
            raise UnknownModel(f"{where}: [models.{name}] model = {models[name].model!r}: no such folder ({missing})")
        return models[name]
    known = ", ".join(sorted(models)) or "none"
    raise UnknownModel(
        f"unknown model {name!r}{did_you_mean(name, models) or ';'} aliases in {where}: {known}. "
        "Or name a model inline: hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@BASE_URL"
    )


def _missing_folder(spec: ModelSpec) -> Path | None:
    """The folder a local model names when it is written as a path (absolute, ./, ../, ~) and does not
    exist; None when it exists or the model is a hub id or a served model."""
    if spec._served() or not spec.model.startswith(("/", "./", "../", "~")):
        return None
    folder = Path(spec.model).expanduser()
    return None if folder.exists() else folder.resolve()


def to_json(spec: ModelSpec) -> str:
    return json.dumps(spec.describe(), sort_keys=True)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)  # a TOML basic string is a JSON string


def to_toml(spec: ModelSpec) -> str:
    """The models-file entry of `spec` (the form `load_models` reads back): paths as written in the
    spec, so write absolute ones where the file may be read from another folder."""
    lines = [f"[models.{json.dumps(spec.name)}]", f"backend = {_toml_value(spec.backend)}",
             f"model = {_toml_value(spec.model)}"]
    for key in ("params_b", "family", "base_url", "revision", "api_key_env", "finetuned_from"):
        v = getattr(spec, key)
        if v is not None:
            lines.append(f"{key} = {_toml_value(v)}")
    for table in ("sampling", "options", "thinking", "price_per_mtok"):
        values = dict(getattr(spec, table))
        if values:
            lines.append(f"[models.{json.dumps(spec.name)}.{table}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"
