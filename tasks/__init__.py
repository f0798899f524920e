"""Benchmarks. Each module defines module-level `harness.task.Task` objects; the registry finds them."""
