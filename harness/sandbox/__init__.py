"""Sandboxed execution of untrusted Python programs (see runner.py for the guarantees)."""

from .isolation import Isolation, probe
from .runner import Job, Limits, Outcome, Sandbox

__all__ = ["Isolation", "Job", "Limits", "Outcome", "Sandbox", "probe"]
