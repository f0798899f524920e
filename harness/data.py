"""Reading benchmark data: a local folder first (`--data-dir` or HARNESS_DATA_DIR), else the hub.

Local files are read line by line so a malformed line is reported by number; hub datasets are
loaded through `datasets` at a pinned revision so item ids stay stable across machines.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from harness.errors import DataError, HarnessError

DATA_DIR_ENV = "HARNESS_DATA_DIR"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a task's items come from and how many to take."""

    data_dir: Path | None = None
    limit: int | None = None
    # only these items of a task (by id), in the task's order: a pool of a loop, say
    items: frozenset[str] | None = None

    def select(self, loaded: list[Any], task: str) -> list[Any]:
        """`loaded` items (records with an `id`) restricted to `items`; an id the task lacks is an error."""
        if self.items is None:
            return loaded
        have = {it.id for it in loaded}
        missing = sorted(self.items - have)
        if missing:
            raise DataError(f"task {task} has no item(s) {', '.join(missing[:5])}"
                            + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        return [it for it in loaded if it.id in self.items]

    @staticmethod
    def resolve(data_dir: str | Path | None = None, limit: int | None = None) -> "Source":
        if data_dir is None and os.environ.get(DATA_DIR_ENV):
            data_dir = os.environ[DATA_DIR_ENV]
        if data_dir is not None:
            data_dir = Path(data_dir).expanduser()
            if not data_dir.is_dir():
                raise DataError(f"data folder {data_dir} does not exist (from --data-dir or ${DATA_DIR_ENV})")
        return Source(data_dir=data_dir, limit=limit)


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """A TOML document (a models file, a nightly or loop config); a syntax error is one line naming
    `where` (the file)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"{where}: not valid TOML ({exc})") from None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield one JSON object per non-blank line; `.gz` files are decompressed. A line that is not a
    JSON object raises DataError naming the file and the 1-based line number."""
    for _, row in numbered_jsonl(path):
        yield row


def numbered_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`read_jsonl` with each object's 1-based line number, for messages about a line's content.
    The one JSONL reader of the project: data files, SFT exports, generations to ingest."""
    if not path.is_file():
        raise DataError(f"data file {path} not found")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    # Without its line break, so an error at the line's end is reported at its column there
                    # (json counts the break as the start of a line 2, column 1).
                    row = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
                if not isinstance(row, dict):
                    raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
                yield lineno, row
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def require(row: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in row]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}; has {', '.join(sorted(row)) or 'none'}")


def load_rows(
    source: Source,
    filename: str,
    *,
    hub: str | None,
    config: str | None = None,
    split: str = "test",
    revision: str | None = None,
    required: tuple[str, ...] = (),
) -> list[tuple[int, dict[str, Any]]]:
    """Rows as (0-based index, row): from `source.data_dir/filename` when a data folder is set,
    otherwise from the hub. Rows missing a required field raise DataError with their line."""
    if source.data_dir is not None:
        path = source.data_dir / filename
        rows = []
        for i, row in enumerate(read_jsonl(path)):
            require(row, required, f"{path}:{i + 1}")
            rows.append((i, row))
            if source.limit is not None and len(rows) >= source.limit:
                break
        return rows
    if hub is None:
        raise DataError(f"{filename} has no hub source: pass --data-dir DIR (or set ${DATA_DIR_ENV}) with {filename} in it")
    return _hub_rows(hub, config, split, revision, source.limit, required, filename)


def _hub_rows(hub, config, split, revision, limit, required, filename) -> list[tuple[int, dict[str, Any]]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise DataError(f"the `datasets` package is needed to load {hub}: {exc}") from None
    try:
        ds = datasets.load_dataset(hub, config, split=split, revision=revision)
    except Exception as exc:  # network, auth, missing revision: all surface here
        raise DataError(
            f"could not load {hub}"
            f"{'/' + config if config else ''} split {split} at revision {revision or 'latest'} from the hub "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). Offline? Pass --data-dir DIR "
            f"(or set ${DATA_DIR_ENV}) with {filename} in it."
        ) from None
    rows = []
    for i, row in enumerate(ds):
        require(row, required, f"{hub} row {i}")
        rows.append((i, dict(row)))
        if limit is not None and len(rows) >= limit:
            break
    return rows
