"""The seeded database follows the schema and conventions, and a real server serves it as its own data."""

import json
import re
import sqlite3
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from twinapi_bench import run, seed, servers

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SETTINGS = servers.Settings("seed-test-secret-" + "x" * 32, 3600, 4, "warning")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, run.Data]:
    return run.prepare_database(tmp_path_factory.mktemp("seed"), SETTINGS)


def _call(url: str, *, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": token} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def test_rows_follow_the_schema_and_conventions(seeded: tuple[Path, run.Data]) -> None:
    path, data = seeded
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1
        users = conn.execute("SELECT id, email, email_key, password_hash, created_at FROM users").fetchall()
        tasks = conn.execute(
            "SELECT seq, id, owner_id, due_date, priority, status, version, created_at, updated_at"
            " FROM tasks ORDER BY seq"
        ).fetchall()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len(users) == 10 and len(tasks) == 10_000
    for uid, email, key, hashed, created in users:
        assert UUID4.match(uid) and STAMP.match(created)
        assert key == email.lower() and hashed.startswith("$2b$04$")
    stamps = [t[7] for t in tasks]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # seq order is creation order
    assert [t[0] for t in tasks] == sorted(t[0] for t in tasks)
    for _, tid, owner, due, priority, status, version, created, updated in tasks:
        assert UUID4.match(tid) and owner in {u[0] for u in users}
        assert due is None or re.match(r"^\d{4}-\d{2}-\d{2}$", due)
        assert priority in ("low", "normal", "high") and status in ("open", "done")
        assert version == 1 and created == updated and STAMP.match(created)
    assert set(data.task_owners) == {t[1] for t in tasks}


def _servable() -> list[str]:
    keys = ["python-impl/uvicorn"]
    try:
        if servers.node_impl_entry().exists():
            keys.append("node-impl")
    except (OSError, servers.ServerError):
        pass
    return keys


@pytest.mark.parametrize("key", _servable())
def test_a_real_server_serves_the_seeded_tasks(seeded: tuple[Path, run.Data], tmp_path: Path, key: str) -> None:
    seed_db, data = seeded
    spec = next(s for s in servers.specs("single", 1, granian=False, references=set()) if s.key == key)
    server = servers.start(spec, "single", 1, SETTINGS, tmp_path, seed_db)
    try:
        with closing(sqlite3.connect(seed_db)) as conn:
            row = conn.execute(
                "SELECT id, owner_id, title, notes, due_date, priority, status, created_at FROM tasks"
                " WHERE notes IS NOT NULL AND due_date IS NOT NULL ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            newest = conn.execute(
                "SELECT id FROM tasks WHERE owner_id = ? ORDER BY seq DESC LIMIT 20", (row[1],)
            ).fetchall()
        tid, owner, title, notes, due, priority, status, created = row
        status_code, task = _call(f"{server.url}/tasks/{tid}", token=data.tokens[owner])
        assert status_code == 200
        assert task == {
            "id": tid,
            "title": title,
            "notes": notes,
            "dueDate": due,
            "priority": priority,
            "status": status,
            "createdAt": created,
            "updatedAt": created,
        }
        _, page = _call(f"{server.url}/tasks?limit=20", token=data.tokens[owner])
        assert [t["id"] for t in page["items"]] == [n[0] for n in newest] and page["nextCursor"]
        user = next(u for u in data.users if u.id == owner)
        status_code, login = _call(f"{server.url}/auth/login", body={"email": user.email, "password": user.password})
        assert status_code == 200 and login["user"]["id"] == owner
    finally:
        server.stop()


def test_versions_reads_every_task(seeded: tuple[Path, run.Data]) -> None:
    path, data = seeded
    assert seed.versions(path) == dict.fromkeys(data.task_owners, 1)
