"""A model's identity before a run: the spec as declared, plus what its server reports.

Local weights are identified by their files (`ModelSpec.fingerprint`); a served model only by what
the user declares (`revision`) and what the server says about it (its /v1/models entry), which is
read here, once per run, so the store's key for its samples changes when the server's report does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace

from harness.backend_kinds import KINDS
from harness.errors import BackendError
from harness.models import ModelSpec


@dataclass(frozen=True, slots=True)
class Identified:
    spec: ModelSpec
    warning: str | None = None  # why the identity is weaker than it could be


def identify(spec: ModelSpec, *, revision: str | None = None, strict: bool = False) -> Identified:
    """`spec` with a `--revision` applied and, for a served model, the server's report attached.

    A server that cannot be asked leaves the report empty and says so in `warning` (`strict`: raise
    instead, as a nightly does, since the same server then cannot answer prompts either)."""
    if revision is not None:
        spec = replace(spec, revision=revision)
    kind = KINDS.get(spec.backend)
    if kind is None or kind.reports_identity is None:
        return Identified(spec)
    module, _, function = kind.reports_identity.partition(":")
    reported_identity = getattr(importlib.import_module(module), function)
    try:
        return Identified(replace(spec, reported=reported_identity(spec)))
    except BackendError as exc:
        if strict:
            raise
        return Identified(spec, f"{exc}; the model is identified by name, URL and revision only")
