"""Generate what is missing: the one path by which completions are made, so every generating command
(`run`, `nightly`, `synth rewrite`, the demo) gets the cache, resume and progress alike.

A completion is stored under (model id, prompt hash, sampling key, sample index) as soon as its chunk
returns; asking again for a stored one costs nothing, so a crash loses at most the chunk in flight.

`lookup` says what is stored and what is missing, `chunks` generates the missing samples in chunks
(as a streaming backend finishes them, else one chunk per `generate` call), and `store_chunk` keeps a
chunk; `complete` is the three in a row. The run loop calls them itself: a store thread stores each
chunk the moment it is handed over and a grading thread grades the items it completed, while the
engine generates the rest.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

from harness.backends import Backend
from harness.errors import HarnessError
from harness.records import Completion, Prompt, Request, Sampling, sample_seed
from harness.store import CachedSample, Store

Advance = Callable[[int], None]
Have = dict[tuple[str, int], CachedSample]
# A generated sample ready to store: (prompt hash, sample index, seed, completion).
Made = tuple[str, int, int, Completion]


def _batches(requests: list[Request], size: int) -> Iterator[list[Request]]:
    """Consecutive requests holding about `size` completions each (a request is never split)."""
    batch: list[Request] = []
    count = 0
    for req in requests:
        batch.append(req)
        count += len(req.indices)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def lookup(store: Store, model_id: str, params: Sampling, wanted: Sequence[tuple[Prompt, int]],
           ) -> tuple[Have, list[Request]]:
    """The stored samples among `wanted` (prompt, sample index) by (prompt hash, index), and one
    request per prompt for the rest (sample i of a prompt draws with `sample_seed(params.seed, prompt, i)`)."""
    n_max = 1 + max((i for _, i in wanted), default=-1)
    have = store.cached(model_id, params.key(), [p.hash for p, _ in wanted], n_max)
    missing: dict[str, tuple[Prompt, list[int]]] = {}
    for prompt, i in wanted:
        if (prompt.hash, i) not in have:
            entry = missing.setdefault(prompt.hash, (prompt, []))
            if i not in entry[1]:
                entry[1].append(i)
    return have, [Request(prompt, tuple(idx), tuple(sample_seed(params.seed, ph, i) for i in idx))
                  for ph, (prompt, idx) in missing.items()]


def chunks(backend: Backend, requests: list[Request], params: Sampling,
           settle: Callable[[], None] | None = None) -> Iterator[list[Made]]:
    """The requested samples, generated batch by batch (`backend.batch_size` completions each), in
    chunks as they finish: everything a streaming backend has finished since the last chunk, else
    one chunk per `generate` call. `settle()` is called before each batch but the first (a caller
    that stores chunks on another thread waits there until the last batch is on disk). Raises
    HarnessError when the backend answers other than asked."""
    stream = getattr(backend, "stream", None)
    for b, batch in enumerate(_batches(requests, max(1, backend.batch_size))):
        if b and settle is not None:
            settle()
        if stream is None:
            outs = backend.generate(batch, params)
            if len(outs) != len(batch):
                raise HarnessError(f"backend {backend.name} answered {len(outs)} of {len(batch)} prompts")
            for req, comps in zip(batch, outs):
                if len(comps) != len(req.indices):
                    raise HarnessError(f"backend {backend.name} returned {len(comps)} completions for "
                                       f"{len(req.indices)} requested")
            yield [(req.prompt.hash, i, s, c) for req, comps in zip(batch, outs)
                   for i, s, c in zip(req.indices, req.seeds, comps)]
            continue
        seen: set[tuple[int, int]] = set()
        it = stream(batch, params)
        try:
            for done in it:
                out: list[Made] = []
                for r, j, c in done:
                    if not (0 <= r < len(batch) and 0 <= j < len(batch[r].indices)) or (r, j) in seen:
                        raise HarnessError(f"backend {backend.name} streamed sample {j} of request {r}, "
                                           "which was not asked for or came twice")
                    seen.add((r, j))
                    req = batch[r]
                    out.append((req.prompt.hash, req.indices[j], req.seeds[j], c))
                if out:
                    yield out
        finally:
            close = getattr(it, "close", None)
            if close is not None:  # cancels what the engine has not finished (an error, Ctrl-C)
                close()
        asked = sum(len(r.indices) for r in batch)
        if len(seen) != asked:
            raise HarnessError(f"backend {backend.name} returned {len(seen)} completions for {asked} requested")


def store_chunk(store: Store, run_id: str, model_id: str, sampling_key: str, chunk: Sequence[Made],
                have: Have) -> list[tuple[str, int]]:
    """Store a chunk (one Arrow batch) and add it to `have`; returns its (prompt hash, index) keys."""
    keys = store.put_generations(run_id, model_id, sampling_key, chunk)
    for (ph, i, _, c), key in zip(chunk, keys):
        have[(ph, i)] = CachedSample(key, c)
    return [(ph, i) for ph, i, _, _ in chunk]


def complete(store: Store, run_id: str, model_id: str, params: Sampling, wanted: Sequence[tuple[Prompt, int]],
             get_backend: Callable[[], Backend], progress: Callable[[int], Advance] | None = None,
             ) -> tuple[Have, int]:
    """Every wanted (prompt, sample index), from the store where it is there, else generated and
    stored chunk by chunk.

    `get_backend` is called only when something is missing, so a fully cached call never loads a
    model; `progress(total)` is called once with the number to generate and returns an advance
    callback. Returns the samples by (prompt hash, index) and how many were generated. The store is
    held under a lease for the call (the file stays open between chunk writes; see `Store.lease`)."""
    with store.lease():
        have, requests = lookup(store, model_id, params, wanted)
        n_missing = sum(len(r.indices) for r in requests)
        if not n_missing:
            return have, 0
        backend = get_backend()
        advance = progress(n_missing) if progress else (lambda n: None)
        skey = params.key()
        for chunk in chunks(backend, requests, params):
            advance(len(store_chunk(store, run_id, model_id, skey, chunk, have)))
        return have, n_missing


class StoredGenerator:
    """A Backend-shaped view of `complete` for code that asks for completions itself (synth rewrite):
    `generate(requests, params)` answers every request from the store or the model, storing as it goes.
    The requests' own seeds are ignored: sample i of a prompt always draws with the store's seed rule."""

    def __init__(self, store: Store, run_id: str, model_id: str, get_backend: Callable[[], Backend],
                 batch_size: int = 64):
        self.store, self.run_id, self.model_id, self.get_backend = store, run_id, model_id, get_backend
        self.name = f"stored:{model_id}"
        self.batch_size = batch_size
        self.generated = 0
        self.reused = 0

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        wanted = [(r.prompt, i) for r in requests for i in r.indices]
        have, made = complete(self.store, self.run_id, self.model_id, params, wanted, self.get_backend)
        self.generated += made
        self.reused += len(wanted) - made
        return [[have[(r.prompt.hash, i)].completion for i in r.indices] for r in requests]

    def close(self) -> None:
        pass
