"""The command line (`harness.cli.app:main`): one module per command group, shared options in `common`."""
