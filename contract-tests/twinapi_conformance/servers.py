"""Start an implementation as a real process on a free loopback port and stop it again, by PID only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from twinapi_conformance.config import Implementation, ServerSettings
from twinapi_conformance.postgres import Cluster, throwaway_cluster

LOOPBACK = "127.0.0.1"
POLL_INTERVAL = 0.1


class ServerError(RuntimeError):
    """An implementation did not come up (or would target something other than loopback)."""


@dataclass(frozen=True)
class RunningServer:
    name: str
    base_url: str
    pid: int
    log_path: Path


# While `on_postgres()` is open: the cluster, and the database made for each server run's db_path.
_cluster: Cluster | None = None
_databases: dict[Path, str] = {}


@contextmanager
def on_postgres() -> Iterator[Cluster]:
    """Within the block, {database_url} is a fresh PostgreSQL database per db_path, on one throwaway cluster."""
    global _cluster
    with throwaway_cluster() as cluster:
        _cluster = cluster
        try:
            yield cluster
        finally:
            _cluster = None
            _databases.clear()


def database_url(db_path: Path) -> str:
    """The DATABASE_URL for `db_path`: that SQLite file, or under on_postgres() the same fresh database for it."""
    if _cluster is None:
        return f"sqlite:///{db_path}"
    if db_path not in _databases:
        _databases[db_path] = _cluster.create_database("conformance")
    return _databases[db_path]


def free_port() -> int:
    # The port is released before the server binds it; a clash makes readiness fail loudly, not silently.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def render(template: str, values: dict[str, str]) -> str:
    return template.format_map(values)


@contextmanager
def started(
    impl: Implementation, settings: ServerSettings, *, db_path: Path, log_dir: Path, label: str | None = None
) -> Iterator[RunningServer]:
    """One implementation serving `db_path`; stopped (SIGTERM, then SIGKILL after a bound) when the block ends."""
    name = label or impl.name
    port = free_port()
    templates = {**settings.env, **impl.env}
    if _cluster is not None and not any("{database_url}" in value for value in templates.values()):
        raise ServerError(f"{name}: running on PostgreSQL needs {{database_url}} in [server.env] (DATABASE_URL)")
    values = {
        "port": str(port),
        "db_path": str(db_path),
        "database_url": database_url(db_path),
        "python": sys.executable,
        "host": LOOPBACK,
    }
    env = {**os.environ, **{key: render(value, values) for key, value in templates.items()}}
    if env.get("HOST") != LOOPBACK:
        raise ServerError(f"{name}: HOST must be {LOOPBACK}, the harness never targets anything else")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the command comes from the harness configuration
            [render(part, values) for part in impl.command],
            cwd=impl.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        server = RunningServer(name=name, base_url=f"http://{LOOPBACK}:{port}", pid=process.pid, log_path=log_path)
        _wait_ready(process, server, settings)
        yield server
    finally:
        _stop(process, settings.stop_timeout)


def _wait_ready(process: subprocess.Popen[bytes], server: RunningServer, settings: ServerSettings) -> None:
    deadline = time.monotonic() + settings.startup_timeout
    url = server.base_url + settings.readiness_path
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerError(
                    f"{server.name} exited with {process.returncode} before it was ready; "
                    f"log {server.log_path}:\n{_tail(server.log_path)}"
                )
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL)
    raise ServerError(
        f"{server.name}: GET {url} did not answer 200 within {settings.startup_timeout}s; "
        f"log {server.log_path}:\n{_tail(server.log_path)}"
    )


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def started_each(
    impls: list[Implementation], settings: ServerSettings, *, work_dir: Path, log_dir: Path, shared_db: bool
) -> Iterator[list[RunningServer]]:
    """Several implementations at once: each on its own fresh database, or all on one when `shared_db`."""
    with ExitStack() as stack:
        servers = []
        for impl in impls:
            db_path = work_dir / ("shared.db" if shared_db else f"{impl.name}.db")
            servers.append(stack.enter_context(started(impl, settings, db_path=db_path, log_dir=log_dir)))
        yield servers
