"""What isolation this machine allows, probed once per process.

As root the sandbox enters fresh network and PID namespaces with `unshare` (no network; every process
of a run dies with it) and drops each program to an unprivileged uid of its own, so RLIMIT_NPROC binds
and a leftover process can be swept by uid. Without root it tries an unprivileged user namespace for
the same network and PID isolation. Whatever is missing is written into `notes`, which the grader
copies into every verdict's details, so a weaker sandbox is never silent.
"""

from __future__ import annotations

import fcntl
import functools
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Sandbox uids are claimed from BASE_UID up (see claim_uids). Below 65534 (nobody) so a container that
# maps only 65,536 ids still has them; a uid that belongs to a real account is skipped.
BASE_UID = 61000
NO_NAMESPACES_ENV = "HARNESS_SANDBOX_NO_NAMESPACES"

_PLANS_ROOT = (
    ("--net", "--pid", "--fork", "--kill-child"),
    ("--net",),
)
_PLANS_USER = (
    ("--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"),
    ("--user", "--map-root-user", "--net"),
)


@dataclass(frozen=True, slots=True)
class Isolation:
    """How programs are started: `prefix` goes before the interpreter on the command line."""

    prefix: tuple[str, ...]
    drop_privileges: bool  # root: each run drops to its slot's uid
    network_ns: bool
    pid_ns: bool
    notes: tuple[str, ...]  # what is missing, in words; empty when fully isolated

    def describe(self, uid: int | None = None) -> str:
        """The isolation in force for one run, in words (copied into every code verdict's detail)."""
        parts = [f"uid {uid}" if uid is not None else "caller's uid"]
        ns = [n for n, on in (("pid", self.pid_ns), ("net", self.network_ns)) if on]
        parts.append(f"{'+'.join(ns)} namespaces" if ns else "no namespaces")
        parts.append("rlimits cpu/memory/procs/fsize")
        if self.notes:
            parts.append("missing: " + "; ".join(self.notes))
        return ", ".join(parts)


def _works(cmd: list[str]) -> str | None:
    """None when `cmd` runs and exits 0, else a short reason."""
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if res.returncode != 0:
        return (res.stderr.decode(errors="replace").strip().splitlines() or [f"exit {res.returncode}"])[-1]
    return None


@functools.cache
def probe(namespaces: bool = True) -> Isolation:
    """The strongest isolation that works here (cached). `namespaces=False` (or the environment
    variable HARNESS_SANDBOX_NO_NAMESPACES=1) skips namespaces, e.g. to test the fallback."""
    root = os.geteuid() == 0
    notes: list[str] = []
    if not root:
        notes.append("not root: programs run as the calling user (RLIMIT_NPROC counts all of its processes)")
    unshare = shutil.which("unshare")
    prefix: tuple[str, ...] = ()
    if not namespaces or os.environ.get(NO_NAMESPACES_ENV) == "1":
        notes.append("namespaces disabled: network allowed, detached children swept by uid only")
    elif unshare is None:
        notes.append("no `unshare` command: network allowed, no PID namespace")
    else:
        reasons = []
        for plan in _PLANS_ROOT if root else _PLANS_USER:
            why = _works([unshare, *plan, "--", "true"])
            if why is None:
                prefix = (unshare, *plan, "--")
                break
            reasons.append(why)
        if not prefix:
            notes.append(f"no network/PID namespaces (unshare failed: {reasons[-1]}): network allowed")
        elif "--pid" not in prefix:
            notes.append("no PID namespace: detached children swept by uid only")
    return Isolation(
        prefix=prefix,
        drop_privileges=root,
        network_ns="--net" in prefix,
        pid_ns="--pid" in prefix,
        notes=tuple(notes),
    )


def _lock_dir() -> Path:
    """One folder per machine (and user) where uid claims are locked, private to the caller: /run if
    it may write there, else a folder of its own in the temp folder, checked to be its own."""
    import tempfile

    for cand in (Path("/run/harness-sandbox-uids"), Path(tempfile.gettempdir()) / f"harness-sandbox-uids-{os.geteuid()}"):
        try:
            cand.mkdir(mode=0o700, exist_ok=True)
            st = cand.lstat()
        except OSError:
            continue
        if st.st_uid == os.geteuid() and (st.st_mode & 0o077) == 0 and not cand.is_symlink():
            return cand
    raise RuntimeError("no private folder for sandbox uid locks (/run or the temp folder)")


@dataclass
class UidClaim:
    """Uids held by one sandbox: a lock per uid, so two sandboxes (in one process or in several)
    never share a uid and never sweep each other's programs. Released by `release()` or at exit."""

    uids: list[int]
    _fds: list[int]

    def release(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()


def claim_uids(n: int, base: int = BASE_UID, span: int = 2000) -> UidClaim:
    """n free uids (no account in the password database, not claimed by another sandbox)."""
    locks = _lock_dir()
    uids: list[int] = []
    fds: list[int] = []
    for uid in range(base, base + span):
        if len(uids) == n:
            break
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        fd = os.open(locks / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        uids.append(uid)
        fds.append(fd)
    if len(uids) < n:
        UidClaim(uids, fds).release()
        raise RuntimeError(f"no {n} free sandbox uids in {base}..{base + span - 1}")
    return UidClaim(uids, fds)
