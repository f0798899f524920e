"""Hugging Face transformers: CPU or GPU, batched sampling with `generate`.

Prompts with messages go through the tokenizer's chat template when it has one (a final assistant
turn is continued, not closed: the start of an answer); otherwise the prompt's plain text is used. Sequences are sorted by length and sampled in batches of
`batch_size` with left padding. Per-sample seeds are not possible inside one batched `generate`,
so each batch seeds torch from the seeds of the samples in it: the same batch reproduces.

Budget forcing (`[models.X.thinking] budget = N`, N below max_tokens): samples are generated with at
most N new tokens; each one cut there gets its thinking closed (the closing tag appended when still
open) and is sampled again from the prompt plus its text for the tokens max_tokens leaves. The stored
sample is the whole (see `harness.thinking.join_forced`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Sequence

from harness.errors import BackendError
from harness.models import ModelSpec
from harness.records import Completion, Finish, Prompt, Request, Sampling, stable_hash
from harness.thinking import continuation, join_forced, thinking_tokens


class HFBackend:
    name = "hf"

    def __init__(self, spec: ModelSpec):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:  # pragma: no cover - dependencies
            raise BackendError(f"the hf backend needs torch and transformers: {exc}") from None
        self._torch = torch
        hf_logging.disable_progress_bar()
        opts = dict(spec.options)
        self.batch_size = int(opts.get("batch_size", 16))
        device = opts.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cpu":  # a thread count chosen on purpose (harness.cpu): busy cores make torch crawl
            from harness.cpu import set_torch_threads

            set_torch_threads(int(opts["threads"]) if opts.get("threads") else None)
        dtype = opts.get("dtype", "auto")
        try:
            self.tok = AutoTokenizer.from_pretrained(spec.model, revision=spec.revision)
            self.model = AutoModelForCausalLM.from_pretrained(
                spec.model, revision=spec.revision,
                dtype=dtype if dtype == "auto" else getattr(torch, dtype),
            ).to(device)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(f"could not load model {spec.model!r} with transformers: {first}") from None
        self.model.eval()
        self.device = device
        self.tok.padding_side = "left"
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token
        self.has_template = bool(getattr(self.tok, "chat_template", None))
        self.fmt = spec.thinking_format()
        self.budget = spec.forced_budget()

    def render(self, prompt: Prompt) -> tuple[str, bool]:
        """Text fed to the model, and whether it already holds the special tokens."""
        if prompt.messages is not None and self.has_template:
            msgs = [{"role": m.role, "content": m.content} for m in prompt.messages]
            started = msgs[-1]["role"] == "assistant"  # the answer's start (a prefix): continue it
            return self.tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=not started,
                                                continue_final_message=started), True
        return prompt.text, False

    def generate(self, requests: Sequence[Request], params: Sampling) -> list[list[Completion]]:
        flat: list[tuple[int, int, str, bool, int]] = []
        for r, req in enumerate(requests):
            text, templated = self.render(req.prompt)
            for j, seed in enumerate(req.seeds):
                flat.append((r, j, text, templated, seed))
        budget = self.budget if self.budget is not None and self.budget < params.max_tokens else None
        comps = self._generate_flat(flat, params if budget is None else replace(params, max_tokens=budget))
        if budget is not None:
            cut = [(i, how) for i, c in enumerate(comps) if (how := continuation(c, self.fmt)) is not None]
            more = self._generate_flat([(*flat[i][:2], flat[i][2] + how.so_far, *flat[i][3:]) for i, how in cut],
                                       replace(params, max_tokens=params.max_tokens - budget))
            for (i, how), cont in zip(cut, more):
                comps[i] = join_forced(comps[i], how, cont)
        out: list[list[Completion | None]] = [[None] * len(req.indices) for req in requests]
        for (r, j, *_), comp in zip(flat, comps):
            out[r][j] = comp
        return out  # type: ignore[return-value]

    def _generate_flat(self, flat: list[tuple[int, int, str, bool, int]], params: Sampling) -> list[Completion]:
        """Completions of (request, sample, text, templated, seed) in `flat`'s order, sampled in
        batches of similar length that never mix templated and plain prompts."""
        out: list[Completion | None] = [None] * len(flat)
        for templated in (False, True):
            order = sorted((i for i in range(len(flat)) if flat[i][3] == templated), key=lambda i: len(flat[i][2]))
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                for i, comp in zip(idx, self._sample([flat[i] for i in idx], params)):
                    out[i] = comp
        return out  # type: ignore[return-value]

    def _sample(self, chunk: list[tuple[int, int, str, bool, int]], params: Sampling) -> list[Completion]:
        torch = self._torch
        torch.manual_seed(int(stable_hash([c[4] for c in chunk], 8), 16))
        templated = chunk[0][3]  # chunks never mix templated and plain prompts
        enc = self.tok([c[2] for c in chunk], return_tensors="pt", padding=True,
                       add_special_tokens=not templated).to(self.device)
        kwargs: dict[str, Any] = dict(
            max_new_tokens=params.max_tokens,
            pad_token_id=self.tok.pad_token_id,
        )
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tok)
        t0 = time.perf_counter()
        with torch.inference_mode():
            seqs = self.model.generate(**enc, **kwargs)
        latency = (time.perf_counter() - t0) / len(chunk)
        prompt_len = enc["input_ids"].shape[1]
        n_prompt = enc["attention_mask"].sum(dim=1).tolist()
        eos = self.tok.eos_token_id
        comps = []
        for row, new in enumerate(seqs[:, prompt_len:].tolist()):
            ended = False
            if eos is not None and eos in new:
                new = new[: new.index(eos)]
                ended = True
            while new and new[-1] == self.tok.pad_token_id and self.tok.pad_token_id != eos:
                new.pop()
            text = self.tok.decode(new, skip_special_tokens=True)
            cut = _cut_at_stop(text, params.stop)
            if cut is not None:
                text, ended = cut, True
            finish: Finish = "stop" if ended else "length"
            comps.append(Completion(text=text, finish=finish, tokens=len(new), prompt_tokens=int(n_prompt[row]),
                                    latency_s=latency,
                                    thinking_tokens=thinking_tokens(self.tok, text, finish, self.fmt, len(new))))
        return comps

    def token_logprobs(self, prompt: Prompt, pieces: Sequence[str]) -> list[float]:
        """The log-probability of each piece of a sample's text (its tokens' sum) after the prompt
        and the pieces before it: one forward pass over the prompt and the pieces' own token ids."""
        torch = self._torch
        text, templated = self.render(prompt)
        ids = self.tok(text, add_special_tokens=not templated)["input_ids"]
        spans = []
        for piece in pieces:
            piece_ids = self.tok(piece, add_special_tokens=False)["input_ids"]
            spans.append((len(ids), len(ids) + len(piece_ids)))
            ids = ids + piece_ids
        with torch.inference_mode():
            logits = self.model(torch.tensor([ids], device=self.device)).logits[0].float()
        logp = torch.log_softmax(logits[:-1], dim=-1).gather(1, torch.tensor(ids[1:], device=self.device)[:, None])[:, 0]
        return [float(logp[a - 1:b - 1].sum()) for a, b in spans]

    def close(self) -> None:
        self.model = None


def _cut_at_stop(text: str, stop: Sequence[str]) -> str | None:
    hits = [text.find(s) for s in stop if s and s in text]
    return text[: min(hits)] if hits else None
