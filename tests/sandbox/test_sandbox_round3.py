"""Red team, round 3, at the sandbox: channels between programs (SysV and POSIX IPC, keyrings, /dev/shm),
traces after the run, folders and signals that used to crash the harness, reports made to load it.
Every check of "nothing left" looks at the machine itself (/proc/sysvipc, /tmp, the process table)."""

from __future__ import annotations

import json
import os
import secrets
import signal
from pathlib import Path

import pytest

from harness.sandbox import Isolation, Job, Limits, Sandbox, probe
from harness.sandbox.plain import Malformed, decode
from harness.sandbox.runner import exit_text, read_reports
from harness.sandbox.safe import safe_repr, safe_text

WITHOUT_NAMESPACES = Isolation(namespaces=(), drop_privileges=os.geteuid() == 0, notes=("namespaces disabled",))

LIBC = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"


@pytest.fixture(scope="module", params=["best", "no-namespaces"])
def sandbox(request):
    iso = probe() if request.param == "best" else WITHOUT_NAMESPACES
    if not iso.drop_privileges and not iso.pid_ns:
        pytest.skip("no isolation to test here: not root (no sandbox uid) and no PID namespace")
    with Sandbox(Limits(timeout_s=3.0, disk_bytes=32 << 20), workers=2, isolation=iso) as sb:
        yield sb


@pytest.fixture(scope="module")
def isolated():
    iso = probe()
    if not {"ipc", "mount", "pid"} <= set(iso.namespaces):
        pytest.skip(f"this machine refuses the namespaces these checks need ({iso.notes})")
    with Sandbox(Limits(timeout_s=3.0, disk_bytes=32 << 20), workers=2, isolation=iso) as sb:
        yield sb


def sysv_objects(uids=None) -> dict[str, list[list[str]]]:
    """Rows of /proc/sysvipc/{msg,shm,sem}, optionally only those owned by `uids`."""
    out = {}
    for kind, uid_col in (("msg", 7), ("shm", 7), ("sem", 4)):
        rows = [r.split() for r in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]]
        out[kind] = [r for r in rows if uids is None or int(r[uid_col]) in uids]
    return out


def keys_with(key: int) -> list[str]:
    return [kind for kind, rows in sysv_objects().items() for r in rows if int(r[0]) == key]


def assert_nothing_left(sandbox):
    assert sysv_objects(set(sandbox.uids)) == {"msg": [], "shm": [], "sem": []}
    left = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) in set(sandbox.uids)]
    assert left == [], "no process of a sandbox uid outlives its run"
    assert not any(p.name.startswith("run-") for p in sandbox._base.iterdir())


