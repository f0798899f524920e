"""Reasoning models: split a completion into its thinking and its final answer.

A reasoning model writes a thinking section, then a short answer. The thinking comes either inline,
between delimiters in the text (`<think> ... </think>` by default; other tags per model in the models
file), or in a separate field of the server's answer (`reasoning_content` / `reasoning`). Only the
final answer is extracted, graded and voted on; the thinking is stored raw beside it.

Thinking that never closed (no closing tag, or a separate field with no answer after it because the
token limit hit) is *unfinished*: the model never gave an answer, so nothing in its thinking is
credited, and the sample counts as its own outcome, not as a wrong answer.

The split is a pure function of what is stored (the raw text, the separate field, the finish reason
and the model's delimiters), so it is made again at grading time and never changes the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from harness.errors import HarnessError
from harness.records import Completion


@dataclass(frozen=True, slots=True)
class ThinkingFormat:
    """How a model delimits its thinking. `starts_open`: the chat template already opened the
    thinking (DeepSeek-R1 distills put `<think>` in the prompt), so the output starts inside it and
    a text without the closing tag never left it. An empty `close` turns inline splitting off."""

    open: str = "<think>"
    close: str = "</think>"
    starts_open: bool = False

    @staticmethod
    def from_table(t: Mapping[str, Any] | None) -> "ThinkingFormat":
        """From a models file's `[models.X.thinking]` table (keys open, close, starts_open)."""
        t = dict(t or {})
        unknown = set(t) - {"open", "close", "starts_open", "budget"}
        if unknown:
            raise HarnessError(f"unknown thinking keys {sorted(unknown)}; known: budget, close, open, starts_open")
        fmt = ThinkingFormat(str(t.get("open", "<think>")), str(t.get("close", "</think>")),
                             bool(t.get("starts_open", False)))
        if fmt.open and not fmt.close:
            raise HarnessError("thinking: an open tag needs a close tag (or set both to \"\" to turn inline thinking off)")
        return fmt


DEFAULT = ThinkingFormat()


def recorded_format(spec: Mapping[str, Any] | None) -> ThinkingFormat:
    """The delimiters in a model spec as a run recorded it (`ModelSpec.describe`); the default tags
    when it has none (ingested models) or they no longer parse."""
    try:
        return ThinkingFormat.from_table((spec or {}).get("thinking"))
    except HarnessError:
        return DEFAULT


@dataclass(frozen=True, slots=True)
class Split:
    """A completion's parts. `thinking` is None when the model did not think; `unfinished` when it
    never stopped thinking (then `answer` is whatever stood outside the thinking, and is not graded)."""

    thinking: str | None
    answer: str
    unfinished: bool = False

    def graded_text(self) -> str:
        """What the grader sees: the final answer, or nothing at all for unfinished thinking."""
        return "" if self.unfinished else self.answer


def split(text: str, finish: str, thinking: str | None = None, fmt: ThinkingFormat = DEFAULT) -> Split:
    """Split one completion (its raw text, finish reason and separate reasoning field, if any)."""
    inline = _split_inline(text, fmt)
    if thinking is None:
        return inline
    parts = [p for p in (thinking, inline.thinking) if p]
    joined = "\n".join(parts)
    if inline.unfinished:
        return Split(joined, inline.answer, True)
    # The server separated the thinking; no answer after it and the token limit hit: still thinking.
    unfinished = not inline.answer.strip() and finish == "length"
    return Split(joined, inline.answer, unfinished)


def _split_inline(text: str, fmt: ThinkingFormat) -> Split:
    if not fmt.close:
        return Split(None, text)
    end = text.rfind(fmt.close)
    if end >= 0:
        before, answer = text[:end], text[end + len(fmt.close):]
        start = before.find(fmt.open) if fmt.open else -1
        if start >= 0 and not before[:start].strip():
            before = before[start + len(fmt.open):]
        return Split(before, answer)
    start = text.find(fmt.open) if fmt.open else -1
    if start >= 0:
        return Split(text[start + len(fmt.open):], text[:start], True)
    if fmt.starts_open:
        return Split(text, "", True)
    return Split(None, text)


def thinking_tokens(tokenizer: Any, text: str, finish: str, fmt: ThinkingFormat, total: int) -> int:
    """Tokens of a completion's inline thinking, counted with the model's own tokenizer (0 without
    thinking; never more than the completion's `total`)."""
    part = _split_inline(text, fmt).thinking
    if not part:
        return 0
    return min(total, len(tokenizer(part, add_special_tokens=False)["input_ids"]))


def unfinished_detail(finish: str) -> str:
    return f"thinking never closed (finish: {finish}); no answer given"


# -- budget forcing ---------------------------------------------------------------------------------

class Continuation(NamedTuple):
    """How a sample cut at the thinking budget is continued: `so_far`, the text generated so far as
    the model continues it; `kept`, the part of it the stored text keeps; `closes`, whether the
    thinking was still open, so the closing tag is ours, not the model's (the sample is *forced*)."""

    so_far: str
    kept: str
    closes: bool


def continuation(c: Completion, fmt: ThinkingFormat) -> Continuation | None:
    """How to continue a sample cut at the thinking budget, or None when it was not cut. Thinking
    still open gets the closing tag; a separate reasoning field goes back between the model's tags
    (the stored sample keeps it in its own field); a sample cut in its answer, after the thinking
    closed, is continued as it stands."""
    if c.finish != "length":
        return None
    open_thinking = split(c.text, c.finish, c.thinking, fmt).unfinished
    if c.thinking is not None:
        return Continuation(("" if fmt.starts_open else fmt.open) + c.thinking + fmt.close + c.text, c.text,
                            open_thinking)
    text = c.text + (fmt.close if open_thinking else "")
    return Continuation(text, text, open_thinking)


def join_forced(c: Completion, how: Continuation, cont: Completion) -> Completion:
    """A continued sample: the first part's kept text and the continuation's, tokens, prompt tokens
    and latency of both, the first part's thinking, the continuation's finish reason; `forced` when
    the thinking was closed for it."""
    def add(x: int | None, y: int | None) -> int | None:
        return None if x is None or y is None else x + y

    more = (cont.thinking or "") + cont.text  # a reasoning parser may take an answer without tags for thinking
    return Completion(text=how.kept + more, finish=cont.finish, tokens=add(c.tokens, cont.tokens),
                      prompt_tokens=add(c.prompt_tokens, cont.prompt_tokens),
                      latency_s=(c.latency_s or 0.0) + (cont.latency_s or 0.0), thinking=c.thinking,
                      thinking_tokens=c.thinking_tokens, forced=how.closes)
