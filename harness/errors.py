"""Errors a user can act on. The CLI prints their message (no traceback) and exits with status 2."""

from __future__ import annotations

from typing import Iterable


class HarnessError(Exception):
    """Base of every error whose message is meant for the user."""


class UnknownModel(HarnessError):
    pass


class UnknownTask(HarnessError):
    pass


class DataError(HarnessError):
    """A data file is missing, unreadable or malformed; the message names the file and line."""


class BackendError(HarnessError):
    """A backend could not produce completions (endpoint down after retries, model failed to load)."""


class StoreLocked(HarnessError):
    """The DuckDB file is held by another process."""


def did_you_mean(name: str, known: "Iterable[str]") -> str:
    """'; did you mean a, b?' for the known names closest to `name` (case-insensitive), else ''."""
    import difflib

    known = sorted(set(known))
    lower = {k.lower(): k for k in known}
    close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.5)]
    close += [k for k in known if name.lower() in k.lower() and k not in close][: 3 - len(close)]
    return f"; did you mean {', '.join(close)}?" if close else ""
