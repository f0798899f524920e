"""A pool of replicas of one served model: which endpoint the next request goes to.

The openai backend asks the pool for a replica per attempt. The choice is the healthy replica with
the fewest requests outstanding (ties: the one that has served fewest), so a slow replica gets less
work instead of an equal share. A replica whose request fails in a way that says "this server is in
trouble" (connection refused or dropped, timeout, 5xx) is ejected: no new requests go to it, and its
failed request is retried at once on another replica (the caller does that; the pool only answers
where). An ejected replica is probed with `GET {url}/models` once its back-off has passed (probe_s,
doubling up to probe_max_s); a probe that answers 200 brings it back. When every replica is out, the
one due soonest is tried anyway, under the caller's ordinary retry and back-off, so a pool behaves
like a single server then; one replica left standing is enough to finish.

Nothing is generated twice by the pool: a request is answered by exactly one replica or not at all
(a replica that dies mid-request answers nothing; the retry elsewhere is the only answer stored).

`report()` is what the run's record keeps: per replica its URL, requests served and failed,
how often it was ejected and the last error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import httpx

EJECT_STATUS = {500, 502, 503, 504}


@dataclass
class Replica:
    url: str
    outstanding: int = 0
    served: int = 0
    failed: int = 0
    ejections: int = 0
    healthy: bool = True
    probe_at: float = 0.0  # monotonic time of the next probe while ejected
    backoff: float = 0.0
    last_error: str | None = None
    probing: bool = field(default=False, repr=False)

    def report(self) -> dict[str, Any]:
        return {"url": self.url, "served": self.served, "failed": self.failed, "ejections": self.ejections,
                "healthy": self.healthy, "last_error": self.last_error}


class ReplicaPool:
    def __init__(self, urls: Sequence[str], *, headers: dict[str, str] | None = None, probe_s: float = 2.0,
                 probe_max_s: float = 60.0, probe_timeout_s: float = 5.0):
        if not urls:
            raise ValueError("a replica pool needs at least one URL")
        self.replicas = [Replica(u.rstrip("/")) for u in urls]
        self.headers = dict(headers or {})
        self.probe_s, self.probe_max_s, self.probe_timeout_s = probe_s, probe_max_s, probe_timeout_s
        self._probes: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self.replicas)

    def healthy(self) -> list[Replica]:
        return [r for r in self.replicas if r.healthy]

    # -- choosing ----------------------------------------------------------------------------

    def acquire(self) -> Replica:
        """The replica for the next attempt, counted as outstanding until `release`."""
        self._start_due_probes()
        live = self.healthy()
        if live:
            r = min(live, key=lambda x: (x.outstanding, x.served))
        else:
            r = min(self.replicas, key=lambda x: x.probe_at)
        r.outstanding += 1
        return r

    def release(self, r: Replica) -> None:
        r.outstanding -= 1

    # -- outcomes ----------------------------------------------------------------------------

    def served(self, r: Replica) -> None:
        r.served += 1
        if not r.healthy:
            self._restore(r)

    def failed(self, r: Replica, error: str, *, eject: bool) -> bool:
        """Count a failed attempt; eject the replica when `eject` (and there are others). Returns
        whether another healthy replica can take the retry right away."""
        r.failed += 1
        r.last_error = error
        # Requests in flight on a replica that just went out fail one by one: only the first ejects
        # it and sets its probe time (failed probes, not these, push the next probe later).
        if eject and len(self.replicas) > 1 and r.healthy:
            r.healthy = False
            r.ejections += 1
            r.backoff = self.probe_s
            r.probe_at = time.monotonic() + r.backoff
        return eject and len(self.replicas) > 1 and bool(self.healthy())

    def _restore(self, r: Replica) -> None:
        r.healthy = True
        r.backoff = 0.0

    # -- probing -----------------------------------------------------------------------------

    def _start_due_probes(self) -> None:
        t = time.monotonic()
        for r in self.replicas:
            if not r.healthy and not r.probing and r.probe_at <= t:
                r.probing = True
                task = asyncio.get_running_loop().create_task(self._probe(r))
                self._probes.add(task)
                task.add_done_callback(self._probes.discard)

    async def _probe(self, r: Replica) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.probe_timeout_s, headers=self.headers) as client:
                resp = await client.get(r.url + "/models")
            ok = resp.status_code == 200
        except httpx.HTTPError:
            ok = False
        finally:
            r.probing = False
        if ok:
            self._restore(r)
        else:
            r.backoff = min(self.probe_max_s, max(self.probe_s, r.backoff * 2))
            r.probe_at = time.monotonic() + r.backoff

    async def drain(self) -> None:
        """Cancel probes still running (the event loop of a `generate` call is about to end)."""
        for task in list(self._probes):
            task.cancel()
        if self._probes:
            await asyncio.gather(*self._probes, return_exceptions=True)
        for r in self.replicas:
            r.probing = False

    def report(self) -> dict[str, Any]:
        return {"replicas": [r.report() for r in self.replicas]}