def _uid_of(pid: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


POST = LIBC + """
key = {key}
q = libc.msgget(key, 0o1666)
msg = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + 64)
ctypes.c_long.from_buffer(msg).value = 1
msg[8:8 + 6] = b'answer'
print('queue', q, libc.msgsnd(q, msg, 64, 0))
s = libc.shmget(key, 128 << 20, 0o1666)
print('shm', s)
if s >= 0:
    libc.shmat.restype = ctypes.c_void_p
    addr = libc.shmat(s, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memset(addr, 1, 128 << 20)  # resident: 128 MB of RAM while the segment lives
print('sem', libc.semget(key, 1, 0o1666))
mq = libc.mq_open(b'/harness-{key}', 0o102, 0o666, None)
print('mq', mq, ctypes.get_errno())
key_id = libc.syscall(248, b'user', b'harness-{key}', b'secret', 6, -4)
print('keyring', key_id, ctypes.get_errno())
"""

READ = LIBC + """
import time
key = {key}
seen = []
for _ in range({tries}):
    for name, r in (('queue', libc.msgget(key, 0)), ('shm', libc.shmget(key, 0, 0)), ('sem', libc.semget(key, 0, 0))):
        if r >= 0:
            seen.append(name)
    if libc.mq_open(b'/harness-{key}', 0, 0, None) >= 0:
        seen.append('mq')
    if libc.syscall(249, b'user', b'harness-{key}', None, 0) >= 0:
        seen.append('keyring')
    if seen:
        break
    time.sleep(0.05)
print(sorted(set(seen)))
"""


def test_ipc_posted_by_one_run_is_not_seen_by_the_next_nor_left_behind(sandbox):
    key = int.from_bytes(secrets.token_bytes(3), "big") + 1
    post = sandbox.run(Job(POST.format(key=key), "assert True\n"))
    assert post.passed, post.describe()
    assert "queue" in post.stdout
    # A later run, and a later sandbox (a separate scoring run), find nothing.
    assert sandbox.run(Job(READ.format(key=key, tries=1), "assert True\n")).stdout.strip() == "[]"
    with Sandbox(Limits(timeout_s=3.0), workers=1, isolation=sandbox.isolation) as other:
        assert other.run(Job(READ.format(key=key, tries=1), "assert True\n")).stdout.strip() == "[]"
    assert keys_with(key) == [], "no SysV object of the run is left on the machine"
    assert "keyring -1" in post.stdout or not sandbox.isolation.seccomp, "the keyrings are refused"
    assert_nothing_left(sandbox)


def test_concurrent_programs_share_no_ipc(isolated):
    key = int.from_bytes(secrets.token_bytes(3), "big") + 1
    holder = POST.format(key=key) + "import time\ntime.sleep(1.5)\n"
    reader = READ.format(key=key, tries=20)
    outs = isolated.run_many([Job(holder, "assert True\n"), Job(reader, "assert True\n")])
    assert outs[0].passed and "queue" in outs[0].stdout
    assert outs[1].stdout.strip() == "[]", "the reader, running meanwhile, sees none of the holder's objects"
    assert keys_with(key) == []
    assert_nothing_left(isolated)


def test_each_run_has_its_own_tmp_and_shm_capped_on_disk(isolated):
    name = "harness-r3-" + secrets.token_hex(6)
    prog = f"""
import os
for d in ('/tmp', '/var/tmp', '/dev/shm'):
    print(d, sorted(os.listdir(d)))
open('/dev/shm/{name}', 'w').write('x')
written = 0
try:
    for i in range(50):
        with open('/tmp/f%d' % i, 'wb') as fh:
            fh.write(b'x' * (8 << 20))
        written += 8
except OSError as exc:
    print('refused', exc.errno)
print('written', written)
"""
    out = isolated.run(Job(prog, "assert True\n"))
    lines = out.stdout.splitlines()
    assert lines[:3] == ["/tmp []", "/var/tmp []", "/dev/shm []"], out.stdout
    assert "refused 28" in out.stdout  # ENOSPC: the run's disk is capped, not just each file
    assert int(lines[-1].split()[1]) <= 32
    assert not Path("/dev/shm", name).exists() and not Path("/tmp", name).exists()
    assert_nothing_left(isolated)


def test_deep_folder_chain_is_removed_and_the_harness_survives(sandbox):
    prog = ("import os\nfor i in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\n"
            "open('leaf', 'w').write('x')\nos.chmod('.', 0)\n")
    out = sandbox.run(Job(prog, "assert True\n"))
    assert out.passed, out.describe()
    assert_nothing_left(sandbox)
    assert sandbox.run(Job("x = 1\n", "assert x == 1\n")).passed


def test_realtime_signal_is_named_by_number(sandbox):
    out = sandbox.run(Job("import os\nos.kill(os.getpid(), 40)\nimport time\ntime.sleep(0.2)\n", "assert True\n"))
    if out.status == "exited":  # without a PID namespace the signal kills it; as PID 1 it is ignored
        assert "killed by signal 40" in out.describe() or "SIGRTMIN" in out.describe()
    assert exit_text(-99) == "killed by signal 99"
    assert exit_text(-signal.SIGKILL) == "killed by signal SIGKILL" and exit_text(3) == "exit status 3"


def test_a_program_that_dies_costs_the_others_nothing(sandbox):
    outs = sandbox.run_many([Job("import os\nos._exit(3)\n", "assert True\n"),
                             Job("x = 2\n", "assert x == 2\n")])
    assert outs[0].status == "exited" and outs[1].passed


def test_forged_and_oversized_reports_are_no_reports(tmp_path):
    nonce = "n" * 32
    path = tmp_path / "report"
    good = json.dumps({"nonce": nonce, "kind": "tests", "status": "passed"})
    with open(path, "wb") as fh:
        fh.write(b"[" * 200_000 + nonce.encode() + b"\n")  # nested too deep
        fh.write(b'{"nonce": "' + nonce.encode() + b'", "kind": "tests", "line": ' + b"9" * 5000 + b"}\n")
        fh.write(b"\xff\xfe" + nonce.encode() + b"\n")
        fh.write(("x" * 100 + nonce + "\n").encode())
        fh.write(good.encode() + b"\n")
    with open(path, "rb") as fh:
        assert read_reports(fh, nonce) == {"tests": json.loads(good)}
    with open(path, "rb") as fh:
        assert read_reports(fh, nonce, cap=10) == {}, "only the tail up to the cap is read"


def test_colliding_hashes_are_refused_when_decoding():
    node = ["S", [["i", format(i * (2 ** 61 - 1), "x")] for i in range(5000)]]
    with pytest.raises(Malformed, match="hash alike"):
        decode(node)
    assert decode(["S", [["i", format(i, "x")] for i in range(5000)]]) == set(range(5000))
    assert decode(["C", [["s", "a"], ["i", "2"]]]) == {"a": 2} and type(decode(["C", []])).__name__ == "Counter"


def test_safe_text_and_repr():
    assert safe_text("a\ud800b\x00c") == "a\\ud800b\\x00c"
    safe_text("\udfff" * 10).encode("utf-8")
    assert safe_repr(1 << 20000) == "<int of 20001 bits>"
    assert safe_repr({10 ** 5000}) == "{<int of 16610 bits>}"
    assert len(safe_repr(list(range(10 ** 6)), 50)) <= 53
    nested = []
    for _ in range(10_000):
        nested = [nested]
    assert safe_repr(nested).startswith("[[[[")


def test_nothing_of_a_sandbox_is_left_after_close():
    before = set(Path("/tmp").glob("harness-sandbox-*"))
    sb = Sandbox(Limits(timeout_s=3.0), workers=2)
    base = sb._base
    pids = []
    try:
        assert sb.run(Job("import os\nif os.fork() == 0:\n    import time\n    time.sleep(60)\n", "assert True\n")).passed
        pids = [z.proc.pid for z in sb._zygotes if z.proc is not None]
    finally:
        sb.close()
    assert not base.exists()
    assert set(Path("/tmp").glob("harness-sandbox-*")) <= before
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    if sb.uids:
        assert sysv_objects(set(sb.uids)) == {"msg": [], "shm": [], "sem": []}


def test_a_dead_zygote_is_replaced(isolated):
    for z in isolated._zygotes:
        if z.proc is not None:
            z.proc.kill()
            z.proc.wait()
    outs = isolated.run_many([Job("x = 3\n", "assert x == 3\n")] * 4)
    assert all(o.passed for o in outs), [o.describe() for o in outs]


def test_isolation_in_force_is_in_the_outcome(isolated):
    out = isolated.run(Job("x = 1\n", "assert x == 1\n"))
    for layer in ("own ipc+uts+pid+net+mount namespaces", "private /tmp", "seccomp"):
        assert layer in out.isolation, out.isolation


def test_outputs_beyond_the_plain_budget_are_too_large(isolated):
    no_args = ["t", [["t", []], ["d", []]]]
    prog = "def f():\n    return list(range(10 ** 6))\ndef g():\n    return 'x' * 100\n"
    out = isolated.run(Job(prog, "", mode="cases", cases=(("f", no_args, ""), ("g", no_args, ""))))
    assert out.status == "ran"
    assert [list(c) for c in out.cases] == [[False, "returned output too large"], [True, ["s", "x" * 100]]]


def test_removing_a_3000_deep_tree_cannot_raise(tmp_path):
    from harness.sandbox._child import remove_tree

    top = tmp_path / "top"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(3000):  # deeper than PATH_MAX and than the recursion limit
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=fd))
    os.symlink("/etc/passwd", "link", dir_fd=fd)
    os.close(fd)
    remove_tree(str(top))
    assert not top.exists() and Path("/etc/passwd").exists()
