"""Run untrusted Python programs, one isolated process each, in parallel, and say what happened.

Each slot of the pool keeps a zygote (`_child.py`): an interpreter started once, with what every run
needs already imported, that forks one process per program into its own IPC, UTS, PID, network and
mount namespaces, with a size-capped private /tmp (also /var/tmp and /dev/shm), rlimits (CPU, address
space, processes, file size, open files), a seccomp filter (no keyrings, namespaces, mounts, ptrace),
Landlock, stdin from /dev/null, a scrubbed environment, and stdout/stderr in private files capped by the
file-size limit and read back up to `capture_bytes`. When the run ends its namespaces end with it: no
process, IPC object, message queue or file of the program outlives it.

As root, each slot runs its programs under a uid of its own (claimed with a lock, so two sandboxes
never share one), which makes RLIMIT_NPROC bind. The program cannot signal, trace or read the parent
(another uid, another PID namespace, Landlock). Where the machine refuses a layer, the run goes on
without it and the outcome's `notes` say so; without a PID namespace everything the uid still runs is
killed after each run, without a private /tmp what it left at the top of /tmp, /var/tmp and /dev/shm is
removed, without an IPC namespace its SysV objects are.

What comes back from the program is read defensively: its report is JSON lines, read from the tail
of a file up to `report_bytes`, each field checked for its type and every string made safe
(`harness.sandbox.safe`); anything malformed is no report at all, and nothing of it raises here.
"""

from __future__ import annotations

import json
import marshal
import math
import os
import queue
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

from harness.sandbox.isolation import Isolation, claim_uids, probe
from harness.sandbox.safe import safe_text

CHILD = str(Path(__file__).with_name("_child.py"))

