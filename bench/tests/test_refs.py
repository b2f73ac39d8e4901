"""The idiomatic references of the whole API, each a real process on a free loopback port, serve all nine operations
as the contract says: accounts, tokens with the implementations' claims, CRUD, If-Match, cursors and the errors."""

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from twinapi_bench import seed, servers

SECRET = "refs-test-secret-" + "x" * 32
SETTINGS = servers.Settings(SECRET, 3600, 4, "warning")
REFERENCES = ["fastapi-tasks/uvicorn", "fastify-tasks"]


class Answer:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    @property
    def type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0]


class Client:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = raw
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.url + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


@pytest.fixture(params=REFERENCES)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    spec = next(s for s in servers.specs("single", 1, granian=False, references=set()) if s.key == request.param)
    # An empty file: the reference applies db/migrations itself.
    server = servers.start(spec, "single", 1, SETTINGS, tmp_path, seed_db=None, db_path=tmp_path / "refs.db")
    try:
        yield Client(server.url)
    finally:
        server.stop()
    assert not server.alive()


def _problem(answer: Answer, status: int) -> dict[str, Any]:
    assert answer.status == status, answer.raw
    assert answer.type == "application/problem+json"
    body: dict[str, Any] = answer.body
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    return body


def _register(call: Client, email: str, password: str = "correct-horse-42") -> tuple[dict[str, Any], str]:
    created = call("POST", "/users", json_body={"email": email, "password": password, "displayName": "Ada"})
    assert created.status == 201 and created.headers["location"] == "/users/me"
    login = call("POST", "/auth/login", json_body={"email": email, "password": password})
    assert login.status == 200
    return created.body, login.body["accessToken"]


def test_health_accounts_and_tokens(client: Client) -> None:
    health = client("GET", "/health")
    assert health.status == 200 and health.body["status"] == "ok" and health.body["version"] == "1.0.0"

    user, token = _register(client, "Ada@Example.com")
    assert set(user) == {"id", "email", "displayName", "createdAt"} and user["email"] == "Ada@Example.com"
    assert user["createdAt"].endswith("Z") and len(user["createdAt"]) == 24  # milliseconds, UTC
    # The email key ignores ASCII case, as in the implementations.
    taken = client("POST", "/users", json_body={"email": "ada@example.COM", "password": "x" * 8, "displayName": "B"})
    _problem(taken, 409)

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert set(claims) == {"sub", "iat", "exp"} and claims["sub"] == user["id"]
    assert claims["exp"] - claims["iat"] == SETTINGS.jwt_ttl_seconds
    login = client("POST", "/auth/login", json_body={"email": "ADA@example.com", "password": "correct-horse-42"})
    assert login.body["tokenType"] == "Bearer" and login.body["expiresIn"] == 3600 and login.body["user"] == user

    wrong = client("POST", "/auth/login", json_body={"email": "ada@example.com", "password": "wrong-horse-42"})
    _problem(wrong, 401)
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    _problem(client("POST", "/auth/login", json_body={"email": "nobody@example.com", "password": "whatever"}), 401)

    assert client("GET", "/users/me", token=token).body == user
    # A token made the way the benchmark's seed makes them (and both implementations do) is accepted.
    assert client("GET", "/users/me", token=seed.token(SECRET, user["id"], 60)).body == user
    _problem(client("GET", "/users/me"), 401)
    _problem(client("GET", "/users/me", token=token[:-2] + "xx"), 401)
    _problem(client("GET", "/users/me", token=jwt.encode({"sub": user["id"]}, SECRET, algorithm="HS256")), 401)


