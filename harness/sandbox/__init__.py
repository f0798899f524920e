"""Sandboxed execution of untrusted Python programs (see runner.py for the guarantees)."""

from harness.sandbox.isolation import Isolation, probe
from harness.sandbox.runner import Job, Limits, Outcome, Sandbox

__all__ = ["Isolation", "Job", "Limits", "Outcome", "Sandbox", "probe"]
