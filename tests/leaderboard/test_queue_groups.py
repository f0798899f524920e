"""The training queue says what to train on next: queued items grouped by their own traits (a
template, a subject and level, a number of steps), each group's prompts one click away. Pure
functions on golden rows, and the page through AppTest on a real store queued by `harness teach`'s
functions from ingested wordmath answers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.analysis.teach import queue_teachable
from harness.data import Source
from harness.leaderboard import queue_groups
from harness.pipeline.ingest import ingest_file
from harness.store import Store
from harness.tasks import get_task
from test_leaderboard_pages import app

TRAIT_CASES = [  # (meta, fields, traits)
    ({"template": 2, "steps": 1}, {"question": "q"}, {"template": 2, "steps": 1}),
    ({"subject": "Algebra", "level": 3}, {"problem": "p"}, {"subject": "Algebra", "level": 3}),
    ({}, {"answer": "He has 2 * 3 = <<2*3=6>>6, then 6 + 1 = <<6+1=7>>7.\n#### 7"}, {"steps": 2}),  # GSM8K
    ({"perms": [[0, 1]]}, {"question": "q", "answer": "B"}, {}),  # multiple choice: nothing to group by
    (None, None, {}),
]


@pytest.mark.parametrize("meta, fields, expected", TRAIT_CASES)
def test_traits_of_an_item(meta, fields, expected):
    assert queue_groups.traits(json.dumps(meta), json.dumps(fields)) == expected


def test_prompt_text_is_the_user_turn():
    chat = {"text": "Question: 2+2?\nAnswer:", "messages": [{"role": "system", "content": "be brief"},
                                                          {"role": "user", "content": "Question: 2+2?"}]}
    assert queue_groups.prompt_text(json.dumps(chat)) == "Question: 2+2?"
    assert queue_groups.prompt_text(json.dumps({"text": "plain"})) == "plain"
    assert queue_groups.prompt_text(None) == ""


def test_groups_put_the_most_pending_first():
    q = pd.DataFrame({
        "item_id": ["1", "2", "3", "4", "5"], "pass_rate": [0.25, 0.5, 0.25, 0.0, 0.75],
        "exported_at": [None, None, None, "2026-01-01", "2026-01-01"],
        "item_meta": [json.dumps({"template": t}) for t in (5, 5, 6, 6, 1)], "item_fields": ["{}"] * 5,
        "prompt": [json.dumps({"text": f"p{i}"}) for i in range(5)]})
    rows = queue_groups.with_traits(q)
    assert queue_groups.trait_names(rows) == ["template"] and rows["prompt"].tolist() == [f"p{i}" for i in range(5)]
    g = queue_groups.groups(rows, "template")
    assert g[["template", "queued", "pending"]].values.tolist() == [[5, 2, 2], [6, 2, 1], [1, 1, 0]]
    assert g["mean_pass_rate"].tolist() == [0.375, 0.125, 0.75] and g["share"].tolist() == [0.4, 0.4, 0.2]


@pytest.fixture(scope="module")
def wordmath_queue(tmp_path_factory) -> Path:
    """`small` answered 24 wordmath items, 4 samples each: one right sample on items whose template is
    5 or 6 or whose id is a multiple of 5, none right elsewhere (so the teachable ones are exactly those)."""
    d = tmp_path_factory.mktemp("wq")
    items = get_task("wordmath").load_items(Source(limit=24))
    rows = [{"model": "small", "task": "wordmath", "item_id": it.id, "sample": s,
             "response": f"#### {it.gold if s == 0 and (it.meta['template'] in (5, 6) or int(it.id) % 5 == 0) else -1}"}
            for it in items for s in range(4)]
    src = d / "g.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = Store(d / "q.duckdb")
    ingest_file(store, src)
    queue_teachable(store, "small")
    return d / "q.duckdb"


def test_queue_page_groups_by_the_items_traits_with_prompts_one_click_away(wordmath_queue, monkeypatch):
    queued = Store(wordmath_queue, read_only=True).queue("small")
    items = {it.id: it for it in get_task("wordmath").load_items(Source(limit=24))}
    by_template: dict[int, int] = {}
    for q in queued:
        by_template[items[q["item_id"]].meta["template"]] = by_template.get(items[q["item_id"]].meta["template"], 0) + 1
    at = app(wordmath_queue, monkeypatch, "queue")
    assert [r.value for r in at.radio if r.key == "queue_trait"] == ["template"]
    assert at.radio(key="queue_trait").options == ["template", "steps"]
    groups = at.dataframe[0].value
    assert dict(zip(groups["template"].astype(int), groups["queued"])) == by_template
    assert groups["queued"].tolist() == sorted(groups["queued"], reverse=True)
    first = at.expander[0]
    assert first.label.startswith(f"template {groups['template'].iloc[0]}: {groups['queued'].iloc[0]} item(s)")
    prompts = first.dataframe[0].value
    one = prompts.iloc[0]
    assert one["prompt"] == items[one["item_id"]].fields["question"]  # ingested without prompts: the question
    assert one["samples"] == f"items?task=wordmath&model=small&item={one['item_id']}"
    at.radio(key="queue_trait").set_value("steps").run()
    assert "steps" in at.dataframe[0].value.columns
    table = at.dataframe[-1].value  # the queued items, each with its traits and prompt
    assert {"template", "steps", "prompt"} <= set(table.columns)
