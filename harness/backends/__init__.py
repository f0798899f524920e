"""Backends: a batch of prompts and the sample indices wanted for each in, completions out.

Adding a backend is one module here and one `BackendKind` line in `harness.backend_kinds.KINDS`
(its name, class, options, identity rule and whether it forces a thinking budget).
"""

from __future__ import annotations

import importlib
from typing import Protocol, Sequence

from harness.backend_kinds import KINDS, unknown_options
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Completion, Request, Sampling

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
    """The backend of `spec`, its class imported now, its options checked against its kind's."""
    kind = KINDS.get(spec.backend)
    if kind is None:
        raise BackendError(f"unknown backend {spec.backend!r}; known: {', '.join(KINDS)}")
    unknown = unknown_options(spec.backend, dict(spec.options))
    if unknown:
        raise BackendError(f"model {spec.name!r}: unknown {spec.backend} option(s) {', '.join(unknown)}; "
                           f"known: {', '.join(kind.options)}")
    module_name, _, cls_name = kind.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendError(f"backend {spec.backend!r} is not available here: {exc}") from None
    return getattr(module, cls_name)(spec)
