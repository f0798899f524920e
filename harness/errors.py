"""Errors a user can act on. The CLI prints their message (no traceback) and exits with status 2."""


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
