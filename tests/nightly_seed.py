"""A store holding three nights of one model (fake backends, the real night loop): a baseline, a
night tuning `math` in which `logic` fell, and a night tuning `code` labelled as its own phase."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.analysis.nightly_config import NightConfig
from harness.analysis.nightly_run import run_night
from harness.data import Source
from harness.models import ModelSpec
from harness.pipeline.identity import Identified
from harness.records import Message, Prompt
from harness.store import Store
from harness.tasks import get_task
from harness.tasks.arith import make_items
from fakes import FakeBackend

ITEMS = 12
ARITH = get_task("arith")


def _logic_render(item):
    text = "Logic drill. " + item.fields["question"]
    return Prompt(text=text, messages=(Message("user", text),))


LOGIC = replace(ARITH, name="logic_drill", kind="other", render=_logic_render)
GOLD = {it.fields["question"]: it for it in make_items(ITEMS)}
PHASES = [("baseline", None, None), ("math SFT round 2", "math", "logic"), ("code round 1", "code", None)]


def _backend(worse_domain: str | None) -> FakeBackend:
    def answer(prompt: str, rng) -> str:
        it = next(i for q, i in GOLD.items() if q in prompt)
        bad = worse_domain == "logic" and prompt.startswith("Logic") and int(it.id) % 2 == 0
        return f"The answer is {int(it.gold) + 1 if bad else it.gold}"
    return FakeBackend(answer)


def seed_nights(db: Path) -> Path:
    store = Store(db)
    for i, (label, tuning, worse) in enumerate(PHASES, 1):
        cfg = NightConfig(suite="phi", models=("phi",), domains={"math": ("arith",), "logic": ("logic_drill",),
                                                                 "code": ()},
                          k=1, seeds=(0, 1), label=label, tuning=tuning, revisions={"phi": f"step-{i}"})
        run_night(cfg, [ARITH, LOGIC], {"phi": ModelSpec("phi", "hf", "hub/phi", params_b=14.0)}, store,
                  night_id=f"phi-night-{i}", source=Source(limit=ITEMS), backend_factory=lambda s, w=worse: _backend(w),
                  identify=lambda spec, revision=None, strict=False: Identified(replace(spec, revision=revision)),
                  log=lambda line: None)
    return db
