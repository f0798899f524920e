"""Command modules: each exposes `register(app)`; `harness.cli` imports them all."""
