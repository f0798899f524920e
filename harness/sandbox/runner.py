"""Run untrusted Python programs, one process each, in parallel, and say what happened.

Each run gets its own process group and session, a fresh temporary directory (removed after), stdin
from /dev/null, a scrubbed environment, rlimits (CPU, address space, processes, file size, open files),
stdout/stderr in private files capped by the file-size limit and read back up to `capture_bytes`, and,
where `isolation.probe()` found them, fresh network and PID namespaces.

As root, each slot of the pool runs its programs under a uid of its own (claimed with a lock, so two
sandboxes never share one), which makes RLIMIT_NPROC bind and lets the parent, after every run, kill
everything that uid still runs (`kill -KILL -1` as that uid: children that called setsid included)
and remove what it left at the top of /tmp, /var/tmp and /dev/shm, the folders it could write
besides its own. The program cannot signal, trace or read the parent (another uid, another process
group, and with namespaces another PID namespace); it reads the standard library through descriptors
opened before the drop, so a Python installed under a private home still works.
"""

from __future__ import annotations

import ast
import dataclasses
import marshal
import math
import os
import queue
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

from harness.sandbox.isolation import Isolation, claim_uids, probe

CHILD = str(Path(__file__).with_name("_child.py"))
# World-writable folders a dropped program can still write to (there is no mount namespace).
SHARED_DIRS = ("/tmp", "/var/tmp", "/dev/shm")

