"""The backends, declared once each, before any is loaded: the one registry of backend names.

A backend is one module in `harness/backends/` and one `BackendKind` line in `KINDS` here: its name,
where its class is (imported only when a model runs on it), the options its models-file entry may
hold, how a model on it is identified, and whether it forces a thinking budget. `harness.models`
validates specs with it, `harness.backends.make_backend` loads the class through it and
`harness.pipeline.identity` asks a server through it; nothing else branches on backend names.

Identity (`weights`): "files": local weights are identified by their files (a hub id by id and
revision); "server": a served model by its URL, declared revision and what the server reports;
"files_or_server": a server when the spec has a `base_url`, else files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

VLLM_ENGINE_KEYS = (
    "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "gpu_memory_utilization", "max_model_len",
    "dtype", "quantization", "enforce_eager", "enable_prefix_caching", "max_num_seqs", "max_num_batched_tokens",
    "trust_remote_code",
)
VLLM_OWN_KEYS = ("seed", "seed_mode", "chat", "kv_cache_space_gb", "batch_size", "engine_args")
OPENAI_KEYS = ("max_concurrency", "timeout_s", "max_retries", "backoff_s", "backoff_max_s", "endpoint", "use_n",
               "send_seed", "extra_body", "batch_size", "probe_s")
RAY_OWN_KEYS = ("address", "processor", "concurrency", "ray_batch_size", "engine_kwargs", "retry_wait_s")


@dataclass(frozen=True, slots=True)
class BackendKind:
    name: str
    target: str  # "module:Class", imported only to generate
    options: tuple[str, ...]  # the keys a models-file `[models.X.options]` table may hold
    weights: Literal["files", "server", "files_or_server"]  # how a model on it is identified (module doc)
    forces_budget: bool = False  # implements `[models.X.thinking] budget` (budget forcing)
    needs_url: bool = False  # a model on it needs `base_url` (or `base_urls`)
    replicas: bool = False  # takes `base_urls`, several servers of one model
    reports_identity: str | None = None  # "module:function" asking its server what it serves

    def served(self, base_url: str | None) -> bool:
        """Whether a model on this backend (with this `base_url`) is identified as a server."""
        return self.weights == "server" or (self.weights == "files_or_server" and bool(base_url))


KINDS: dict[str, BackendKind] = {k.name: k for k in (
    BackendKind("hf", "harness.backends.hf:HFBackend", ("batch_size", "device", "dtype", "threads"), "files",
                forces_budget=True),
    BackendKind("openai", "harness.backends.openai:OpenAIBackend", OPENAI_KEYS, "server", forces_budget=True,
                needs_url=True, replicas=True, reports_identity="harness.backends.openai:reported_identity"),
    BackendKind("ray", "harness.backends.ray:RayBackend", RAY_OWN_KEYS + OPENAI_KEYS, "files_or_server"),
    BackendKind("vllm", "harness.backends.vllm:VLLMBackend", VLLM_ENGINE_KEYS + VLLM_OWN_KEYS, "files"),
)}


def unknown_options(backend: str, options: object) -> list[str]:
    """The option keys `backend` does not take (sorted); [] for an unknown backend."""
    kind = KINDS.get(backend)
    if kind is None or not isinstance(options, dict):
        return []
    return sorted(set(options) - set(kind.options))
