"""Backends: a batch of prompts and the sample indices wanted for each in, completions out.

Adding a backend is one module here and one line in `REGISTRY`.
"""

from __future__ import annotations

import importlib
from typing import Protocol, Sequence

from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Completion, Request, Sampling

REGISTRY: dict[str, str] = {
    "hf": "harness.backends.hf:HFBackend",
    "openai": "harness.backends.openai:OpenAIBackend",
    "ray": "harness.backends.ray:RayBackend",
    "vllm": "harness.backends.vllm:VLLMBackend",
}


# A finished sample as a streaming backend hands it over: (request's position in the call, the
# sample's position in that request's `indices`, the completion).
Done = tuple[int, int, Completion]


class Backend(Protocol):
    """`generate` returns, for each request, one completion per entry of `request.indices`, in
    order; sample j must draw with `request.seeds[j]` where the engine allows per-sample seeds.
    `batch_size` is how many completions the runner hands over per call (and so, at most, what a
    crash loses).

    A backend may also offer `stream(requests, params)`: the same samples, yielded in groups of
    `Done` as they finish (any order, each sample once), so the runner stores and grades finished
    samples while the rest are generated; closing the iterator early cancels what is unfinished."""

    name: str
    batch_size: int

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]: ...

    def close(self) -> None: ...


def make_backend(spec: ModelSpec) -> Backend:
    target = REGISTRY.get(spec.backend)
    if target is None:
        raise BackendError(f"unknown backend {spec.backend!r}; known: {', '.join(REGISTRY)}")
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendError(f"backend {spec.backend!r} is not available here: {exc}") from None
    return getattr(module, cls_name)(spec)
