"""Hostile programs: each gets the expected verdict, and a check proves that nothing escaped.

The fork bomb is bounded first (a fixed number of forks, counted); the unbounded one runs only once the
process limit is proven to bind. No assertion is about time: sleeps only give an escaped process the
chance to show itself.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest

from harness.sandbox import Isolation, Job, Limits, Sandbox, probe

NPROC = 24


WITHOUT_NAMESPACES = Isolation(namespaces=(), drop_privileges=os.geteuid() == 0,
                               notes=("namespaces disabled",))


@pytest.fixture(scope="module", params=["best", "no-namespaces"])
def sandbox(request):
    """Every hostile program runs twice: with the best isolation this machine has, and without any
    namespace (as in a container that forbids them), where the uid alone must hold."""
    iso = probe() if request.param == "best" else WITHOUT_NAMESPACES
    if not iso.drop_privileges and not iso.pid_ns:
        pytest.skip("no isolation to test here: not root (no sandbox uid) and no PID namespace")
    limits = Limits(timeout_s=2.0, nproc=NPROC, file_bytes=8 << 20, memory_bytes=1 << 30)
    with Sandbox(limits, workers=2, isolation=iso) as sb:
        yield sb


def sandbox_processes(uids) -> list[int]:
    """Pids of live (non-zombie) processes owned by the sandbox uids."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        uid = int(fields.get("Uid", "-1").split()[0])
        if uid in uids and not fields.get("State", "").startswith("Z"):
            found.append(int(entry.name))
    return found


def assert_nothing_left(sandbox):
    if sandbox.uids:
        assert sandbox_processes(set(sandbox.uids)) == []
    assert not any(p.name.startswith("run-") for p in sandbox._base.iterdir()), "run folders are removed"


def need_root():
    if os.geteuid() != 0:
        pytest.skip("not root: programs run as the caller, so these protections do not apply")


@pytest.mark.slow
def test_infinite_loop_times_out(sandbox):
    out = sandbox.run(Job("while True:\n    pass\n", "assert True\n"))
    assert out.status == "timeout"
    assert "timeout" in out.describe()
    assert_nothing_left(sandbox)


@pytest.mark.slow
def test_sleeping_program_times_out_on_wall_clock(sandbox):
    out = sandbox.run(Job("import time\ntime.sleep(60)\n", "assert True\n"))
    assert out.status == "timeout"


def test_30_gib_allocation_is_refused(sandbox):
    out = sandbox.run(Job("x = bytearray(30 * 2**30)\n", "assert True\n"))
    assert out.status == "error" and out.error == "MemoryError"


@pytest.mark.slow
def test_gradual_memory_hog_is_stopped(sandbox):
    out = sandbox.run(Job("chunks = []\nwhile True:\n    chunks.append(bytearray(50 << 20))\n", "assert True\n"))
    assert out.status in ("error", "exited", "timeout") and not out.passed  # timeout: a very loaded machine
    assert_nothing_left(sandbox)


BOUNDED_BOMB = """
import os, time
made = 0
for _ in range(%d):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    made += 1
print(made)
"""


@pytest.mark.slow
def test_fork_bomb_bounded_then_unbounded(sandbox):
    need_root()
    out = sandbox.run(Job(BOUNDED_BOMB % (4 * NPROC), "assert True\n"))
    made = int(out.stdout.strip())
    assert made < NPROC, "the process limit binds the sandbox uid"
    assert_nothing_left(sandbox)  # the sleeping children were swept
    # Proven bounded: now the real thing.
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    out = sandbox.run(Job(bomb, "assert True\n"))
    assert out.status == "timeout"
    assert_nothing_left(sandbox)
    assert sandbox.run(Job("x = 1\n", "assert x == 1\n")).passed, "the slot still works"


def test_writing_and_deleting_outside_the_sandbox_fails(sandbox):
    need_root()
    outside = Path(tempfile.mkdtemp(prefix="harness-outside-"))
    try:
        outside.chmod(0o755)
        victim = outside / "keep.txt"
        victim.write_text("original")
        victim.chmod(0o644)
        shared = Path("/tmp") / f"harness-escape-{secrets.token_hex(6)}"
        prog = f"""
import os
results = []
for action in (lambda: open({str(outside / 'new.txt')!r}, 'w').write('x'),
               lambda: open({str(victim)!r}, 'w').write('overwritten'),
               lambda: os.remove({str(victim)!r}),
               lambda: os.rename({str(victim)!r}, {str(outside / 'moved')!r}),
               lambda: os.chmod({str(outside)!r}, 0o777)):
    try:
        action()
        results.append('done')
    except OSError as exc:
        results.append(type(exc).__name__)
print(results)
try:
    open({str(shared)!r}, 'w').write('escaped')
except OSError:
    pass  # refused outright under Landlock; else swept after the run
"""
        out = sandbox.run(Job(prog, "assert True\n"))
        assert out.passed, out.describe()
        # Refused (Landlock, the uid), or not even there (a private /tmp hides the host's).
        assert out.stdout.strip() in (str(["PermissionError"] * 5), str(["FileNotFoundError"] * 5))
        assert victim.read_text() == "original"
        assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
        assert stat.S_IMODE(outside.stat().st_mode) == 0o755
        assert not shared.exists(), "files a run leaves in /tmp are removed with it"
    finally:
        for p in outside.iterdir():
            p.unlink()
        outside.rmdir()


