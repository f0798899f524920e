"""Per-item time limits calibrated from the reference solution's runtime on this machine.

A fixed wall clock makes the same sample pass on a fast machine and time out on a slow one. Here the
limit is `max(floor_s, multiple * reference_s)`, where reference_s is the wall time of the item's
reference solution with its tests, measured once in the sandbox on this machine and cached in a JSON
file keyed by machine (host, CPU model, core count, Python version) and by a hash of the reference
and tests, so an edited item or another machine is measured afresh.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.records import stable_hash

CACHE_ENV = "HARNESS_CACHE_DIR"


@dataclass(frozen=True, slots=True)
class TimePolicy:
    multiple: float = 10.0
    floor_s: float = 2.0
    # Used when the reference cannot be timed (missing, or it fails here).
    fallback_s: float = 10.0

    def limit(self, reference_s: float | None) -> float:
        if reference_s is None:
            return self.fallback_s
        return max(self.floor_s, self.multiple * reference_s)


def default_cache_path() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "code_time_limits.json"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "harness" / "code_time_limits.json"


def machine_key() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}|{cpu or platform.processor()}|{os.cpu_count()}|{platform.python_version()}"


def item_key(task: str, item_id: str, reference: str, tests: str) -> str:
    return f"{task}:{item_id}:{stable_hash([reference, tests])}"


class ReferenceTimes:
    """The cache: item key -> reference seconds (None: the reference failed here). Thread-safe;
    `save` merges with what other processes wrote meanwhile."""

    def __init__(self, path: Path | None = None):
        self.path = path or default_cache_path()
        self.machine = machine_key()
        self._lock = threading.Lock()
        self._times: dict[str, float | None] = self._load().get(self.machine, {})

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def get(self, key: str) -> tuple[bool, float | None]:
        with self._lock:
            return (key in self._times, self._times.get(key))

    def put_many(self, times: dict[str, float | None]) -> None:
        with self._lock:
            self._times.update(times)
            data = self._load()
            data.setdefault(self.machine, {}).update(times)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".limits-")
                with os.fdopen(fd, "w") as fh:
                    json.dump(data, fh, indent=0, sort_keys=True)
                os.replace(tmp, self.path)
            except OSError:
                pass  # a read-only home: limits are still calibrated, just not remembered
