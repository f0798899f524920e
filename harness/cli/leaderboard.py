"""`harness leaderboard`: serve the Streamlit leaderboard (`leaderboard/app.py`) on a results store.

The app only reads (see `leaderboard.data`), so it can run while `harness run` writes the same file.
It binds to 127.0.0.1 unless `--host` says otherwise, runs headless (opens no browser) and sends
Streamlit no usage statistics.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import DbOpt
from harness.errors import HarnessError

DEFAULT_PORT = 8501


def streamlit_command(app: Path, host: str, port: int) -> list[str]:
    """The `streamlit run` command line for the app: headless, no telemetry, no file watcher."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
    ]


def streamlit_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HARNESS_DB"] = str(db)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def leaderboard(
    db: DbOpt = None,
    port: Annotated[int, typer.Option("--port", help="port to serve on")] = DEFAULT_PORT,
    host: Annotated[str, typer.Option("--host", help="address to bind; 0.0.0.0 exposes the app to the network")] = "127.0.0.1",
    parquet: Annotated[Path | None, typer.Option("--parquet", help="read a folder of exported runs (`harness export-runs`) instead of --db")] = None,
) -> None:
    from harness.leaderboard import APP_PATH
    from harness.store import resolve_db_path

    if not 0 < port < 65536:
        raise HarnessError(f"--port must be between 1 and 65535, got {port}")
    check_port_free(host, port)
    path = parquet_store(parquet) if parquet is not None else resolve_db_path(db).resolve()
    cmd = streamlit_command(APP_PATH, host, port)
    where = f"http://{'localhost' if host in ('127.0.0.1', 'localhost') else host}:{port}"
    note = "" if path.exists() else " (no such file yet: the app says how to make one)"
    print(f"leaderboard for {path}{note} at {where}  (Ctrl-C stops it)", file=sys.stderr, flush=True)
    try:
        os.execve(sys.executable, cmd, streamlit_env(path))
    except OSError as exc:
        raise HarnessError(f"cannot start streamlit: {exc}") from None


def check_port_free(host: str, port: int) -> None:
    """HarnessError naming the port when nothing could listen on HOST:PORT (another server holds it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise HarnessError(f"--host {host}: cannot resolve it ({exc.strerror})") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no conflict
        try:
            sock.bind(addr)
        except OSError as exc:
            raise HarnessError(f"port {port} on {host} is not available ({exc.strerror}): pass --port OTHER, "
                               "or stop what is serving there") from None


def help_text() -> str:
    from harness.leaderboard import PAGES

    return ("Serve the leaderboard (Streamlit) on a results store, read-only, at http://HOST:PORT.\n\n"
            f"Pages: {', '.join(title for _, title, _, _ in PAGES)}. Safe to leave running while `harness run` "
            "writes the store: pages refresh with the store's changes.")


def parquet_store(folder: Path) -> Path:
    """The exports under `folder` merged into a fresh store in a temporary folder (the app reads that)."""
    import tempfile

    from harness.store import Store
    from harness.store.parquet import import_runs

    path = Path(tempfile.mkdtemp(prefix="harness-parquet-")) / "runs.duckdb"
    import_runs(Store(path), [folder])
    return path


def register(app: typer.Typer) -> None:
    app.command("leaderboard", help=help_text())(leaderboard)