Status = Literal["passed", "failed", "error", "syntax", "timeout", "exited", "ran"]
Mode = Literal["tests", "record", "cases"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one run. `timeout_s` is the CPU limit (rounded up to whole seconds); the
    wall clock allows `WALL_SLACK` times it, more under load (see `contention`)."""

    timeout_s: float = 5.0
    memory_bytes: int = 2 << 30
    nproc: int = 64
    file_bytes: int = 16 << 20
    open_files: int = 256
    capture_bytes: int = 64 << 10

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_CPU": max(1, math.ceil(self.timeout_s)),
            "RLIMIT_AS": self.memory_bytes,
            "RLIMIT_NPROC": self.nproc,
            "RLIMIT_FSIZE": self.file_bytes,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CORE": 0,
        }


@dataclass(frozen=True, slots=True)
class Job:
    """A program, then its `tests` (run in the program's namespace; "passed" means they all ran to
    the end), then `calls` (expressions evaluated in that namespace; their canonical reprs are the
    program's behaviour, an exception counting as `!TypeName`)."""

    program: str
    tests: str = ""
    calls: tuple[str, ...] = ()
    timeout_s: float | None = None  # None: the sandbox's default limit
    # "tests": run `tests` in the program's namespace (a replay). "record": `tests` is a split test
    # (harness.grading.code.split) run against a reference program; each case's arguments, expected
    # value and the reference's output come back as plain data in Outcome.record. "cases": call the
    # program on `cases` ((callee, args, kwargs, wrapper) each, plain data) and send back only the
    # outputs (Outcome.cases, status "ran"); the child never sees an expected value.
    mode: Mode = "tests"
    cases: tuple[tuple, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    wall_s: float
    returncode: int | None
    stdout: str
    stderr: str
    error: str | None = None  # exception type
    message: str | None = None
    stage: str | None = None  # compile, program, tests
    line: int | None = None
    text: str | None = None  # the source line that failed (the assertion, for a failed test)
    where: str | None = None  # <program>, <tests> or <probe>
    outputs: tuple[str, ...] | None = None  # probe results, one per call
    inner_s: float | None = None  # program + tests, timed inside the sandbox
    notes: tuple[str, ...] = field(default_factory=tuple)
    cases: tuple | None = None  # "cases" mode: (ok, plain-encoded output or why) per case
    record: tuple | None = None  # "record" mode: one dict per case (see harness.grading.code.split)
    isolation: str = ""  # the isolation in force, in words

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def describe(self) -> str:
        """One line for a verdict's details: which assertion, the exception, the timeout, the exit."""
        if self.status == "passed":
            head = "passed"
        elif self.status == "timeout":
            cpu = self.returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU)
            head = f"timeout: {'CPU limit reached' if cpu else 'killed'} after {self.wall_s:.2f} s"
        elif self.status == "failed":
            head = f"failed assertion (tests line {self.line}): {self.text}"
            if self.message:
                head += f" -- {self.message}"
        elif self.status in ("error", "syntax"):
            place = f" at {self.where or self.stage} line {self.line}" if self.line else ""
            head = f"{'syntax error' if self.status == 'syntax' else 'crash'} in {self.stage}: {self.error}: {self.message}{place}"
            if self.text:
                head += f": {self.text}"
            if self.error == "SystemExit":
                head = f"exited before the tests completed ({self.message}, during {self.stage})"
        elif self.status == "exited":
            how = (f"killed by signal {signal.Signals(-self.returncode).name}"
                   if self.returncode is not None and self.returncode < 0 and -self.returncode in signal.valid_signals()
                   else f"exit status {self.returncode}")
            head = f"exited before the tests completed ({how})"
        elif self.status == "ran":
            head = f"ran {len(self.cases or ())} cases"
        else:
            head = self.status
        if self.notes:
            head += " [sandbox: " + "; ".join(self.notes) + "]"
        return head


class Sandbox:
    """A pool of `workers` sandbox slots (default: all cores). Thread-safe; `run_many` keeps order."""

    def __init__(self, limits: Limits | None = None, workers: int | None = None,
                 isolation: Isolation | None = None, python: str | None = None):
        self.limits = limits or Limits()
        self.workers = workers or _cores()
        self.isolation = isolation or probe()
        self.python = python or sys.executable
        self._claim = claim_uids(self.workers) if self.isolation.drop_privileges else None
        uids: list[int | None] = list(self._claim.uids) if self._claim else [None] * self.workers
        self.uids: tuple[int, ...] = tuple(u for u in uids if u is not None)
        self._base = Path(tempfile.mkdtemp(prefix="harness-sandbox-"))
        os.chmod(self._base, 0o711)  # the slot uids may enter their own run dirs, not list others
        # A sandbox nobody closed still removes its folder when collected or at interpreter exit.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._base), True)
        self._slots: queue.Queue[tuple[int, int | None]] = queue.Queue()
        for i, uid in enumerate(uids):
            self._slots.put((i, uid))
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sandbox")
        self._kill = shutil.which("kill")
        self._counter = 0
        # Without a PID namespace, orphans of a program are re-parented to init, which may never reap
        # them (it does not on these machines), and a zombie still counts against the uid's process
        # limit. As a child subreaper this process adopts them and reaps them after each run.
        self._reap = bool(self.uids) and not self.isolation.pid_ns and _become_subreaper()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._cleanup()
        if self._claim is not None:
            self._claim.release()

    def run(self, job: Job) -> Outcome:
        slot, uid = self._slots.get()
        try:
            return self._run(job, slot, uid)
        finally:
            self._slots.put((slot, uid))

    def run_many(self, jobs: Sequence[Job]) -> list[Outcome]:
        return list(self._pool.map(self.run, jobs))

    # -- one run -----------------------------------------------------------------------------------

    def _run(self, job: Job, slot: int, uid: int | None) -> Outcome:
        limits = self.limits if job.timeout_s is None else _with_timeout(self.limits, job.timeout_s)
        self._counter += 1
        run_dir = self._base / f"run-{slot}-{self._counter}-{secrets.token_hex(4)}"
        run_dir.mkdir(mode=0o700)
        if uid is not None:
            os.chown(run_dir, uid, uid)
        nonce = secrets.token_hex(16)
        spec = {"nonce": nonce, "program": job.program, "tests": job.tests, "calls": list(job.calls),
                "mode": job.mode, "cases": [tuple(c) for c in job.cases],
                "limits": limits.rlimits(), "uid": uid, "gid": uid, "cwd": str(run_dir)}
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "HOME": str(run_dir), "TMPDIR": str(run_dir), "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8"}
        with tempfile.TemporaryFile(dir=self._base) as spec_f, tempfile.TemporaryFile(dir=self._base) as rep_f, \
                tempfile.TemporaryFile(dir=self._base) as out_f, tempfile.TemporaryFile(dir=self._base) as err_f:
            spec_f.write(marshal.dumps(spec))
            spec_f.flush()
            spec_f.seek(0)
            cmd = [*self.isolation.prefix, self.python, "-S", "-B", "-P", CHILD,
                   str(spec_f.fileno()), str(rep_f.fileno())]
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f, env=env,
                                        cwd=run_dir, pass_fds=(spec_f.fileno(), rep_f.fileno()),
                                        start_new_session=True)
            except OSError as exc:
                shutil.rmtree(run_dir, ignore_errors=True)
                return Outcome("error", 0.0, None, "", "", error=type(exc).__name__, message=str(exc),
                               stage="start", notes=self.isolation.notes)
            timed_out, cpu_s = _wait(proc, limits.timeout_s * max(WALL_SLACK, contention()))
            wall = time.perf_counter() - start
            self._sweep(uid, wait=timed_out)
            reports = _read_reports(rep_f, nonce, limits.file_bytes)
            stdout = _read_head(out_f, limits.capture_bytes)
            stderr = _read_head(err_f, limits.capture_bytes)
        _remove(run_dir)
        timed_out = timed_out or (cpu_s is not None and cpu_s >= limits.rlimits()["RLIMIT_CPU"])
        out = _outcome(reports, proc.returncode, timed_out, wall, stdout, stderr, self.isolation.notes)
        inner = next((r.get("isolation") for r in reports.values() if isinstance(r.get("isolation"), list)), None)
        text = self.isolation.describe(uid) + "".join(f", {x}" for x in inner or () if isinstance(x, str))
        return dataclasses.replace(out, isolation=text)

    def _sweep(self, uid: int | None, wait: bool = False) -> None:
        """Kill every process of the slot's uid (whatever the program left, detached or not), then
        remove what it created at the top of the world-writable folders (/tmp, /var/tmp, /dev/shm).
        In a PID namespace whose first process ended by itself the kernel has already killed the
        rest (no process leaves its namespace), so only a killed run needs the sweep there."""
        if uid is None:
            return
        if wait or not self.isolation.pid_ns:
            cmd = [self._kill, "-KILL", "-1"] if self._kill else [self.python, "-S", "-c", "import os; os.kill(-1, 9)"]
            subprocess.run(cmd, user=uid, group=uid, extra_groups=[], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={}, cwd="/")
            if self._reap or wait:
                # Without a PID namespace orphans must be reaped; after a kill, a namespace's processes
                # may still be dying when `unshare` has gone: either way, wait until none is left.
                self._reap_orphans(uid, cmd)
        for shared in SHARED_DIRS:
            try:
                entries = list(os.scandir(shared))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        _remove(Path(entry.path))
                    else:
                        os.unlink(entry.path)
                except OSError:
                    pass

    def _reap_orphans(self, uid: int, kill_cmd: list[str]) -> None:
        """Reap the uid's zombies (adopted as subreaper) and repeat the kill until none is alive."""
        me = os.getpid()
        for attempt in range(200):
            alive = False
            for pid, ppid, state in _processes_of(uid):
                if state == "Z" and ppid == me:
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
                elif state != "Z":
                    alive = True
            if not alive:
                return
            subprocess.run(kill_cmd, user=uid, group=uid, extra_groups=[], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={}, cwd="/")
            time.sleep(0.005 * (attempt + 1))


