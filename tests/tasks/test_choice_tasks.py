"""Multiple-choice tasks: MMLU science from the shared data folder, GPQA's gated access (simulated
through the real `datasets` code path), GPQA and MMLU-Pro rows, local JSONL files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from harness.data import Source
from harness.errors import DataError
from harness.grading.choice.grade import LETTERS, ChoiceGrader
from harness.tasks import get_task

GPQA_ROW = {
    "Question": "Which particle mediates the electromagnetic force?",
    "Correct Answer": " photon ",
    "Incorrect Answer 1": "gluon",
    "Incorrect Answer 2": "W boson",
    "Incorrect Answer 3": "graviton",
    "Record ID": "recABC123",
    "Subdomain": "Physics (general)",
    "High-level domain": "Physics",
}


def test_mmlu_science_loads_all_items_with_file_ids(shared_data: Path) -> None:
    task = get_task("mmlu_science")
    items = task.load(Source.resolve(shared_data))
    assert len(items) == 1542
    rows = [json.loads(line) for line in (shared_data / "mmlu_science_test.jsonl").read_text().splitlines()]
    assert [it.id for it in items] == [r["id"] for r in rows]
    assert items[0].id == "mmlu/college_physics/test/0"
    assert all(it.gold == LETTERS[r["answer_index"]] for it, r in zip(items, rows))
    assert Counter(it.gold for it in items) == {"A": 312, "B": 357, "C": 410, "D": 463}  # SOURCES.md
    # Shuffled, so shown gold positions are no longer skewed towards D.
    shown = Counter(it.meta["perms"][0].index(LETTERS.index(it.gold)) for it in items)
    assert max(shown.values()) < 463
    assert task.kind == "choice" and get_task("mmlu_science_plain").kind == "choice"


def test_mmlu_science_permutations_and_grading_end_to_end(shared_data: Path) -> None:
    task = get_task("mmlu_science")
    items = task.configure({"permutations": "4"}).load_items(Source.resolve(shared_data, limit=5))
    assert len(items) == 5
    for item in items:
        prompts = task.render(item)
        assert len(prompts) == 4
        gold = LETTERS.index(item.gold)
        responses = [f"Reasoning...\n\nAnswer: {LETTERS[item.meta['perms'][i % 4].index(gold)]}" for i in range(8)]
        [grades] = task.grader().grade([(item, responses)])
        assert all(g.verdict == "correct" for g in grades)
        assert {g.cls for g in grades} == {0}


def test_mmlu_science_needs_a_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="--data-dir"):
        get_task("mmlu_science").load(Source())


def test_local_jsonl_errors(tmp_path: Path) -> None:
    (tmp_path / "mmlu_science_test.jsonl").write_text(
        json.dumps({"question": "q", "choices": ["a", "b"], "answer_index": 5}) + "\n")
    with pytest.raises(DataError, match="answer_index 5"):
        get_task("mmlu_science").load(Source.resolve(tmp_path))
    (tmp_path / "mmlu_science_test.jsonl").write_text(json.dumps({"question": "q", "choices": ["a", "b"]}) + "\n")
    with pytest.raises(DataError, match="answer_index"):
        get_task("mmlu_science").load(Source.resolve(tmp_path))


def _gated(status: int):
    """A stand-in for the hub's reply to a gated repository: huggingface_hub's GatedRepoError."""
    from huggingface_hub.errors import GatedRepoError

    def download(self, repo_id, filename, **kwargs):
        url = f"https://huggingface.co/datasets/{repo_id}/resolve/main/{filename}"
        response = httpx.Response(status, request=httpx.Request("GET", url))
        raise GatedRepoError(f"{status} Client Error. Cannot access gated repo for url {url}.", response=response)

    return download


@pytest.fixture
def hub_refuses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Make the hub answer every file request with a gated-repository refusal, through the real
    `datasets.load_dataset` code (which turns GatedRepoError into DatasetNotFoundError)."""
    import datasets.config
    import huggingface_hub

    for env in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HARNESS_DATA_DIR"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")

    def refuse(status: int) -> None:
        monkeypatch.setattr(huggingface_hub.HfApi, "hf_hub_download", _gated(status))

    return refuse


def test_gpqa_without_token_says_gated_and_how_to_get_access(hub_refuses, monkeypatch) -> None:
    import harness.tasks.gpqa as gpqa

    hub_refuses(401)
    monkeypatch.setattr(gpqa, "_stored_login", lambda: False)
    with pytest.raises(DataError) as err:
        get_task("gpqa_diamond").load(Source())
    msg = str(err.value)
    assert "Idavidrein/gpqa is a gated dataset" in msg
    assert "no Hugging Face token was found" in msg and "HF_TOKEN" in msg
    assert "https://huggingface.co/datasets/Idavidrein/gpqa" in msg


