"""Task options are declared on the Task and set with --task-arg NAME=VALUE (or -T), not carried in
the data Source."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.data import Source
from harness.errors import HarnessError
from harness.task import configure_tasks, parse_task_args
from harness.tasks import get_task


def test_declared_options_convert_and_bind(shared_data):
    task = get_task("mmlu_science")
    assert [o.name for o in task.options] == ["permutations", "shuffle", "shuffle_seed"]
    bound = task.configure({"permutations": "3", "shuffle": "false"})
    assert bound.args == {"permutations": 3, "shuffle": False}
    items = bound.load_items(Source.resolve(shared_data, limit=2))
    assert all(len(it.meta["perms"]) == 3 and it.meta["perms"][0] == [0, 1, 2, 3] for it in items)
    assert task.args == {}  # the registry's task is untouched


def test_bad_options_are_one_line_errors():
    task = get_task("mmlu_science")
    with pytest.raises(HarnessError, match="has no option 'permutation'; its options: permutations"):
        task.configure({"permutation": 2})
    with pytest.raises(HarnessError, match="not a valid int"):
        task.configure({"permutations": "four"})
    with pytest.raises(HarnessError, match="expected true or false"):
        task.configure({"shuffle": "maybe"})
    with pytest.raises(HarnessError, match="write NAME=VALUE"):
        parse_task_args(["permutations"])
    with pytest.raises(HarnessError, match="no task given takes option 'shuffle'; they take no options"):
        configure_tasks([get_task("arith")], {"shuffle": "1"})
    # An option binds to the tasks that declare it and skips the others.
    arith, mmlu = configure_tasks([get_task("arith"), task], {"permutations": "2"})
    assert arith.args == {} and mmlu.args == {"permutations": 2}


def test_cli_refuses_an_unknown_task_arg_without_writing(tmp_path):
    r = CliRunner().invoke(app, ["run", "--model", "hf:some-org/not-loaded", "--task", "arith", "-T", "shufle=1",
                                 "--db", str(tmp_path / "x.duckdb")])
    assert r.exit_code != 0 and "no task given takes option 'shufle'" in str(r.exception or r.output)
    assert not (tmp_path / "x.duckdb").exists()


def test_tasks_lists_options():
    r = CliRunner().invoke(app, ["tasks", "--json"])
    assert r.exit_code == 0
    import json

    doc = json.loads(r.stdout)
    assert doc["mmlu_science"]["options"]["permutations"]["default"] == 1
    assert doc["arith"]["options"] == {}