def _become_subreaper() -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _processes_of(uid: int) -> list[tuple[int, int, str]]:
    """(pid, parent pid, state letter) of every process whose real uid is `uid`."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as fh:
                status = fh.read(2048)
        except OSError:
            continue
        fields = {}
        for line in status.split(b"\n"):
            key, _, value = line.partition(b":")
            if key in (b"State", b"PPid", b"Uid"):
                fields[key] = value.split()
        try:
            if int(fields[b"Uid"][0]) == uid:
                out.append((int(name), int(fields[b"PPid"][0]), fields[b"State"][0].decode()))
        except (KeyError, IndexError, ValueError):
            continue
    return out


# The calibrated limit binds CPU time (RLIMIT_CPU), which a loaded machine does not stretch; the wall
# clock, which it does, only catches programs that wait (sleep, block) and gets this much slack on top:
# a correct program on a busy CI machine must not become a timeout.
WALL_SLACK = 3.0


def contention(cap: float = 8.0) -> float:
    """How much longer than on an idle machine a program may take now: the 1-minute load average
    per core, at least 1, at most `cap`. The wall-clock limit is stretched by it; the CPU limit is
    not, so a loaded machine does not turn correct programs into timeouts and loops still end."""
    try:
        return min(cap, max(1.0, os.getloadavg()[0] / _cores()))
    except OSError:
        return 1.0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _with_timeout(limits: Limits, timeout_s: float) -> Limits:
    return Limits(timeout_s, limits.memory_bytes, limits.nproc, limits.file_bytes, limits.open_files,
                  limits.capture_bytes)


def _wait(proc: subprocess.Popen, timeout: float) -> tuple[bool, float | None]:
    """Wait for the program's first process, at most `timeout` seconds, then kill its process group
    and reap it. Returns (timed out, CPU seconds of the process and the children it reaped).
    A pidfd wakes the wait the moment the process ends (Popen.wait(timeout) polls, adding up to
    50 ms a run); the process is reaped only after the group is killed, so its pid, which names the
    group, cannot be reused meanwhile."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(proc.pid)
        proc.wait()
        return timed_out, None
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    _kill_group(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return not ready, usage.ru_utime + usage.ru_stime


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_head(fh, cap: int) -> str:
    fh.seek(0)
    data = fh.read(cap + 1)
    text = data[:cap].decode("utf-8", errors="replace")
    return text + ("\n[... output truncated]" if len(data) > cap else "")


KINDS = ("tests", "probe", "cases", "record")


def _read_reports(fh, nonce: str, cap: int = 1 << 20) -> dict[str, dict]:
    """The report lines carrying our nonce, by kind (the last of each kind wins); anything else the
    program wrote to the report file is ignored. At most the last `cap` bytes are read."""
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - cap))
    found: dict[str, dict] = {}
    for line in fh.read().splitlines():
        if nonce.encode() not in line:
            continue
        try:
            rep = ast.literal_eval(line.decode("utf-8"))
        except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError, TypeError):
            continue
        if isinstance(rep, dict) and rep.get("nonce") == nonce and rep.get("kind") in KINDS:
            found[rep["kind"]] = rep
    return found


