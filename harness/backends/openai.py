"""Any OpenAI-compatible server: vLLM serve, SGLang, llama.cpp server, hosted APIs.

Requests go out concurrently (at most `max_concurrency` in flight). A prompt that needs several
samples asks for them with `n` in one request; a server that refuses `n` (or returns fewer choices)
gets single requests instead, each with its own sample seed, so the k samples are independent draws
(a seed shared by k single requests would make them identical). 429, 5xx, timeouts and dropped
connections are retried with exponential backoff and full jitter; other 4xx fail at once.

Options (models file `[models.X.options]`): max_concurrency (16), timeout_s (600), max_retries (5),
backoff_s (0.5), backoff_max_s (30), endpoint ("auto": chat when the prompt has messages, else
completions; or "chat" / "completions"), use_n (true), send_seed (true), batch_size, probe_s (2), extra_body (a
table merged into every request body: chat-template switches such as
`chat_template_kwargs = { enable_thinking = true }`, `reasoning_effort = "high"`).

Replicas: `base_urls = [...]` instead of `base_url` spreads the requests over several servers of one
model (`harness.backends.replicas`: least outstanding requests; a failing replica is ejected, its
request retried at once on another, and probed back). `max_concurrency` is then per replica.
`report()` says how many requests each replica served and failed (kept in the run's record).

Reasoning models: a separate `reasoning_content` / `reasoning` field (vLLM's reasoning parser, SGLang,
hosted APIs) is kept as the completion's thinking; `usage.completion_tokens_details.reasoning_tokens`
gives its token count (without it, the thinking's share of the characters estimates it). With n > 1 a server reports one usage for all choices: it is shared out in
proportion to each choice's length, so run totals are exact and per-sample counts are estimates.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Sequence

import httpx

from harness.backends.replicas import EJECT_STATUS, ReplicaPool
from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Completion, Request, Sampling
from harness.thinking import split

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
# Fields of a /v1/models entry that change without the model changing (vLLM stamps `created` with
# the time of the request; `permission` carries fresh ids): never part of a model's identity.
VOLATILE_MODEL_FIELDS = {"id", "object", "created", "permission"}


def reported_identity(spec: ModelSpec, timeout_s: float = 10.0) -> dict[str, Any]:
    """What the server says about `spec.model` (its entry in GET {base_url}/models, volatile fields
    dropped: e.g. vLLM's `root`, `parent`, `max_model_len`, llama.cpp's `meta`). Raises BackendError
    when the server cannot be reached or does not list the model."""
    if not spec.base_url:
        raise BackendError(f"model {spec.name!r}: an openai backend needs a base_url")
    url = spec.base_url.rstrip("/") + "/models"
    headers = {}
    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        resp = httpx.get(url, timeout=timeout_s, headers=headers)
        resp.raise_for_status()
        entries = resp.json().get("data") or []
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise BackendError(f"cannot read {url} to identify model {spec.model!r}: {exc}") from None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id") == spec.model:
            return {k: v for k, v in sorted(entry.items()) if k not in VOLATILE_MODEL_FIELDS}
    listed = ", ".join(str(e.get("id")) for e in entries if isinstance(e, dict)) or "none"
    raise BackendError(f"{url} does not serve model {spec.model!r} (it lists: {listed})")


class _Refused(Exception):
    """The server refused a parameter (400/422): retrying as is cannot help."""


@dataclass
class _Stats:
    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class OpenAIBackend:
    name = "openai"

    def __init__(self, spec: ModelSpec):
        urls = tuple(spec.base_urls) or ((spec.base_url,) if spec.base_url else ())
        if not urls:
            raise BackendError(f"model {spec.name!r}: an openai backend needs a base_url")
        o = dict(spec.options)
        self.spec = spec
        self.base_url = urls[0].rstrip("/")
        self.max_concurrency = int(o.get("max_concurrency", 16)) * len(urls)
        self.timeout_s = float(o.get("timeout_s", 600))
        self.max_retries = int(o.get("max_retries", 5))
        self.backoff_s = float(o.get("backoff_s", 0.5))
        self.backoff_max_s = float(o.get("backoff_max_s", 30))
        self.endpoint = o.get("endpoint", "auto")
        if self.endpoint not in ("auto", "chat", "completions"):
            raise BackendError(f"model {spec.name!r}: endpoint must be auto, chat or completions")
        self.use_n = bool(o.get("use_n", True))
        self.send_seed = bool(o.get("send_seed", True))
        self.extra_body = dict(o.get("extra_body") or {})
        self.fmt = spec.thinking_format()
        self.batch_size = int(o.get("batch_size", max(64, 8 * self.max_concurrency)))
        self.headers = {"Content-Type": "application/json"}
        key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.stats = _Stats()
        self._rng = random.Random()  # jitter only; never affects what is sampled
        self.pool = ReplicaPool(urls, headers=self.headers, probe_s=float(o.get("probe_s", 2.0)))

    # -- public ----------------------------------------------------------------------------

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        return asyncio.run(self._generate(requests, params))

    def close(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        """Per replica: requests served and failed, ejections (stored with the run)."""
        return self.pool.report()

    # -- internals -------------------------------------------------------------------------

    async def _generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        sem = asyncio.Semaphore(self.max_concurrency)
        limits = httpx.Limits(max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency)
        async with httpx.AsyncClient(timeout=self.timeout_s, limits=limits, headers=self.headers) as client:
            jobs = [self._one_prompt(client, sem, req, params) for req in requests]
            try:
                return list(await asyncio.gather(*jobs))
            finally:
                await self.pool.drain()

    async def _one_prompt(self, client: httpx.AsyncClient, sem: asyncio.Semaphore, req: Request,
                          params: Sampling) -> list[Completion]:
        done: list[Completion] = []
        if self.use_n and len(req.seeds) > 1:
            try:
                async with sem:
                    done = await self._call(client, req, params, len(req.seeds), req.seeds[0])
            except _Refused:
                self.use_n = False  # remember for the rest of the run
                done = []
            done = done[: len(req.seeds)]
        rest = req.seeds[len(done):]

        async def single(seed: int) -> Completion:
            async with sem:
                return (await self._call(client, req, params, 1, seed))[0]

        done += await asyncio.gather(*(single(s) for s in rest))
        return done

    def _body(self, req: Request, params: Sampling, n: int, seed: int) -> tuple[str, dict[str, Any]]:
        chat = self.endpoint == "chat" or (self.endpoint == "auto" and req.prompt.messages is not None)
        body: dict[str, Any] = {
            "model": self.spec.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": n,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if self.send_seed:
            body["seed"] = seed
        body.update(self.extra_body)
        if chat:
            msgs = req.prompt.messages or ()
            body["messages"] = [{"role": m.role, "content": m.content} for m in msgs] or [
                {"role": "user", "content": req.prompt.text}]
            return "/chat/completions", body
        body["prompt"] = req.prompt.text
        return "/completions", body

    async def _call(self, client: httpx.AsyncClient, req: Request, params: Sampling, n: int,
                    seed: int) -> list[Completion]:
        path, body = self._body(req, params, n, seed)
        url = self.base_url + path
        t_start = time.monotonic()
        last = ""
        attempt = failovers = 0
        while attempt <= self.max_retries:
            if attempt or failovers:
                self.stats.retries += 1
            t0 = time.monotonic()
            retry_after: float | None = None
            replica = self.pool.acquire()
            url = replica.url + path
            eject = True
            try:
                resp = await client.post(url, json=body)
            except httpx.TimeoutException as exc:
                last = f"timed out after {self.timeout_s:.0f} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc or 'connection failed'}"
            else:
                self.stats.requests += 1
                eject = resp.status_code in EJECT_STATUS
                if resp.status_code == 200:
                    try:
                        out = self._parse(resp.json(), path, n, time.monotonic() - t0)
                    except (ValueError, KeyError, TypeError, IndexError) as exc:
                        last = f"malformed response ({type(exc).__name__}: {exc})"
                    else:
                        self.pool.served(replica)
                        return out
                elif resp.status_code in RETRY_STATUS:
                    last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                    retry_after = _retry_after(resp)
                elif resp.status_code in (400, 422) and n > 1:
                    raise _Refused(resp.text[:200])
                elif resp.status_code in (401, 403):
                    hint = (f"set ${self.spec.api_key_env}" if self.spec.api_key_env else "configure api_key_env")
                    raise BackendError(f"{url} refused the request (HTTP {resp.status_code}): {resp.text[:200]}; {hint}")
                elif resp.status_code == 404:
                    raise BackendError(
                        f"{url} answered 404 for model {self.spec.model!r}: {resp.text[:200]}. "
                        f"Check the base_url (it usually ends in /v1) and the served model name ({self.base_url}/models)"
                    )
                else:
                    raise BackendError(f"{url} answered HTTP {resp.status_code}: {resp.text[:300]}")
            finally:
                self.pool.release(replica)
            # Another replica takes the retry at once while this one is out (bounded per request).
            if self.pool.failed(replica, last, eject=eject) and failovers < len(self.pool) * (self.max_retries + 1):
                failovers += 1
                continue
            attempt += 1
            if attempt <= self.max_retries:
                delay = min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1)) * self._rng.uniform(0.5, 1.0)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, self.backoff_max_s))
                await asyncio.sleep(delay)
        raise BackendError(
            f"could not get completions from {url} for model {self.spec.model!r}: tried {self.max_retries + 1} "
            f"times over {time.monotonic() - t_start:.1f} s (exponential backoff); last error: {last}. "
            "Is the server running and reachable?"
        )

    def _parse(self, data: dict[str, Any], path: str, n: int, latency: float) -> list[Completion]:
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
        usage = data.get("usage") or {}
        ptoks = usage.get("prompt_tokens")
        ctoks = usage.get("completion_tokens")
        if isinstance(ptoks, int):
            self.stats.prompt_tokens += ptoks
        if isinstance(ctoks, int):
            self.stats.completion_tokens += ctoks
        details = usage.get("completion_tokens_details") or {}
        rtoks = details.get("reasoning_tokens") if isinstance(details, dict) else None
        parts = []
        for c in choices:
            where = c["message"] if path == "/chat/completions" else c
            reasoning = where.get("reasoning_content")
            if reasoning is None:
                reasoning = where.get("reasoning")
            parts.append((where["content"] if path == "/chat/completions" else c["text"],
                          reasoning if isinstance(reasoning, str) else None, c.get("finish_reason")))
        if not parts:
            raise ValueError("no choices")
        # Thinking's length per choice: the separate field and any inline thinking the server left in.
        think_chars = [len(r or "") + len(split(t or "", "stop", None, self.fmt).thinking or "") for t, r, _ in parts]
        gen = _share(ctoks, [len(t or "") + len(r or "") for t, r, _ in parts])
        if isinstance(rtoks, int):
            think = _share(rtoks, think_chars)
        else:  # no count from the server: the thinking's share of the characters, an estimate
            think = [None if g is None else (0 if not c else round(g * c / max(1, len(t or "") + len(r or ""))))
                     for g, c, (t, r, _) in zip(gen, think_chars, parts)]
        return [Completion(text=text or "", finish="length" if finish == "length" else "stop", tokens=g,
                           prompt_tokens=ptoks if isinstance(ptoks, int) else None, latency_s=latency,
                           thinking=reasoning, thinking_tokens=t)
                for (text, reasoning, finish), g, t in zip(parts, gen, think)]


def _share(total: Any, weights: list[int]) -> list[int | None]:
    """`total` tokens shared out over choices by weight (largest remainder, so the parts add up to
    the total); one choice takes it all. Unknown totals stay unknown."""
    if not isinstance(total, int) or isinstance(total, bool):
        return [None] * len(weights)
    if len(weights) == 1:
        return [total]
    whole = sum(weights)
    if whole == 0:
        weights, whole = [1] * len(weights), len(weights)
    exact = [total * w / whole for w in weights]
    out = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: out[i] - exact[i])[: total - sum(out)]:
        out[i] += 1
    return out


def _retry_after(resp: httpx.Response) -> float | None:
    try:
        return float(resp.headers["retry-after"])
    except (KeyError, ValueError):
        return None
