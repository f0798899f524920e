"""`harness score`: lines with response and gold or item_id in, the same lines plus verdict and answer out."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from harness.cli.score import register, score_rows
from harness.grading import kinds


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command, so typer keeps `score` as a named subcommand
    def _noop() -> None:
        pass

    return app


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_score_generic_math(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, [
        {"response": "so \\boxed{\\frac12}", "gold": "0.5", "model": "m"},
        {"response": "The answer is 7", "gold": "The sum is $3+4=\\boxed{7}$."},
        {"response": "\\boxed{x^2+1}", "gold": "(x+1)^2"},
        {"response": "I give up.", "gold": "5"},
    ])
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["verdict"] for x in lines] == ["correct", "correct", "incorrect", "unparseable"]
    assert lines[0]["answer"] == "1/2" and lines[0]["model"] == "m"
    assert "accuracy 50.0%" in r.output  # the summary (stderr is mixed in by CliRunner)


def test_score_by_item_id_needs_a_task(tmp_path, shared_data):
    src = tmp_path / "in.jsonl"
    _write(src, [{"response": "\\boxed{(3, \\pi/2)}", "item_id": "test/precalculus/807.json"}])
    r = CliRunner().invoke(_app(), ["score", "--task", "math500", str(src), "--data-dir", str(shared_data)])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.startswith("{"))
    assert json.loads(line)["verdict"] == "correct"
    r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src)])
    assert r.exit_code == 2 and "in.jsonl:1" in r.output


def test_score_errors_name_the_line(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, [{"response": "1", "gold": "1"}, {"gold": "2"}])
    r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src)])
    assert r.exit_code == 2 and "in.jsonl:2" in r.output and "response" in r.output
    r = CliRunner().invoke(_app(), ["score", "--task", "nosuchtask", str(src)])
    assert r.exit_code == 2 and "unknown task" in r.output


def test_score_options_and_dispatch_table():
    rows = [{"response": "33.5%", "gold": "0.335"}, {"response": "0.3333", "gold": "1/3"}]
    assert [g.verdict for g in score_rows(rows, "math")] == ["incorrect", "incorrect"]
    got = score_rows(rows, "math", options={"percent": "divide", "rel_tol": 1e-3})
    assert [g.verdict for g in got] == ["correct", "correct"]
    assert "math" in kinds()


def test_score_convention_flags(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, [{"response": "\\boxed{0.6667}", "gold": "\\frac{2}{3}"}, {"response": "\\boxed{5, 3}", "gold": "3, 5"},
                 {"response": "\\boxed{3,5}", "gold": "3.5"}, {"response": "\\boxed{0.25}", "gold": "25\\%"}])

    def verdicts(*flags):
        r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src), *flags])
        assert r.exit_code == 0, r.output
        return [json.loads(x)["verdict"] for x in r.output.splitlines() if x.startswith("{")]

    assert verdicts() == ["incorrect", "correct", "incorrect", "incorrect"]
    assert verdicts("--decimals", "rounded", "--list-order", "ordered", "--decimal-comma", "--percent", "either") == [
        "correct", "incorrect", "correct", "correct"]
    r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src), "--decimals", "sloppy"])
    assert r.exit_code == 2


def test_score_named_conventions_and_a_flag_over_them(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, [{"response": "\\boxed{0.6667}", "gold": "\\frac{2}{3}"}, {"response": "\\boxed{3,5}", "gold": "3.5"},
                 {"response": "\\boxed{0.25}", "gold": "25\\%"}, {"response": "\\boxed{0.666...}", "gold": "\\frac23"}])

    def run(*flags):
        r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src), *flags])
        assert r.exit_code == 0, r.output
        return [json.loads(x)["verdict"] for x in r.output.splitlines() if x.startswith("{")], r.output

    strict, out = run()
    assert strict == ["incorrect"] * 4 and "conventions strict" in out
    lenient, out = run("--conventions", "lenient")
    assert lenient == ["correct"] * 4 and "conventions lenient" in out
    mixed, out = run("--conventions", "lenient", "--percent", "strip")
    assert mixed == ["correct", "correct", "incorrect", "correct"] and "conventions lenient, percent=strip" in out
    r = CliRunner().invoke(_app(), ["score", "--task", "math", str(src), "--conventions", "sloppy"])
    assert r.exit_code == 2
