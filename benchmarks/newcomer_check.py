"""Issue 26's "done means", checked end to end: every case a newcomer tripped on, run as they ran it.

    python benchmarks/newcomer_check.py

Each check runs the real `harness` command (a subprocess in an empty temporary folder) or renders the
real page (Streamlit's AppTest) and prints PASS or FAIL with what it saw; the script exits 0 only
when all hold:
- `harness compare` at 80 columns shows every number whole (no cell cut, intervals on one line);
- `harness run --model hf:/no/such/folder` and `harness ingest` of a line naming an item the task lacks
  exit 2 on one line and leave no store; a malformed JSON line is reported at its own column;
- the board's mean is over the tasks every listed model has, and says which;
- `harness leaderboard --help` names every page; on a port in use it exits 2 on one line.
No network and no model needed: stores are made by `harness ingest` with gold answers given.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def harness(*args: object, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**ENV, **(env or {})}, timeout=300)


def one_line_exit_2(p: subprocess.CompletedProcess, *says: str) -> str | None:
    """None when `p` exited 2 with one line naming `says`, else what was wrong."""
    if p.returncode != 2:
        return f"exit {p.returncode}, stderr {p.stderr[-300:]!r}"
    if p.stderr.count("\n") != 1 or not p.stderr.startswith("error: "):
        return f"not one line: {p.stderr[-300:]!r}"
    missing = [s for s in says if s not in p.stderr]
    return f"does not say {missing}: {p.stderr.strip()!r}" if missing else None


def answers(model: str, task: str, right: int, n: int = 40, k: int = 4) -> list[dict]:
    """k samples per item of `n` items, items below `right` answered right by most samples."""
    return [{"model": model, "task": task, "item_id": str(i), "sample": s, "gold": str(i),
             "response": f"#### {i if (i < right) == (s < 3) else i + 1}"} for i in range(n) for s in range(k)]


def ingest(rows: list[dict], db: Path, cwd: Path) -> None:
    src = cwd / f"{db.stem}-lines.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    p = harness("ingest", src, "--db", db, cwd=cwd)
    if p.returncode != 0:
        raise RuntimeError(f"ingest failed: {p.stderr}")


# --- the checks ----------------------------------------------------------------------------------------


def compare_at_80_columns(tmp: Path) -> str | None:
    from harness.analysis import numbers

    db = tmp / "cmp.duckdb"
    small, large = "demo-small-finetuned", "demo-large-reference"
    ingest(answers(small, "arith", 14) + answers(small, "gsm8k", 9) + answers(large, "arith", 31)
           + answers(large, "gsm8k", 22), db, tmp)
    text = harness("compare", small, "vs", large, "--db", db, cwd=tmp, env={"COLUMNS": "80"}).stdout
    doc = json.loads(harness("compare", small, "vs", large, "--db", db, "--format", "json", cwd=tmp).stdout)
    wide = [line for line in text.splitlines() if len(line) > 80]
    if wide or "…" in text:
        return f"lines over 80 columns or cut cells: {wide[:2]} {'…' in text}"
    whole = []
    for t in [*doc["tasks"], doc["overall"]]:
        for s in (t["a"], t["b"]):
            whole.append(f"{numbers.pct(s['score'])} [{numbers.pct(s['ci_low'])}, {numbers.pct(s['ci_high'])}]")
        whole.append(f"{numbers.signed_pct(t['diff'])} [{numbers.signed_pct(t['diff_ci_low'])}, "
                     f"{numbers.signed_pct(t['diff_ci_high'])}]")
    lines = text.splitlines()
    cut = [w for w in whole if not any(w in line for line in lines)]
    return f"not shown whole on one line: {cut}" if cut else None


def bad_hf_path_leaves_no_store(tmp: Path) -> str | None:
    where = tmp / "hf"
    where.mkdir()
    wrong = one_line_exit_2(harness("run", "--model", "hf:/no/such/folder", "-t", "arith", "--limit", "2", cwd=where),
                            "/no/such/folder")
    left = list(where.iterdir())
    return wrong or (f"left behind: {left}" if left else None)


def bad_ingest_line_leaves_no_store(tmp: Path) -> str | None:
    where = tmp / "ingest"
    where.mkdir()
    line = {"model": "m", "task": "arith", "item_id": "0", "response": "#### 3"}
    (where / "unknown-item.jsonl").write_text(json.dumps(line) + "\n" + json.dumps({**line, "item_id": "nope"}) + "\n")
    (where / "cut-short.jsonl").write_text(json.dumps({**line, "gold": "3"}) + '\n{"model": "m", "task": "arith"\n')
    wrong = one_line_exit_2(harness("ingest", "unknown-item.jsonl", "--db", "new.duckdb", cwd=where),
                            "unknown-item.jsonl:2", "no item 'nope'")
    wrong = wrong or one_line_exit_2(harness("ingest", "cut-short.jsonl", "--db", "new.duckdb", cwd=where),
                                     "cut-short.jsonl:2", "column 31")
    left = sorted(p.name for p in where.iterdir() if not p.name.endswith(".jsonl"))
    return wrong or (f"left behind: {left}" if left else None)


def board_mean_over_shared_tasks(tmp: Path) -> str | None:
    from streamlit.testing.v1 import AppTest

    from harness.leaderboard import APP_PATH

    db = tmp / "board.duckdb"
    # The demo's trap: the base has both task sets, the large model only the first, so a mean over
    # each model's own tasks ranks them on different items.
    ingest(answers("base", "arith", 12) + answers("base", "gsm8k", 4) + answers("large", "arith", 30), db, tmp)
    os.environ["HARNESS_DB"] = str(db)
    at = AppTest.from_file(str(APP_PATH), default_timeout=120)
    at.run()
    if at.exception:
        return f"the page failed: {at.exception[0].message}"
    table = at.dataframe[0].value.set_index("model")
    mean = [c for c in table.columns if c.startswith("mean")]
    if not mean:
        return "no mean column although arith is shared"
    got = {m: table.loc[m, mean[0]] for m in table.index}
    want = {m: table.loc[m, "arith"] for m in table.index}
    said = "\n".join([*(c.value for c in at.caption)])
    if got != want:
        return f"mean {got} is not the mean over arith {want}"
    if "mean over arith" not in said:
        return f"the caption does not say which tasks: {said!r}"
    cells = table.astype(str).to_numpy().ravel().tolist()
    return "a cell reads None" if "None" in cells or "nan" in cells else None


def leaderboard_help_names_every_page(tmp: Path) -> str | None:
    from harness.leaderboard import PAGES

    text = " ".join(harness("leaderboard", "--help", cwd=tmp, env={"COLUMNS": "200"}).stdout.split())
    missing = [title for _, title, _, _ in PAGES if title not in text]
    scripts = {p.name for p in (REPO / "leaderboard" / "views").glob("*.py")}
    unlisted = scripts - {Path(s).name for s, _, _, _ in PAGES}
    return (f"help leaves out {missing}" if missing else None) or (f"pages not listed: {unlisted}" if unlisted else None)


def port_in_use_exits_2(tmp: Path) -> str | None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        return one_line_exit_2(harness("leaderboard", "--port", port, "--db", tmp / "x.duckdb", cwd=tmp), str(port))


CHECKS: list[tuple[str, Callable[[Path], str | None]]] = [
    ("compare at 80 columns shows every number whole", compare_at_80_columns),
    ("a bad hf: path exits 2 and leaves no store", bad_hf_path_leaves_no_store),
    ("bad ingest lines exit 2, at the right column, and leave no store", bad_ingest_line_leaves_no_store),
    ("the board's mean is over the shared tasks", board_mean_over_shared_tasks),
    ("leaderboard --help names every page", leaderboard_help_names_every_page),
    ("a port in use exits 2 on one line", port_in_use_exits_2),
]


def main() -> int:
    failed = 0
    with tempfile.TemporaryDirectory(prefix="newcomer-") as d:
        for name, check in CHECKS:
            where = Path(d) / check.__name__
            where.mkdir()
            try:
                wrong = check(where)
            except Exception as exc:  # a check that crashes is a failing check, said as such
                wrong = f"{type(exc).__name__}: {exc}"
            failed += wrong is not None
            print(f"{'PASS' if wrong is None else 'FAIL'}  {name}" + ("" if wrong is None else f"\n      {wrong}"),
                  flush=True)
    print(f"{len(CHECKS) - failed} of {len(CHECKS)} hold")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