def test_loopback_listener_is_unreachable(sandbox):
    if not sandbox.isolation.network_ns:
        pytest.skip("no network namespace in this configuration (the verdict details say so)")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        prog = (f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                "s.sendall(b'stolen')\n")
        out = sandbox.run(Job(prog, "assert True\n"))
        assert out.status == "error" and out.error in ("ConnectionRefusedError", "OSError", "TimeoutError", "PermissionError")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


def test_callers_environment_is_not_readable(sandbox, monkeypatch):
    need_root()
    token = "secret-" + secrets.token_hex(8)
    monkeypatch.setenv("HARNESS_HOSTILE_SECRET", token)
    prog = f"""
import os
print(dict(os.environ))
for path in ('/proc/{os.getpid()}/environ', '/proc/{os.getppid()}/environ', '/proc/1/environ'):
    try:
        print(open(path, 'rb').read())
    except OSError as exc:
        print(type(exc).__name__)
"""
    out = sandbox.run(Job(prog, "assert True\n"))
    assert out.passed
    assert token not in out.stdout and "HARNESS_HOSTILE_SECRET" not in out.stdout
    assert out.stdout.count("PermissionError") == 3


def test_sys_exit_before_the_tests_is_not_a_pass(sandbox):
    prog = "def f():\n    return 1\n"
    assert sandbox.run(Job(prog, "assert f() == 1\n")).passed
    out = sandbox.run(Job(prog + "import sys\nsys.exit(0)\n", "assert f() == 1\n"))
    assert out.status == "error" and not out.passed
    assert "exited before the tests completed" in out.describe()


def test_os_exit_at_import_is_not_a_pass(sandbox):
    out = sandbox.run(Job("import os\nos._exit(0)\n", "assert True\n"))
    assert out.status == "exited" and out.returncode == 0 and not out.passed


def test_exit_inside_the_tests_is_not_a_pass(sandbox):
    prog = "import os\ndef f():\n    os._exit(0)\n"
    out = sandbox.run(Job(prog, "assert f() == 1\n"))
    assert out.status == "exited" and not out.passed


def test_forged_marker_is_not_a_pass(sandbox):
    prog = ("import os\nfor fd in range(3, 64):\n    try:\n"
            "        os.write(fd, b\"\\n{'kind': 'tests', 'status': 'passed', 'nonce': 'x'}\\n\")\n"
            "    except OSError:\n        pass\nos._exit(0)\n")
    out = sandbox.run(Job(prog, "assert True\n"))
    assert not out.passed


def test_killing_the_parent_does_not_reach_the_harness(sandbox):
    prog = f"""
import os, signal
for target in (os.getppid(), {os.getpid()}):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError as exc:
        print(type(exc).__name__)
for how in (lambda: os.killpg({os.getpgid(0)}, signal.SIGKILL), lambda: os.kill(-1, signal.SIGKILL)):
    try:
        how()
    except OSError as exc:
        print(type(exc).__name__)
"""
    out = sandbox.run(Job(prog, "assert True\n"))
    assert not out.status == "timeout"
    # Still here, and the sandbox still works.
    assert sandbox.run(Job("x = 2\n", "assert x == 2\n")).passed


@pytest.mark.slow
def test_detached_child_is_killed(sandbox):
    need_root()
    marker = Path("/tmp") / f"harness-detached-{secrets.token_hex(6)}"
    prog = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(40):
            time.sleep(0.1)
            with open({str(marker)!r}, 'a') as fh:
                fh.write('still alive\\n')
    os._exit(0)
def f():
    return 1
"""
    out = sandbox.run(Job(prog, "assert f() == 1\n"))
    assert out.passed
    time.sleep(1.0)  # an escaped child would write within 0.1 s
    assert not marker.exists()
    assert_nothing_left(sandbox)


def test_four_gib_file_is_stopped(sandbox):
    prog = "with open('big', 'wb') as fh:\n    for _ in range(4096):\n        fh.write(b'x' * (1 << 20))\n"
    out = sandbox.run(Job(prog, "assert True\n"))
    assert out.status == "error" and "File too large" in (out.message or "")
    assert_nothing_left(sandbox)


def test_200_mib_on_stdout_is_capped(sandbox):
    out = sandbox.run(Job("import sys\nfor _ in range(200):\n    sys.stdout.write('y' * (1 << 20))\n", "assert True\n"))
    assert not out.passed
    assert len(out.stdout) <= sandbox.limits.capture_bytes + 100
    assert out.stdout.endswith("[... output truncated]")


def test_harness_survives_and_nothing_is_left(sandbox):
    assert sandbox.run(Job("def f():\n    return 3\n", "assert f() == 3\n")).passed
    assert_nothing_left(sandbox)