def test_task_crud_if_match_and_cursors(client: Client) -> None:
    _, token = _register(client, "owner@example.com")
    _, other = _register(client, "other@example.com")

    made = []
    for i in range(3):
        answer = client("POST", "/tasks", token=token, json_body={"title": f"task {i}", "dueDate": "2026-12-01"})
        assert answer.status == 201 and answer.headers["etag"] == '"1"'
        assert answer.headers["location"] == f"/tasks/{answer.body['id']}"
        assert answer.body["priority"] == "normal" and answer.body["status"] == "open" and answer.body["notes"] is None
        made.append(answer.body)
    noted = client(
        "POST", "/tasks", token=token, json_body={"title": "Call", "notes": "Kitchen SINK", "priority": "high"}
    )
    assert noted.status == 201 and noted.body["dueDate"] is None
    made.append(noted.body)

    # Validation: 400 problem+json with errors; auth first; JSON only.
    bad = _problem(client("POST", "/tasks", token=token, json_body={"title": 123}), 400)
    assert bad["errors"] and all({"location", "message"} <= set(e) for e in bad["errors"])
    _problem(client("POST", "/tasks", token=token, json_body={"title": "x", "extra": 1}), 400)
    _problem(client("POST", "/tasks", token=token, json_body={"title": "x", "dueDate": "2026-02-30"}), 400)
    _problem(client("POST", "/tasks", json_body={"title": 123}), 401)
    _problem(client("POST", "/tasks", token=token, raw=b"title", headers={"Content-Type": "text/plain"}), 415)
    _problem(client("POST", "/tasks", token=token, raw=b"{", headers={"Content-Type": "application/json"}), 400)

    first = made[0]
    got = client("GET", f"/tasks/{first['id']}", token=token)
    assert got.status == 200 and got.body == first and got.headers["etag"] == '"1"'
    _problem(client("GET", f"/tasks/{first['id']}", token=other), 404)  # another user's task is not there
    _problem(client("GET", "/tasks/not-a-uuid", token=token), 400)

    # Pages, newest first, continued by cursor; the cursor is the implementations' base64url "v1:<seq>".
    page = client("GET", "/tasks?limit=3", token=token).body
    assert [t["id"] for t in page["items"]] == [t["id"] for t in reversed(made)][:3]
    cursor = page["nextCursor"]
    assert base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().startswith("v1:")
    rest = client("GET", f"/tasks?limit=3&cursor={cursor}", token=token).body
    assert [t["id"] for t in rest["items"]] == [first["id"]] and rest["nextCursor"] is None
    assert client("GET", "/tasks", token=other).body == {"items": [], "nextCursor": None}
    assert [t["id"] for t in client("GET", "/tasks?q=kitchen", token=token).body["items"]] == [noted.body["id"]]
    cursor_error = _problem(client("GET", "/tasks?cursor=bm9wZQ", token=token), 400)
    assert cursor_error["errors"][0]["location"] == "query/cursor"
    _problem(client("GET", "/tasks?limit=101", token=token), 400)

    # If-Match: the current ETag updates, a stale one is 412; null clears notes.
    path = f"/tasks/{noted.body['id']}"
    patched = client(
        "PATCH", path, token=token, json_body={"status": "done", "notes": None}, headers={"If-Match": '"1"'}
    )
    assert patched.status == 200 and patched.headers["etag"] == '"2"'
    assert patched.body["status"] == "done" and patched.body["notes"] is None and patched.body["title"] == "Call"
    assert patched.body["updatedAt"] >= patched.body["createdAt"] == noted.body["createdAt"]
    _problem(client("PATCH", path, token=token, json_body={"title": "x"}, headers={"If-Match": '"1"'}), 412)
    _problem(client("PATCH", path, token=token, json_body={}), 400)
    _problem(client("PATCH", path, token=other, json_body={"title": "x"}), 404)
    assert [t["id"] for t in client("GET", "/tasks?status=done", token=token).body["items"]] == [noted.body["id"]]

    _problem(client("DELETE", path, token=token, headers={"If-Match": '"1"'}), 412)
    gone = client("DELETE", path, token=token, headers={"If-Match": '"2"'})
    assert gone.status == 204 and gone.raw == b""
    _problem(client("GET", path, token=token), 404)
    _problem(client("DELETE", path, token=token), 404)

    # Another method on a known path: 405 listing the path's methods.
    refused = client("PUT", "/tasks", token=token, json_body={"title": "x"})
    _problem(refused, 405)
    assert {"GET", "POST"} <= {m.strip() for m in refused.headers["allow"].split(",")}
    _problem(client("GET", "/nothing-here"), 404)