def _remove(path: Path) -> None:
    def retry(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)


def _outcome(reports: dict[str, dict], rc: int | None, timed_out: bool, wall: float, stdout: str,
             stderr: str, notes: tuple[str, ...]) -> Outcome:
    report = reports.get("tests") or reports.get("record")
    probe = reports.get("probe")
    outputs = None if probe is None else tuple(str(o) for o in probe.get("outputs", ()))
    notes = notes + tuple(str(n) for n in (report or probe or reports.get("cases") or {}).get("notes", ()))
    if "cases" in reports:
        got = reports["cases"]
        cases = got.get("outputs")
        return Outcome("ran", wall, rc, stdout, stderr, outputs=outputs, inner_s=got.get("seconds"), notes=notes,
                       cases=tuple(cases) if isinstance(cases, list) else ())
    if report is None:
        cpu_killed = rc is not None and rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU)
        status: Status = "timeout" if timed_out or cpu_killed else "exited"
        return Outcome(status, wall, rc, stdout, stderr, outputs=outputs, notes=notes)
    return Outcome(
        status=report["status"],
        wall_s=wall,
        returncode=rc,
        stdout=stdout,
        stderr=stderr,
        error=report.get("error"),
        message=report.get("message"),
        stage=report.get("stage"),
        line=report.get("line"),
        text=report.get("text"),
        where=report.get("file"),
        outputs=outputs,
        inner_s=report.get("seconds"),
        notes=notes,
        record=tuple(report["cases"]) if isinstance(report.get("cases"), list) else None,
    )
