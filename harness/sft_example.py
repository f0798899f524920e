"""One SFT example: the line `harness export-sft` writes (`harness.analysis.teach`), the demo's
variants and replay write, and `harness sft` trains on (`harness.training.sft`).

A line is one JSON object: `messages` (the prompt's turns, then the assistant's answer) and
`prompt_text` (the prompt as a model without a chat template sees it; null when unknown), then, each
only when set, where it came from: `task`, `item_id`, `gold`, `parent` (the item a synth variant was
made from), `source` (`own`, `teacher:NAME`, `synth`, `replay`), `reason` (why it was picked:
`own_samples`, `teacher`, `random`) and `model` (whose training queue it came from).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.data import numbered_jsonl
from harness.errors import DataError

# Where an example came from: the optional fields of a line, in the order they are written.
ORIGIN = ("task", "item_id", "gold", "parent", "source", "reason", "model")


@dataclass(frozen=True, slots=True)
class SftExample:
    messages: tuple[Mapping[str, str], ...]  # {"role", "content"} turns, the assistant's last
    prompt_text: str | None
    task: str | None = None
    item_id: str | None = None
    gold: str | None = None
    parent: str | None = None
    source: str | None = None
    reason: str | None = None
    model: str | None = None

    @classmethod
    def of(cls, user: str, prompt_text: str | None, answer: str, **origin: Any) -> "SftExample":
        """One user turn and the assistant's answer."""
        return cls(({"role": "user", "content": user}, {"role": "assistant", "content": answer}), prompt_text,
                   **origin)

    def line(self) -> str:
        """The example as one JSONL line (with its newline)."""
        origin = {k: v for k in ORIGIN if (v := getattr(self, k)) is not None}
        return json.dumps({"messages": [dict(m) for m in self.messages], "prompt_text": self.prompt_text, **origin},
                          ensure_ascii=False) + "\n"

    @classmethod
    def from_row(cls, row: Mapping[str, Any], where: str) -> "SftExample":
        """From a parsed line; DataError naming `where` when it is not an example. Fields outside the
        format are ignored."""
        msgs = row.get("messages")
        if (not isinstance(msgs, list) or len(msgs) < 2
                or not all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                           for m in msgs)
                or msgs[-1].get("role") != "assistant"):
            raise DataError(f"{where}: expected `messages`, a list of turns ending with the assistant's")
        prompt = row.get("prompt_text")
        return cls(tuple({"role": m["role"], "content": m["content"]} for m in msgs),
                   prompt if isinstance(prompt, str) else None,
                   **{k: (None if row.get(k) is None else str(row[k])) for k in ORIGIN})


def read_examples(path: Path) -> list[SftExample]:
    """Every example of an SFT file (blank lines skipped); a malformed line is named, never skipped."""
    if not path.is_file():
        raise DataError(f"no SFT export at {path}: make one with `harness export-sft --model M --out {path}`")
    return [SftExample.from_row(row, f"{path}:{n}") for n, row in numbered_jsonl(path)]
