"""GPQA (graduate-level, "Google-proof" science questions): the diamond (198) and main (448) sets.

Hub: Idavidrein/gpqa, configs `gpqa_diamond` / `gpqa_main`, split `train`. The dataset is GATED: the
token is read from HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or a stored `hf auth login`), and when access
is missing the error says so and how to request it. The authors ask that the questions not be
reposted, so no copy ships with the harness; a local copy can be put in the data folder as
`gpqa_diamond.jsonl` / `gpqa_main.jsonl` (either the hub's columns or `question` / `choices` /
`answer_index`) or as the official `gpqa_diamond.csv` / `gpqa_main.csv`; without one there, the hub
is used even when a data folder is set.

The data lists the correct answer first, so choices are ALWAYS shuffled (seeded per item; asking for
`shuffle=False` is an error). Item id = the dataset's `Record ID`.
"""

from __future__ import annotations

import csv
import os
from functools import partial
from typing import Any

from harness.data import Source, load_rows
from harness.errors import DataError
from harness.tasks._multichoice import ChoiceRow, choice_tasks, make_items, row_from_local

HUB = "Idavidrein/gpqa"
SPLIT = "train"
REVISION: str | None = None  # not pinned yet: the hub could not be reached when this was written
ACCESS_URL = f"https://huggingface.co/datasets/{HUB}"
TOKEN_ENVS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
_INCORRECT = ("Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")


def hub_token() -> tuple[str | None, str | None]:
    """(token, where it came from): the first of HF_TOKEN / HUGGING_FACE_HUB_TOKEN that is set."""
    for env in TOKEN_ENVS:
        if os.environ.get(env):
            return os.environ[env], env
    return None, None


def _stored_login() -> bool:
    try:
        from huggingface_hub import get_token
    except ImportError:  # pragma: no cover - installed with datasets
        return False
    try:
        return get_token() is not None
    except Exception:  # noqa: BLE001 - a broken token file is the same as none here
        return False


def is_gated_error(exc: BaseException) -> bool:
    """Whether `exc` (or an exception it wraps) says the repository is gated for this user.
    `huggingface_hub` raises GatedRepoError; `datasets.load_dataset` turns it into a
    DatasetNotFoundError whose message says "gated" (and drops the cause)."""
    from datasets.exceptions import DatasetNotFoundError
    from huggingface_hub.errors import GatedRepoError

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, GatedRepoError):
            return True
        if isinstance(cur, DatasetNotFoundError) and "gated" in str(cur).lower():
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def gated_message(config: str, token_env: str | None) -> str:
    local = f"or put {config}.jsonl / {config}.csv in --data-dir DIR"
    if token_env is None and not _stored_login():
        return (f"{HUB} is a gated dataset and no Hugging Face token was found (HF_TOKEN and "
                f"HUGGING_FACE_HUB_TOKEN are unset and there is no `hf auth login`). To get access: log in at "
                f"https://huggingface.co, request access on the dataset page {ACCESS_URL} (accept its terms), "
                f"create a read token at https://huggingface.co/settings/tokens and export HF_TOKEN=<token>; "
                f"{local}.")
    where = f"the token in ${token_env}" if token_env else "your stored Hugging Face login"
    return (f"{HUB} is a gated dataset and {where} has no access to it. Request access on the dataset page "
            f"{ACCESS_URL} while logged in as the token's owner (accept its terms), wait until it is granted, "
            f"then run again; {local}.")


def hub_rows(config: str, limit: int | None) -> list[tuple[int, dict[str, Any]]]:
    """Rows of `config` from the hub with the user's token; a gated refusal becomes a DataError that
    says exactly that and how to request access."""
    import datasets

    token, env = hub_token()
    try:
        ds = datasets.load_dataset(HUB, config, split=SPLIT, revision=REVISION, token=token)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a DataError with advice
        if is_gated_error(exc):
            raise DataError(gated_message(config, env)) from None
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise DataError(f"could not load {HUB}/{config} split {SPLIT} from the hub ({type(exc).__name__}: "
                        f"{first}). Offline? Put {config}.jsonl or {config}.csv in --data-dir DIR.") from None
    rows = []
    for i, row in enumerate(ds):
        rows.append((i, dict(row)))
        if limit is not None and len(rows) >= limit:
            break
    return rows


def _csv_rows(source: Source, filename: str) -> list[tuple[int, dict[str, Any]]]:
    assert source.data_dir is not None
    path = source.data_dir / filename
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(enumerate(csv.DictReader(fh)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    return rows[: source.limit] if source.limit is not None else rows


def to_row(i: int, row: dict[str, Any], where: str) -> ChoiceRow:
    """A GPQA row (hub/CSV columns, correct answer first) or an already normalized one."""
    if "choices" in row and "answer_index" in row:
        return row_from_local(i, row, where)
    missing = [k for k in ("Question", "Correct Answer", *_INCORRECT) if not row.get(k)]
    if missing:
        raise DataError(f"{where} row {i}: missing or empty {', '.join(missing)}")
    rid = row.get("Record ID")
    return ChoiceRow(
        id=str(rid).strip() if rid else str(i),
        question=str(row["Question"]).strip(),
        choices=tuple(str(row[k]).strip() for k in ("Correct Answer", *_INCORRECT)),
        answer_index=0,
        subject=(str(row.get("Subdomain") or row.get("High-level domain") or "").strip() or None),
    )


def load(source: Source, config: str, *, shuffle: bool = True, **options: Any) -> list:
    # The correct answer is listed first in the data: never keep that order.
    if not shuffle:
        raise DataError("GPQA lists the correct answer first and has no canonical option order, so items cannot "
                        "be shown unshuffled; to score generations made elsewhere, give each line its `gold` letter "
                        "(harness score --task choice)")
    local = source.data_dir
    if local is not None and (local / f"{config}.jsonl").is_file():
        rows, where = load_rows(source, f"{config}.jsonl", hub=None), f"{config}.jsonl"
    elif local is not None and (local / f"{config}.csv").is_file():
        rows, where = _csv_rows(source, f"{config}.csv"), f"{config}.csv"
    else:  # no local copy (GPQA is never shipped in a data folder): the hub, with the user's token
        rows, where = hub_rows(config, source.limit), f"{HUB}/{config}"
    return make_items([to_row(i, r, where) for i, r in rows], shuffle=True, **options)


GPQA_DIAMOND, GPQA_DIAMOND_PLAIN = choice_tasks(
    "gpqa_diamond", partial(load, config="gpqa_diamond"),
    "GPQA diamond (198 graduate-level science questions, gated on the hub, shuffled choices)")
GPQA_MAIN, GPQA_MAIN_PLAIN = choice_tasks(
    "gpqa_main", partial(load, config="gpqa_main"),
    "GPQA main (448 graduate-level science questions, gated on the hub, shuffled choices)")
