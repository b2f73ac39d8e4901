"""`python -m app` as a real uvicorn process: start-up checks, persistence across a restart, SIGTERM."""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import app.__main__ as entry
import app.main
from app.core.config import REPO_ROOT
from app.generated.routes import CONTRACT_PATH

SECRET = "test-secret-that-is-at-least-32-bytes-long"
WAIT = 30  # seconds; only a guard against a hung server, never a measurement
LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class Server:
    def __init__(self, db_path: Path, **env: str | None) -> None:
        """Starts `python -m app` on a free port; a variable given as None is left unset."""
        variables: dict[str, str | None] = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(REPO_ROOT / "python-impl"),
            "PORT": "0",
            "DATABASE_URL": f"sqlite:///{db_path}",
            "JWT_SECRET": SECRET,
            "BCRYPT_ROUNDS": "4",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=db_path.parent,
            env={name: value for name, value in variables.items() if value is not None},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []

    def wait_for(self, pattern: str) -> re.Match[str]:
        """Reads the server's log lines until one matches (failing if the server exits first)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        pytest.fail(f"the server exited before logging {pattern!r}: {self.stop_output()}")

    def start(self) -> str:
        return f"http://127.0.0.1:{self.wait_for(LISTENING.pattern)[1]}"

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(WAIT)

    def stop_output(self) -> str:
        out, err = self.process.communicate(timeout=WAIT)
        self.lines.extend(out.splitlines(keepends=True))
        return err


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(WAIT)


def test_a_bad_value_exits_2_with_one_line_naming_it(tmp_path: Path) -> None:
    server = Server(tmp_path / "app.db", PORT="http")
    err = server.stop_output()
    assert server.process.returncode == 2
    assert err.count("\n") == 1 and "PORT" in err and "Traceback" not in err


def test_a_trusted_proxy_that_is_no_address_exits_2_naming_it(tmp_path: Path) -> None:
    server = Server(tmp_path / "app.db", TRUSTED_PROXIES="127.0.0.1,10.0.0.0/33")
    assert server.stop_output() == (
        "error: TRUSTED_PROXIES: '10.0.0.0/33' must have a prefix from 1 to 32"
        " (trusting every address would let any client choose its own)\n"
    )
    assert server.process.returncode == 2


def test_jwt_secret_is_required_in_production(tmp_path: Path) -> None:
    server = Server(tmp_path / "app.db", JWT_SECRET=None)
    assert server.stop_output() == "error: JWT_SECRET is required unless APP_ENV=development\n"
    assert server.process.returncode == 2


def test_development_makes_up_a_secret_and_says_so(tmp_path: Path, servers: list[Server]) -> None:
    server = Server(tmp_path / "app.db", JWT_SECRET=None, APP_ENV="development")
    servers.append(server)
    warning = json.loads(server.wait_for('"level":"warning"').string)
    assert "JWT_SECRET" in warning["msg"]
    with httpx.Client(base_url=server.start()) as client:
        user = {"email": "ada@example.com", "password": "correct-horse-42", "displayName": "Ada"}
        client.post("/users", json=user)
        token = client.post("/auth/login", json={"email": user["email"], "password": user["password"]}).json()
        me = client.get("/users/me", headers={"Authorization": f"Bearer {token['accessToken']}"})
        assert me.status_code == 200
    assert server.stop() == 0


def test_a_changed_migration_stops_the_start_naming_the_file(tmp_path: Path) -> None:
    db_path = tmp_path / "app.db"
    conn = sqlite3.connect(db_path)
    conn.executescript(
        "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL);"
        "INSERT INTO schema_migrations VALUES ('0001_init', 'not-the-checksum', '2026-01-01T00:00:00.000Z');"
    )
    conn.close()
    server = Server(db_path)
    err = server.stop_output()
    assert server.process.returncode == 1
    assert "0001_init.sql" in err and err.count("\n") == 1 and "Traceback" not in err


def test_data_survives_a_restart_and_sigterm_exits_0(tmp_path: Path, servers: list[Server]) -> None:
    db_path = tmp_path / "app.db"
    first = Server(db_path)
    servers.append(first)
    with httpx.Client(base_url=first.start()) as client:
        user = {"email": "ada@example.com", "password": "correct-horse-42", "displayName": "Ada"}
        assert client.post("/users", json=user).status_code == 201
        token = client.post("/auth/login", json={"email": user["email"], "password": user["password"]}).json()
        auth = {"Authorization": f"Bearer {token['accessToken']}", "X-Request-ID": "trace-me"}
        created = client.post("/tasks", json={"title": "Survive"}, headers=auth)
        assert created.status_code == 201 and created.headers["x-request-id"] == "trace-me"
    assert first.stop() == 0
    first.stop_output()
    access = [json.loads(line) for line in first.lines if '"msg":"request"' in line]
    assert {"level", "time", "msg", "method", "path", "status", "duration_ms", "request_id"} <= set(access[-1])
    assert (access[-1]["method"], access[-1]["path"], access[-1]["status"]) == ("POST", "/tasks", 201)
    assert access[-1]["request_id"] == "trace-me"

    second = Server(db_path)
    servers.append(second)
    with httpx.Client(base_url=second.start()) as client:
        # The token of the first run still works: same secret, same user in the same file.
        listed = client.get("/tasks", headers=auth)
        assert listed.status_code == 200 and listed.json()["items"] == [created.json()]
        login = client.post("/auth/login", json={"email": user["email"], "password": user["password"]})
        assert login.status_code == 200
    assert second.stop() == 0


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path, servers: list[Server]) -> None:
    server = Server(tmp_path / "app.db")
    servers.append(server)
    base = server.start()
    port = int(base.rsplit(":", 1)[1])
    body = json.dumps({"email": "ada@example.com", "password": "correct-horse-42", "displayName": "Ada"}).encode()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(
            b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        # uvicorn answers 100 Continue once the application reads the body: the request is now in flight.
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += conn.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        server.process.send_signal(signal.SIGTERM)
        server.wait_for("Shutting down")
        conn.sendall(body)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 201 ")
    assert server.process.wait(WAIT) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/health")


def test_a_contract_pattern_no_validator_compiles_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A contract document edited by hand (or by a newer generator) with a pattern the validator cannot compile."""
    contract = json.loads(CONTRACT_PATH.read_text())
    for document in ("served", "validation"):  # the validators compile the latter, written where it differs
        if document in contract:
            schemas = contract[document]["components"]["schemas"]
            name = next(name for name, schema in schemas.items() if "properties" in schema)
            first = next(iter(schemas[name]["properties"]))
            schemas[name]["properties"][first] = {"type": "string", "pattern": "(ab"}
    broken = tmp_path / "contract.json"
    broken.write_text(json.dumps(contract))
    monkeypatch.setattr(app.main, "CONTRACT_PATH", broken)

    def serve(*args: object, **kwargs: object) -> int:
        raise AssertionError("the server started on a contract it cannot validate")

    monkeypatch.setattr(entry, "serve", serve)
    for name, value in {"JWT_SECRET": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}.items():
        monkeypatch.setenv(name, value)
    assert entry.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: /components/schemas/") and "'(ab' is not an ECMA-262 regular expression" in err
    assert err.count("\n") == 1
