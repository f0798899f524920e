"""What isolation this machine allows, probed once per process.

The sandbox's zygote (`_child.py`) gives every program its own IPC, UTS, PID, network and mount
namespaces (a new user namespace too when not root), a size-capped tmpfs as its /tmp, /var/tmp and
/dev/shm, a seccomp filter (no kernel keyrings, no new namespaces or mounts, no ptrace), Landlock, and,
as root, an unprivileged uid of its own per slot, so RLIMIT_NPROC binds. `probe` asks a throw-away
child which of these layers the kernel grants here. Whatever is missing is written into `notes`, which
the grader copies into every verdict's details, so a weaker sandbox is never silent.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import pwd
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Sandbox uids are claimed from BASE_UID up (see claim_uids). Below 65534 (nobody) so a container that
# maps only 65,536 ids still has them; a uid that belongs to a real account is skipped.
BASE_UID = 61000
NO_NAMESPACES_ENV = "HARNESS_SANDBOX_NO_NAMESPACES"
ALL_NAMESPACES = ("ipc", "uts", "pid", "net", "mount")
CHILD = str(Path(__file__).with_name("_child.py"))


@dataclass(frozen=True, slots=True)
class Isolation:
    """The layers each program runs under (see the module docstring)."""

    namespaces: tuple[str, ...] = ()  # of ALL_NAMESPACES
    drop_privileges: bool = False  # root: each run drops to its slot's uid
    user_ns: bool = False  # not root: the namespaces come with a user namespace
    private_tmp: bool = False  # a size-capped tmpfs on /tmp, /var/tmp, /dev/shm (needs "mount")
    seccomp: bool = True
    landlock: bool = True  # tried in every run; a refusal is noted by the run itself
    notes: tuple[str, ...] = ()  # what is missing, in words; empty when fully isolated

    @property
    def network_ns(self) -> bool:
        return "net" in self.namespaces

    @property
    def pid_ns(self) -> bool:
        return "pid" in self.namespaces

    def config(self) -> dict:
        """What the zygote is told."""
        return {"namespaces": list(self.namespaces), "user_ns": self.user_ns,
                "private_tmp": self.private_tmp and "mount" in self.namespaces}

    def describe(self, uid: int | None = None, layers: tuple[str, ...] | None = None) -> str:
        """The isolation in force for one run, in words (copied into every code verdict's detail):
        `layers` as the run reported them, else the namespaces planned."""
        parts = [f"uid {uid}" if uid is not None else "caller's uid"]
        if layers is None:
            parts.append(f"{'+'.join(self.namespaces)} namespaces" if self.namespaces else "no namespaces")
        else:
            parts.extend(layers or ["no namespaces"])
        parts.append("rlimits cpu/memory/procs/fsize")
        if self.notes:
            parts.append("missing: " + "; ".join(self.notes))
        return ", ".join(parts)


def _layers() -> dict:
    """What the kernel grants here, asked of a throw-away child (see `_child.probe_layers`)."""
    try:
        res = subprocess.run([sys.executable, "-S", "-B", "-P", CHILD, "probe"], stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
        found = json.loads(res.stdout.decode() or "{}")
        return found if isinstance(found, dict) else {}
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return {"errors": {"probe": f"{type(exc).__name__}: {exc}"}}


@functools.cache
def probe(namespaces: bool = True) -> Isolation:
    """The strongest isolation that works here (cached). `namespaces=False` (or the environment
    variable HARNESS_SANDBOX_NO_NAMESPACES=1) skips namespaces, e.g. to test the fallback."""
    root = os.geteuid() == 0
    notes: list[str] = []
    if not root:
        notes.append("not root: programs run as the calling user (RLIMIT_NPROC counts all of its processes)")
    found = _layers()
    errors = found.get("errors") or {}
    if not namespaces or os.environ.get(NO_NAMESPACES_ENV) == "1":
        have: tuple[str, ...] = ()
        notes.append("namespaces disabled: network allowed, IPC shared, detached children swept by uid only")
    else:
        have = tuple(n for n in ALL_NAMESPACES if n in (found.get("namespaces") or ()))
        missing = [n for n in ALL_NAMESPACES if n not in have]
        if missing:
            notes.append(f"no {'/'.join(missing)} namespace ({errors.get(missing[0], 'refused')})")
    private_tmp = bool(found.get("private_tmp")) and "mount" in have
    if not private_tmp:
        notes.append("no private /tmp: disk capped per file only, leftovers swept by uid")
    seccomp = bool(found.get("seccomp"))
    if not seccomp:
        notes.append(f"no seccomp ({errors.get('seccomp', 'refused')}): kernel keyrings reachable")
    return Isolation(namespaces=have, drop_privileges=root, user_ns=not root and bool(have),
                     private_tmp=private_tmp, seccomp=seccomp, notes=tuple(notes))


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
