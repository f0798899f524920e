"""Ray Data's LLM processors (`ray.data.llm`) as a backend: the missing (prompt, sample) work of a
run goes to a Ray cluster; results stream back to the driver, which stays the one writer of the store.

The runner hands this backend batches of missing samples exactly as it hands any backend (so the
cache, resume after a crash and k -> 2k behave as for any run: only what is missing is sent, and
each batch is stored as it returns). A batch becomes a Ray Dataset, one row per request, run through
a processor, and its rows are read back with `iter_rows` (streaming) on the driver.

Processors (option `processor`):
  "http" (default): `HttpRequestProcessorConfig` against an OpenAI-compatible endpoint (`base_url`);
      the request bodies are the openai backend's own (same `n`, same per-sample seeds), so a run
      through Ray stores what a plain openai run stores, and the model's identity is the same
      (samples are shared across the two); one URL (Ray's HTTP stage takes one: put a load balancer
      in front of replicas, or use the openai backend's `base_urls`). `concurrency` Ray workers send them; Ray's HTTP stage
      retries 408/429/502/503/504 and dropped connections (`max_retries`, `retry_wait_s`).
  "vllm": `vLLMEngineProcessorConfig`: `concurrency` vLLM engine replicas on the cluster's GPUs,
      each `tensor_parallel_size` x `pipeline_parallel_size` GPUs (option `engine_kwargs`), one row
      per sample with its own seed. For a GPU cluster; unproven here (no GPU machine was lent).

Options (models file `[models.X.options]`): address (None: a local Ray instance, or one already
initialized; "auto", or "ray://head:10001" for a cluster), processor, concurrency (1),
ray_batch_size (rows per Ray batch, 16), batch_size (samples per call to the backend, 4096: what a
crash loses at most), max_retries (3), retry_wait_s (1), engine_kwargs (vllm), and the openai
backend's endpoint, use_n, send_seed.

Install with the extra: `pip install 'harness[ray]'`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Sequence

from harness.backend_kinds import RAY_OWN_KEYS as OWN_KEYS
from harness.backends.openai import OpenAIBackend
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Completion, Request, Sampling

PROCESSORS = ("http", "vllm")


class RayBackend:
    name = "ray"

    def __init__(self, spec: ModelSpec):
        opts = dict(spec.options)
        spec.forced_budget()  # refused: this backend does not force budgets
        self.spec = spec
        self.address = opts.get("address")
        self.processor = opts.get("processor", "http")
        if self.processor not in PROCESSORS:
            raise BackendError(f"model {spec.name!r}: processor must be one of {', '.join(PROCESSORS)}")
        self.concurrency = opts.get("concurrency", 1)
        self.ray_batch_size = int(opts.get("ray_batch_size", 16))
        self.batch_size = int(opts.get("batch_size", 4096))
        self.max_retries = int(opts.get("max_retries", 3))
        self.retry_wait_s = float(opts.get("retry_wait_s", 1.0))
        self.engine_kwargs = dict(opts.get("engine_kwargs", {}))
        self._http: OpenAIBackend | None = None
        if self.processor == "http":
            if not spec.base_url:
                raise BackendError(f"model {spec.name!r}: the ray http processor needs a base_url")
            http_opts = {k: v for k, v in opts.items() if k not in OWN_KEYS}
            self._http = OpenAIBackend(replace(spec, backend="openai", base_urls=(), options=http_opts))
        self.requests = 0

    # -- ray ---------------------------------------------------------------------------------

    def _ray(self) -> Any:
        try:
            import ray
            import ray.data.llm  # noqa: F401
        except ImportError as exc:
            raise BackendError(f"the ray backend needs Ray Data's LLM API (`pip install 'harness[ray]'`): {exc}") from None
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        return ray

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        if not requests:
            return []
        ray = self._ray()
        out: list[list[Completion | None]] = [[None] * len(r.seeds) for r in requests]
        if self.processor == "http":
            self._generate_http(ray, requests, params, out)
        else:
            self._generate_vllm(ray, requests, params, out)
        missing = sum(c is None for row in out for c in row)
        if missing:
            raise BackendError(f"ray: {missing} completion(s) of model {self.spec.model!r} did not come back")
        return [list(row) for row in out]  # type: ignore[arg-type]

    def _generate_http(self, ray: Any, requests: Sequence[Request], params: Sampling,
                       out: list[list[Completion | None]]) -> None:
        from ray.data.llm import HttpRequestProcessorConfig, build_processor

        http = self._http
        assert http is not None
        by_path: dict[str, list[dict[str, Any]]] = {}
        for j, req in enumerate(requests):
            # the openai backend's bodies: n samples in one request, or one request per seed
            slots = [(0, len(req.seeds))] if http.use_n and len(req.seeds) > 1 else [
                (s, 1) for s in range(len(req.seeds))]
            for start, n in slots:
                path, body = http._body(req, params, n, req.seeds[start])
                by_path.setdefault(path, []).append({"j": j, "start": start, "n": n, "body": json.dumps(body)})
        for path, rows in by_path.items():
            config = HttpRequestProcessorConfig(
                url=http.base_url + path, headers=dict(http.headers), concurrency=self.concurrency,
                batch_size=self.ray_batch_size, max_retries=self.max_retries,
                base_retry_wait_time_in_s=self.retry_wait_s)
            processor = build_processor(
                config,
                preprocess=lambda row: {"payload": json.loads(row["body"]), "j": row["j"], "start": row["start"],
                                        "n": row["n"]},
                postprocess=lambda row: {"j": row["j"], "start": row["start"], "n": row["n"],
                                         "response": json.dumps(row["http_response"], default=_plain)},
            )
            t0 = time.monotonic()
            for row in processor(ray.data.from_items(rows)).iter_rows():
                j, start, n = int(row["j"]), int(row["start"]), int(row["n"])
                self.requests += 1
                try:
                    comps = http._parse(json.loads(row["response"]), path, n, time.monotonic() - t0)
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    raise BackendError(f"ray: {http.base_url + path} answered without completions "
                                       f"({type(exc).__name__}: {exc}): {row['response'][:200]}") from None
                if len(comps) < n:
                    raise BackendError(f"ray: {http.base_url + path} returned {len(comps)} of n={n} choices; "
                                       "set use_n = false for this server")
                out[j][start:start + n] = comps[:n]

    def _generate_vllm(self, ray: Any, requests: Sequence[Request], params: Sampling,
                       out: list[list[Completion | None]]) -> None:
        from ray.data.llm import build_processor, vLLMEngineProcessorConfig

        rows = []
        for j, req in enumerate(requests):
            for s, seed in enumerate(req.seeds):
                msgs = ([{"role": m.role, "content": m.content} for m in req.prompt.messages]
                        if req.prompt.messages else [{"role": "user", "content": req.prompt.text}])
                sp = {"max_tokens": params.max_tokens, "temperature": params.temperature, "top_p": params.top_p,
                      "seed": seed, **({"stop": list(params.stop)} if params.stop else {})}
                rows.append({"j": j, "s": s, "messages": json.dumps(msgs), "sampling": json.dumps(sp)})
        config = vLLMEngineProcessorConfig(model_source=self.spec.model, engine_kwargs=self.engine_kwargs,
                                           concurrency=self.concurrency, batch_size=self.ray_batch_size)
        processor = build_processor(
            config,
            preprocess=lambda row: {"messages": json.loads(row["messages"]),
                                    "sampling_params": json.loads(row["sampling"]), "j": row["j"], "s": row["s"]},
            postprocess=lambda row: {"j": row["j"], "s": row["s"], "text": row["generated_text"],
                                     "tokens": row.get("num_generated_tokens")},
        )
        for row in processor(ray.data.from_items(rows)).iter_rows():
            self.requests += 1
            tokens = row.get("tokens")
            out[int(row["j"])][int(row["s"])] = Completion(
                text=row["text"] or "", finish="stop", tokens=None if tokens is None else int(tokens))

    def report(self) -> dict[str, Any]:
        return {"ray": {"processor": self.processor, "address": self.address, "requests": self.requests}}

    def close(self) -> None:
        pass


def _plain(obj: Any) -> Any:
    """Arrays from Ray's Arrow rows back to JSON lists."""
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"not JSON: {type(obj).__name__}")
