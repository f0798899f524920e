"""A model's token boundaries, for code that cuts its samples into prefixes (pivotal token search).

A prefix must end where the model's own tokenizer puts a boundary, or a rollout from it starts in the
middle of a token the model never sees split. Local weights (hf, vllm) come with their tokenizer; a
served model (openai, ray) does not, and is refused with what to do instead.
"""

from __future__ import annotations

from typing import Any

from harness.errors import BackendError
from harness.models import ModelSpec


class TokenSplitter:
    """Text cut at a tokenizer's boundaries: `pieces(text)` are the tokens as text, joined `text`."""

    def __init__(self, tokenizer: Any):
        self.tok = tokenizer

    def pieces(self, text: str) -> tuple[str, ...]:
        """`text` as the text of its tokens (encoded alone, no special tokens). A token whose text is
        not whole on its own (a byte-level piece of a character) joins the next one, so every piece
        boundary is a place the text can be cut."""
        ids = self.tok.encode(text, add_special_tokens=False)
        out: list[str] = []
        done = 0
        for i in range(1, len(ids) + 1):
            so_far = self.tok.decode(ids[:i], skip_special_tokens=False, clean_up_tokenization_spaces=False)
            if len(so_far) > done and text.startswith(so_far):
                out.append(so_far[done:])
                done = len(so_far)
        if done < len(text):  # what decoding does not give back verbatim stays one last piece
            out.append(text[done:])
        return tuple(out)

    def first(self, text: str) -> str | None:
        """The first token of `text` as text (None for empty text)."""
        pieces = self.pieces(text[:200]) if text else ()
        return pieces[0] if pieces else None


def token_splitter(spec: ModelSpec) -> TokenSplitter:
    """The splitter of `spec`'s tokenizer: local weights only."""
    from harness.backend_kinds import KINDS

    kind = KINDS.get(spec.backend)
    if kind is None or kind.served(spec.base_url):
        raise BackendError(
            f"model {spec.name!r} ({spec.backend}): its token boundaries are not known here, so its samples "
            "cannot be cut into prefixes; name the same weights with an hf or vllm spec (e.g. hf:PATH)")
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:  # pragma: no cover - dependencies
        raise BackendError(f"token boundaries need transformers: {exc}") from None
    try:
        return TokenSplitter(AutoTokenizer.from_pretrained(spec.model, revision=spec.revision))
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(f"could not load the tokenizer of {spec.model!r}: {first}") from None
