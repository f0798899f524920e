"""Frozen records that flow between the stages: prompts, sampling, completions, items, grades.

Every stage is a plain function over these; none of them knows about SQL or HTTP.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Mapping

# "unfinished": the model's thinking never closed (it ran out of tokens thinking), so it gave no
# answer; never credited, and counted apart from wrong answers. "error": the harness could not judge
# the sample (a program's output it could not read, a sandbox failure); never credited.
Verdict = Literal["correct", "incorrect", "unparseable", "timeout", "unfinished", "error"]
VERDICTS: tuple[Verdict, ...] = ("correct", "incorrect", "unparseable", "timeout", "unfinished", "error")
Finish = Literal["stop", "length", "error"]


def stable_hash(obj: Any, n: int = 16) -> str:
    """Hex digest of the canonical JSON form of `obj` (sorted keys, no whitespace)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:n]


@dataclass(frozen=True, slots=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a model is asked. `messages` for chat models; `text` is the plain rendering used by
    completion endpoints and by tokenizers without a chat template. A task fills both or `text` only."""

    text: str
    messages: tuple[Message, ...] | None = None
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)  # computed once, on first use

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "messages": None if self.messages is None else [asdict(m) for m in self.messages],
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> "Prompt":
        msgs = d.get("messages")
        return Prompt(
            text=d["text"],
            messages=None if msgs is None else tuple(Message(m["role"], m["content"]) for m in msgs),
        )

    @property
    def hash(self) -> str:
        h = self._hash
        if h is None:
            h = stable_hash(self.to_json(), 32)
            object.__setattr__(self, "_hash", h)
        return h


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling parameters. `seed` is the run's base seed: sample i of a prompt draws with
    `sample_seed(seed, prompt_hash, i)`, so samples are independent and a rerun reproduces them."""

    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0

    def key(self) -> str:
        """Part of every generation's cache key: a change to any field means new samples."""
        return stable_hash(
            {
                "max_tokens": self.max_tokens,
                "temperature": float(self.temperature),
                "top_p": float(self.top_p),
                "stop": list(self.stop),
                "seed": self.seed,
            }
        )

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


def sample_seed(base_seed: int, prompt_hash: str, index: int) -> int:
    """Seed of one sample: distinct per (prompt, index), reproducible from the run's seed.
    Kept below 2**31 because some servers reject larger seeds."""
    h = hashlib.sha256(f"{base_seed}:{prompt_hash}:{index}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True, slots=True)
class Request:
    """One prompt and the sample indices still to generate for it (after the cache was consulted)."""

    prompt: Prompt
    indices: tuple[int, ...]
    seeds: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Completion:
    """One sample as the backend returned it. `text` is the content, raw (inline `<think>` sections
    included); `thinking` is a separate reasoning field when the server gives one (vLLM's reasoning
    parser, SGLang, hosted APIs), else None. `tokens` counts every generated token (thinking
    included); `thinking_tokens` the thinking part's, where known. `forced`: budget forcing cut the
    thinking at its budget and closed it for the model (the closing tag in `text` is not the model's)."""

    text: str
    finish: Finish
    tokens: int | None = None
    prompt_tokens: int | None = None
    latency_s: float | None = None
    thinking: str | None = None
    thinking_tokens: int | None = None
    forced: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    """One benchmark item. `id` is stable (the dataset's own id, else the 0-based index in the pinned
    split), so runs, ingested generations and lm-eval doc_ids line up item by item."""

    id: str
    gold: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Grade:
    """The verdict on one sample. `cls` is the sample's vote class within its item: samples with
    equal `cls` hold equivalent answers. None when there is no answer to vote for."""

    extracted: str | None
    canonical: str | None
    verdict: Verdict
    cls: int | None
    detail: str | None = None
