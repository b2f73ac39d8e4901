"""`python -m app` as a real process: it serves, and a start that cannot go on is one line and an exit code."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import SECRET

PYTHON_IMPL = Path(__file__).resolve().parents[1]


def _environment(db_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("JWT_SECRET", "APP_ENV", "DATABASE_PATH")}
    env.update({"JWT_SECRET": SECRET, "DATABASE_PATH": str(db_path), "BCRYPT_ROUNDS": "4", "LOG_LEVEL": "warning"})
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_it_serves_until_terminated(tmp_path: Path) -> None:
    port = _free_port()
    env = _environment(tmp_path / "served.db", HOST="127.0.0.1", PORT=str(port))
    server = subprocess.Popen([sys.executable, "-m", "app"], cwd=PYTHON_IMPL, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/tags", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        assert (response.status_code, response.json()) == (200, {"tags": []})
    finally:
        server.terminate()
        assert server.wait(timeout=15) == 0


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app"], cwd=PYTHON_IMPL, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    started = _start(_environment(tmp_path / "x.db", BCRYPT_ROUNDS="40", PORT="http"))
    assert started.returncode == 2
    assert started.stderr == (
        "error: PORT: must be a whole number written in digits; "
        "BCRYPT_ROUNDS: Input should be less than or equal to 31\n"
    )


def test_a_changed_migration_is_one_line_and_exit_1(tmp_path: Path) -> None:
    db_path = tmp_path / "changed.db"
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.execute("INSERT INTO schema_migrations VALUES ('0001_init', 'another', '2026-01-01T00:00:00.000Z')")
    conn.commit()
    conn.close()
    started = _start(_environment(db_path))
    assert started.returncode == 1
    assert started.stderr == (
        f"error: database {db_path}: migration 0001_init.sql has changed since it was applied to this database\n"
    )