def test_gpqa_with_token_lacking_access_says_so(hub_refuses, monkeypatch) -> None:
    hub_refuses(403)
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_fake")
    with pytest.raises(DataError) as err:
        get_task("gpqa_main").load(Source())
    msg = str(err.value)
    assert "gated dataset" in msg and "$HUGGING_FACE_HUB_TOKEN has no access" in msg
    assert "Request access on the dataset page https://huggingface.co/datasets/Idavidrein/gpqa" in msg


def test_gpqa_gated_error_raised_directly_is_recognised() -> None:
    import harness.tasks.gpqa as gpqa
    from datasets.exceptions import DatasetNotFoundError

    with pytest.raises(Exception) as info:
        _gated(403)(None, "Idavidrein/gpqa", "x.parquet")
    assert gpqa.is_gated_error(info.value)
    assert gpqa.is_gated_error(DatasetNotFoundError("Dataset 'Idavidrein/gpqa' is a gated dataset on the Hub."))
    assert not gpqa.is_gated_error(DatasetNotFoundError("Dataset 'x/y' doesn't exist on the Hub."))
    assert not gpqa.is_gated_error(ConnectionError("offline"))


def test_gpqa_other_hub_failures_are_not_called_gated(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'Idavidrein/gpqa' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as err:
        get_task("gpqa_diamond").load(Source())
    assert "gated" not in str(err.value) and "Offline?" in str(err.value)


def test_gpqa_loads_with_a_token_that_has_access(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    seen: dict = {}
    rows = [dict(GPQA_ROW, **{"Record ID": f"rec{i}"}) for i in range(12)]

    def fake_load(path, name=None, split=None, revision=None, token=None, **kwargs):
        seen.update(path=path, name=name, split=split, token=token)
        return datasets.Dataset.from_list(rows)

    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_TOKEN", "hf_has_access")
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    with pytest.raises(DataError, match="no canonical option order"):
        get_task("gpqa_diamond").configure({"shuffle": "false"}).load_items(Source())
    items = get_task("gpqa_diamond").configure({"permutations": 2}).load_items(Source())
    assert seen == {"path": "Idavidrein/gpqa", "name": "gpqa_diamond", "split": "train", "token": "hf_has_access"}
    assert [it.id for it in items] == [f"rec{i}" for i in range(12)]
    assert all(it.gold == "A" and it.fields["choices"][0] == "photon" for it in items)
    # Always shuffled (the correct answer comes first in the data).
    assert len({it.meta["perms"][0].index(0) for it in items}) > 1
    item = items[0]
    shown = LETTERS[item.meta["perms"][1].index(0)]
    [[g0, g1]] = ChoiceGrader().grade([(item, ["Answer: X", f"Answer: {shown}"])])
    assert g0.verdict == "unparseable" and g1.verdict == "correct"


def test_gpqa_local_csv(tmp_path: Path) -> None:
    import csv

    with open(tmp_path / "gpqa_diamond.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(GPQA_ROW))
        w.writeheader()
        w.writerow(GPQA_ROW)
    [item] = get_task("gpqa_diamond").load(Source.resolve(tmp_path))
    assert item.id == "recABC123" and item.gold == "A" and item.fields["subject"] == "Physics (general)"


def test_mmlu_pro_local_rows_and_stem_subset(tmp_path: Path) -> None:
    cats = ["math", "law", "physics", "history", "computer science"]
    with open(tmp_path / "mmlu_pro_test.jsonl", "w") as fh:
        for i, cat in enumerate(cats * 3):
            opts = [f"opt{j}" for j in range(10)] if i % 2 else [f"opt{j}" for j in range(6)] + ["N/A"]
            fh.write(json.dumps({"question_id": 100 + i, "question": f"q{i}", "options": opts,
                                 "answer": "C", "answer_index": 2, "category": cat}) + "\n")
    items = get_task("mmlu_pro").load(Source.resolve(tmp_path))
    assert [it.id for it in items] == [str(100 + i) for i in range(15)]
    assert {len(it.fields["choices"]) for it in items} == {6, 10}  # padding dropped
    assert all(it.gold == "C" for it in items)
    stem = get_task("mmlu_pro_stem").load(Source.resolve(tmp_path, limit=4))
    assert [it.fields["subject"] for it in stem] == ["math", "physics", "computer science", "math"]
    ten = next(it for it in items if len(it.fields["choices"]) == 10)
    prompt = get_task("mmlu_pro").render(ten)[0]
    assert "J) " in prompt.messages[0].content and "one of A, B, C, D, E, F, G, H, I or J" in prompt.messages[0].content
    six = next(it for it in items if len(it.fields["choices"]) == 6)
    [[g]] = ChoiceGrader().grade([(six, ["Answer: H"])])
    assert g.verdict == "unparseable"  # past the item's last option