Status = Literal["passed", "failed", "error", "syntax", "timeout", "exited", "ran"]
Mode = Literal["tests", "record", "calls", "cases", "verify"]
STATUSES = ("passed", "failed", "error", "syntax")


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one run. `timeout_s` is the CPU limit (rounded up to whole seconds); the
    wall clock allows `WALL_SLACK` times it, more under load (see `contention`). `disk_bytes` caps the
    run's private /tmp (all its files together); `report_bytes` what is read of its report, and
    `plain_units` the plain data a run may send back (nodes plus characters, all outputs together;
    beyond it an output is "too large"), which keeps a report under `report_bytes`."""

    timeout_s: float = 5.0
    memory_bytes: int = 2 << 30
    nproc: int = 64
    file_bytes: int = 16 << 20
    open_files: int = 256
    capture_bytes: int = 64 << 10
    disk_bytes: int = 64 << 20
    report_bytes: int = 4 << 20
    plain_units: int = 1 << 18

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
    # "tests": run `tests` in the program's namespace (only for trusted programs: the references).
    # "record": `tests` is a split test (harness.grading.code.split) run against a reference program;
    # each case's arguments, expected value and the reference's output come back as plain data in
    # Outcome.record. "calls": `tests` run as written, with `entry` wrapped: every outermost call's
    # arguments and output come back in Outcome.record. "cases": call the program on `cases`
    # ((callee, plain-encoded (args, kwargs), wrapper) each) and send back only the outputs
    # (Outcome.cases, status "ran"); the child never sees an expected value. "verify": `program` is
    # trusted (a reference or prompt), `tests` run with `entry` replaced by a stub that returns the
    # recorded outputs `replay` ((encoded args, ok, encoded output) per call) in order.
    mode: Mode = "tests"
    cases: tuple[tuple, ...] = ()
    entry: str = ""
    replay: tuple[tuple, ...] = ()
    # A reference or a prompt, not a sample: its plain data may take TRUSTED_SCALE times more room.
    trusted: bool = False


TRUSTED_SCALE = 16


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
    record: tuple | None = None  # "record"/"calls" mode: one dict per case (see harness.grading.code)
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
            head = f"exited before the tests completed ({exit_text(self.returncode)})"
        elif self.status == "ran":
            head = f"ran {len(self.cases or ())} cases"
        else:
            head = self.status
        if self.notes:
            head += " [sandbox: " + "; ".join(self.notes) + "]"
        return safe_text(head, 4000)


def exit_text(returncode: int | None) -> str:
    """How a process ended, in words; a signal Python has no name for is named by its number."""
    if returncode is None or returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"killed by signal {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


class SandboxError(RuntimeError):
    pass


class _Zygote:
    """One slot's zygote process and the pipe pair to it. Not thread-safe: one slot, one thread."""

    def __init__(self, python: str, config: dict):
        self.python, self.config = python, config
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8", "HOME": "/tmp", "TMPDIR": "/tmp"}
        self.proc = subprocess.Popen([self.python, "-S", "-B", "-P", CHILD, "serve", json.dumps(self.config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd="/", start_new_session=True, bufsize=0)
        ready = self._receive(60.0)
        if not ready.get("ready"):
            raise SandboxError(f"the sandbox zygote did not start ({ready})")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                proc.kill()
                proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            for pipe in (proc.stdin, proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass

    def run(self, spec: dict, wait_s: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self.start()
        data = marshal.dumps(spec)
        try:
            self.proc.stdin.write(b"J" + len(data).to_bytes(8, "little") + data)
            return self._receive(wait_s)
        except (OSError, SandboxError, EOFError, ValueError) as exc:
            self.stop()  # a zygote out of step is replaced before the next run
            raise SandboxError(f"{type(exc).__name__}: {exc}") from None

    def _receive(self, wait_s: float) -> dict:
        fd = self.proc.stdout.fileno()
        head = self._read(fd, 8, wait_s)
        n = int.from_bytes(head, "little")
        if n > 1 << 20:
            raise SandboxError("oversized answer from the zygote")
        answer = marshal.loads(self._read(fd, n, wait_s))
        if not isinstance(answer, dict):
            raise SandboxError("malformed answer from the zygote")
        return answer

    @staticmethod
    def _read(fd: int, n: int, wait_s: float) -> bytes:
        end = time.monotonic() + wait_s
        chunks = []
        while n > 0:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise SandboxError("the zygote did not answer in time")
            chunk = os.read(fd, n)
            if not chunk:
                raise EOFError("the zygote ended")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)


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
        self._zygotes = [_Zygote(self.python, self.isolation.config()) for _ in uids]
        # A sandbox nobody closed still stops its zygotes and removes its folder when collected.
        self._cleanup = weakref.finalize(self, _close, self._zygotes, str(self._base))
        self._slots: queue.Queue[tuple[int, int | None]] = queue.Queue()
        for i, uid in enumerate(uids):
            self._slots.put((i, uid))
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sandbox")
        self._lock = threading.Lock()
        self._counter = 0

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
        except Exception as exc:  # noqa: BLE001 - one program never costs the others their outcome
            return Outcome("error", 0.0, None, "", "", error="SandboxError",
                           message=safe_text(f"{type(exc).__name__}: {exc}", 500), stage="sandbox",
                           notes=self.isolation.notes, isolation=self.isolation.describe(uid))
        finally:
            self._slots.put((slot, uid))

    def run_many(self, jobs: Sequence[Job]) -> list[Outcome]:
        return list(self._pool.map(self.run, jobs))

    # -- one run -----------------------------------------------------------------------------------

    def _run(self, job: Job, slot: int, uid: int | None) -> Outcome:
        limits = self.limits if job.timeout_s is None else _with_timeout(self.limits, job.timeout_s)
        with self._lock:
            self._counter += 1
            tag = f"{slot}-{self._counter}-{secrets.token_hex(4)}"
        files = {k: self._base / f"{k}-{tag}" for k in ("out", "err", "report")}
        for path in files.values():
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        nonce = secrets.token_hex(16)
        wall_s = limits.timeout_s * max(WALL_SLACK, contention())
        spec = {"nonce": nonce, "program": job.program, "tests": job.tests, "calls": list(job.calls),
                "mode": job.mode, "cases": [tuple(c) for c in job.cases], "entry": job.entry,
                "replay": [tuple(c) for c in job.replay], "limits": limits.rlimits(), "uid": uid, "gid": uid,
                "run_dir": str(self._base / f"run-{tag}"), "files": {k: str(p) for k, p in files.items()},
                "wall_s": wall_s, "disk_bytes": limits.disk_bytes, "inodes": 20000,
                "seccomp": self.isolation.seccomp, "landlock": self.isolation.landlock,
                "budget": limits.plain_units * (TRUSTED_SCALE if job.trusted else 1)}
        try:
            answer = self._zygotes[slot].run(spec, wall_s + 60.0)
            with open(files["report"], "rb") as fh:
                reports = read_reports(fh, nonce, limits.report_bytes * (TRUSTED_SCALE if job.trusted else 1))
            stdout = _read_head(files["out"], limits.capture_bytes)
            stderr = _read_head(files["err"], limits.capture_bytes)
        finally:
            for path in files.values():
                try:
                    path.unlink()
                except OSError:
                    pass
        if answer.get("error") or not isinstance(answer.get("wall"), float):
            self._zygotes[slot].stop()  # its pipe may hold the rest of this job: start afresh next time
            raise SandboxError(str(answer.get("error") or "no answer from the sandbox worker"))
        rc = answer.get("rc") if isinstance(answer.get("rc"), int) else None
        cpu_s = answer.get("cpu") if isinstance(answer.get("cpu"), float) else None
        timed_out = bool(answer.get("timed_out")) or (cpu_s is not None and cpu_s >= limits.rlimits()["RLIMIT_CPU"])
        notes = self.isolation.notes + tuple(safe_text(n, 300) for n in answer.get("notes") or () if isinstance(n, str))
        out = _outcome(reports, rc, timed_out, answer["wall"], stdout, stderr, notes)
        inner = next((r.get("isolation") for r in reports.values() if isinstance(r.get("isolation"), list)), None)
        text = self.isolation.describe(uid, None if inner is None else
                                       tuple(safe_text(x, 200) for x in inner[:10] if isinstance(x, str)))
        return _replace(out, isolation=text)


def _close(zygotes: list[_Zygote], base: str) -> None:
    for z in zygotes:
        z.stop()
    _remove_tree(base)


def _remove_tree(path: str) -> None:
    """Remove the sandbox's folder, whatever a run left in it (iterative: no depth overflows it;
    never raises)."""
    from harness.sandbox._child import remove_tree

    remove_tree(path)


def _replace(out: Outcome, **changes) -> Outcome:
    import dataclasses

    return dataclasses.replace(out, **changes)


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
    return _replace_limits(limits, timeout_s)


def _replace_limits(limits: Limits, timeout_s: float) -> Limits:
    import dataclasses

    return dataclasses.replace(limits, timeout_s=timeout_s)


def _read_head(path: Path, cap: int) -> str:
    with open(path, "rb") as fh:
        data = fh.read(cap + 1)
    text = safe_text(data[:cap].decode("utf-8", errors="replace"), cap)
    return text + ("\n[... output truncated]" if len(data) > cap else "")


KINDS = ("tests", "probe", "cases", "record")


def read_reports(fh, nonce: str, cap: int = 16 << 20) -> dict[str, dict]:
    """The report lines carrying our nonce, by kind (the last of each kind wins); anything else the
    program wrote to the report file is ignored. At most the last `cap` bytes are read, each line is
    JSON (linear to decode; no literal_eval, no sets, no ints over the digit limit), and a line that
    does not decode to a dict of the expected shape counts as no line."""
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - cap))
    found: dict[str, dict] = {}
    mark = nonce.encode()
    for line in fh.read(cap).split(b"\n"):
        if mark not in line:
            continue
        try:
            rep = json.loads(line)
        except (ValueError, RecursionError, MemoryError, UnicodeDecodeError):
            continue
        if type(rep) is dict and rep.get("nonce") == nonce and rep.get("kind") in KINDS:
            found[rep["kind"]] = rep
    return found


def _str(value, cap: int = 2000) -> str | None:
    return safe_text(value, cap) if isinstance(value, str) else None


def _outcome(reports: dict[str, dict], rc: int | None, timed_out: bool, wall: float, stdout: str,
             stderr: str, notes: tuple[str, ...]) -> Outcome:
    report = reports.get("tests") or reports.get("record")
    probe = reports.get("probe")
    outputs = None
    if probe is not None and isinstance(probe.get("outputs"), list):
        outputs = tuple(_str(o) or "?" for o in probe["outputs"][:1000])
    extra = (report or probe or reports.get("cases") or {}).get("notes")
    notes = notes + tuple(safe_text(n, 300) for n in (extra if isinstance(extra, list) else ())[:20] if isinstance(n, str))
    seconds = lambda r: r.get("seconds") if type(r.get("seconds")) is float else None  # noqa: E731
    if "cases" in reports:
        got = reports["cases"]
        cases = got.get("outputs")
        return Outcome("ran", wall, rc, stdout, stderr, outputs=outputs, inner_s=seconds(got), notes=notes,
                       cases=tuple(cases) if isinstance(cases, list) else ())
    if report is None or report.get("status") not in STATUSES:
        cpu_killed = rc is not None and rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU)
        status: Status = "timeout" if timed_out or cpu_killed else "exited"
        return Outcome(status, wall, rc, stdout, stderr, outputs=outputs, notes=notes)
    line = report.get("line")
    return Outcome(
        status=report["status"],
        wall_s=wall,
        returncode=rc,
        stdout=stdout,
        stderr=stderr,
        error=_str(report.get("error"), 200),
        message=_str(report.get("message"), 500),
        stage=_str(report.get("stage"), 20),
        line=line if type(line) is int and 0 <= line < 1 << 31 else None,
        text=_str(report.get("text"), 300),
        where=_str(report.get("file"), 20),
        outputs=outputs,
        inner_s=seconds(report),
        notes=notes,
        record=tuple(report["cases"]) if isinstance(report.get("cases"), list) else None,
    )
