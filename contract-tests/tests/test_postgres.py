"""The harness on PostgreSQL: its throwaway cluster, and both real implementations through a database outage."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from twinapi_conformance import config as configuration
from twinapi_conformance.servers import database_url, on_postgres, started

EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "conformance.toml"
RECOVERY_BOUND = 15.0  # seconds for a pool to reconnect after the server is back; a guard, not a measurement


def test_each_server_run_gets_a_fresh_database_and_the_cluster_goes_even_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="a failing run"), on_postgres() as cluster:
        first, second = database_url(tmp_path / "a.db"), database_url(tmp_path / "b.db")
        assert first != second and database_url(tmp_path / "a.db") == first  # one database per db_path
        assert first.startswith(f"postgresql://postgres@127.0.0.1:{cluster.port}/conformance_")
        root = cluster.root
        raise RuntimeError("a failing run")
    assert not root.exists()  # stopped and removed
    assert database_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"  # SQLite again outside the block


def test_both_implementations_answer_an_outage_503_and_recover_without_a_restart(tmp_path: Path) -> None:
    config = configuration.load(EXAMPLE_CONFIG)
    fast = {"DATABASE_POOL_TIMEOUT_SECONDS": "1", "DATABASE_CONNECT_TIMEOUT_SECONDS": "1"}
    settings = replace(config.server, env={**config.server.env, **fast})
    with on_postgres() as cluster:
        for impl in config.implementations.values():
            db = tmp_path / f"{impl.name}.db"
            with (
                started(impl, settings, db_path=db, log_dir=tmp_path) as server,
                httpx.Client(base_url=server.base_url, timeout=10) as client,
            ):
                account = {"email": f"{impl.name}@example.com", "password": "outage-password-1", "displayName": "O"}
                assert client.post("/users", json=account).status_code == 201
                login = client.post("/auth/login", json={k: account[k] for k in ("email", "password")})
                auth = {"Authorization": f"Bearer {login.json()['accessToken']}"}
                task = client.post("/tasks", json={"title": "before"}, headers=auth).json()

                cluster.stop()
                for method, path, body in (
                    ("GET", "/tasks", None),
                    ("POST", "/tasks", {"title": "during"}),
                    ("GET", f"/tasks/{task['id']}", None),
                    ("PATCH", f"/tasks/{task['id']}", {"title": "during"}),
                    ("POST", "/auth/login", {k: account[k] for k in ("email", "password")}),
                ):
                    answer = client.request(method, path, json=body, headers=auth)
                    assert answer.status_code == 503, (impl.name, method, path, answer.text)
                    assert answer.headers["content-type"].startswith("application/problem+json")
                    assert answer.headers["retry-after"] == "2"
                    assert answer.json()["status"] == 503

                cluster.start()
                deadline, status = time.monotonic() + RECOVERY_BOUND, 0
                while time.monotonic() < deadline and status != 200:
                    status = client.get("/tasks", headers=auth).status_code
                    if status != 200:
                        assert status == 503, impl.name
                        time.sleep(0.2)
                assert status == 200, f"{impl.name} did not recover within {RECOVERY_BOUND}s"
                assert client.post("/tasks", json={"title": "after"}, headers=auth).status_code == 201
            # Warnings about the lost connections are expected; an error (an unhandled exception, a 500) is not.
            errors = [line for line in server.log_path.read_text(errors="replace").splitlines() if _is_error(line)]
            assert not errors, errors[:3]


def _is_error(line: str) -> bool:
    try:
        entry = json.loads(line)
    except ValueError:
        return "Traceback" in line  # only the JSON log lines may carry one, as a field
    level = entry.get("level") if isinstance(entry, dict) else None
    return level in ("error", "critical", "fatal") or (isinstance(level, int) and level >= 50)
