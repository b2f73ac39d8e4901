"""Every operation and every documented answer, through the real application in-process."""

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from app.core.db import open_database
from app.store.cursor import encode_cursor

pytestmark = pytest.mark.anyio

SECRET = "test-secret-that-is-at-least-32-bytes-long"  # the `settings` fixture's
PASSWORD = "correct-horse-42"
INVALID_TOKEN = 'Bearer error="invalid_token"'


def problem(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    """Asserts a problem+json answer with its keys in the contract's order; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json; charset=utf-8"
    body: dict[str, Any] = response.json()
    assert list(body)[:5] == ["type", "title", "status", "detail", "instance"]
    assert (body["type"], body["status"], body["detail"]) == ("about:blank", status, detail)
    assert body["instance"] == response.request.url.path
    return body


async def register(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await client.post("/users", json={"email": email, "password": PASSWORD, "displayName": "Ada"})
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def login(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, str]:
    response = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


async def user_with_token(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, str]:
    await register(client, email)
    return await login(client, email)


async def create(client: httpx.AsyncClient, auth: dict[str, str], **fields: object) -> httpx.Response:
    response = await client.post("/tasks", json={"title": "Write the tests", **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response


# Meta


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "implementation": "python", "version": "1.0.0"}
    assert response.headers["x-request-id"]


# Accounts


async def test_register(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", json={"email": "Ada@Example.com", "password": PASSWORD, "displayName": "Ada Lovelace"}
    )
    assert response.status_code == 201
    assert response.headers["location"] == "/users/me"
    body = response.json()
    assert list(body) == ["id", "email", "displayName", "createdAt"]
    assert uuid.UUID(body["id"]).version == 4 and body["id"] == body["id"].lower()
    assert (body["email"], body["displayName"]) == ("Ada@Example.com", "Ada Lovelace")  # as registered
    assert len(body["createdAt"]) == 24 and body["createdAt"].endswith("Z")


async def test_register_an_email_twice_in_any_ascii_case(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    response = await client.post("/users", json={"email": "ADA@example.COM", "password": PASSWORD, "displayName": "A"})
    problem(response, 409, "This email is already registered.")


async def test_register_validation(client: httpx.AsyncClient) -> None:
    response = await client.post("/users", json={"email": "not-an-email", "password": "short", "displayName": ""})
    body = problem(response, 400, "The request does not match the contract.")
    assert {e["location"] for e in body["errors"]} == {"body/email", "body/password", "body/displayName"}
    response = await client.post("/users", json={"email": "a@b.io", "password": PASSWORD, "displayName": "A", "x": 1})
    problem(response, 400, "The request does not match the contract.")


async def test_register_transport_errors(client: httpx.AsyncClient) -> None:
    problem(
        await client.post("/users", content=b"{}", headers={"content-type": "text/plain"}),
        415,
        "The request body must be application/json.",
    )
    problem(
        await client.post("/users", content=b"{" + b" " * 70000 + b"}", headers={"content-type": "application/json"}),
        413,
        "The request body is larger than 65536 bytes.",
    )
    body = problem(
        await client.post("/users", content=b"{nope", headers={"content-type": "application/json"}),
        400,
        "The request body is not valid JSON.",
    )
    assert body["errors"][0]["location"] == "body"


async def test_login(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.post("/auth/login", json={"email": "ADA@example.com", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["accessToken", "tokenType", "expiresIn", "user"]
    assert (body["tokenType"], body["expiresIn"], body["user"]) == ("Bearer", 3600, user)
    claims = jwt.decode(body["accessToken"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == user["id"] and claims["exp"] == claims["iat"] + 3600


@pytest.mark.parametrize(
    ("email", "password"), [("ada@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)]
)
async def test_login_failure_does_not_say_which_part_is_wrong(
    client: httpx.AsyncClient, email: str, password: str
) -> None:
    await register(client)
    response = await client.post("/auth/login", json={"email": email, "password": password})
    problem(response, 401, "The email or password is wrong.")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_login_validation(client: httpx.AsyncClient) -> None:
    body = problem(
        await client.post("/auth/login", json={"email": "a@b.io"}), 400, "The request does not match the contract."
    )
    assert body["errors"] == [{"location": "body", "message": body["errors"][0]["message"]}]


async def test_a_long_password_counts_its_first_72_bytes(client: httpx.AsyncClient) -> None:
    password = "ü" * 36  # 36 characters within maxLength, 72 bytes
    await client.post("/users", json={"email": "u@example.com", "password": password, "displayName": "U"})
    ok = await client.post("/auth/login", json={"email": "u@example.com", "password": password})
    assert ok.status_code == 200
    longer = await client.post("/auth/login", json={"email": "u@example.com", "password": password + "tail"})
    assert longer.status_code == 200  # bytes past the 72nd do not count


async def test_current_user(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.get("/users/me", headers=await login(client))
    assert response.status_code == 200 and response.json() == user


# Authentication


async def test_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/me")
    problem(response, 401, "A valid bearer token is required.")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic YTpi", "Bearer", "Bearer a b", "Token abc"])
async def test_malformed_authorization_is_no_credentials(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/users/me", headers={"Authorization": header})
    problem(response, 401, "A valid bearer token is required.")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_the_scheme_name_ignores_case(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    token = auth["Authorization"].split(" ")[1]
    assert (await client.get("/users/me", headers={"Authorization": f"bEaReR {token}"})).status_code == 200


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _attacks(user_id: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + 600}
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "HS512": jwt.encode(claims, SECRET * 2, algorithm="HS512"),
        "wrong signature": jwt.encode(claims, SECRET + "!", algorithm="HS256"),
        "expired": jwt.encode(claims | {"iat": now - 20, "exp": now - 10}, SECRET, algorithm="HS256"),
        "missing sub": jwt.encode({"iat": now, "exp": now + 600}, SECRET, algorithm="HS256"),
        "unknown user": jwt.encode(claims | {"sub": str(uuid.uuid4())}, SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize(
    "attack", ["alg none", "HS512", "wrong signature", "expired", "missing sub", "unknown user", "garbage"]
)
async def test_token_attacks(client: httpx.AsyncClient, attack: str) -> None:
    user = await register(client)
    token = _attacks(user["id"])[attack]
    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    problem(response, 401, "The bearer token is invalid or expired.")
    assert response.headers["www-authenticate"] == INVALID_TOKEN


async def test_a_token_signed_like_the_attacks_but_valid_is_accepted(client: httpx.AsyncClient) -> None:
    user = await register(client)
    now = int(time.time())
    token = jwt.encode({"sub": user["id"], "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")
    assert (await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_authentication_comes_before_validation(client: httpx.AsyncClient) -> None:
    response = await client.post("/tasks", json={"title": ""})
    problem(response, 401, "A valid bearer token is required.")
    response = await client.post("/tasks", content=b"{bad", headers={"Authorization": "Bearer x.y.z"})
    problem(response, 401, "The bearer token is invalid or expired.")


# Tasks


async def test_create_task(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    response = await create(client, auth, notes="Both", dueDate="2026-12-01", priority="high")
    task = response.json()
    assert list(task) == ["id", "title", "notes", "dueDate", "priority", "status", "createdAt", "updatedAt"]
    assert response.headers["location"] == f"/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert (task["notes"], task["dueDate"], task["priority"], task["status"]) == ("Both", "2026-12-01", "high", "open")
    assert task["createdAt"] == task["updatedAt"]


async def test_create_task_defaults(client: httpx.AsyncClient) -> None:
    task = (await create(client, await user_with_token(client))).json()
    assert (task["notes"], task["dueDate"], task["priority"], task["status"]) == (None, None, "normal", "open")


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"title": ""}, "body/title"),
        ({"title": 123}, "body/title"),
        ({"title": "x", "dueDate": "2026-02-30"}, "body/dueDate"),
        ({"title": "x", "priority": "urgent"}, "body/priority"),
        ({"title": "x", "notes": None}, "body/notes"),
        ({"title": "x", "extra": True}, "body"),
    ],
)
async def test_create_task_validation(client: httpx.AsyncClient, body: dict[str, Any], location: str) -> None:
    response = await client.post("/tasks", json=body, headers=await user_with_token(client))
    errors = problem(response, 400, "The request does not match the contract.")["errors"]
    assert location in {e["location"] for e in errors}


async def test_create_task_transport_errors(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    problem(await client.post("/tasks", headers=auth), 400, "The request does not match the contract.")
    problem(
        await client.post(
            "/tasks", content=b"title=x", headers={**auth, "content-type": "application/x-www-form-urlencoded"}
        ),
        415,
        "The request body must be application/json.",
    )
    big = json.dumps({"title": "x", "notes": "n" * 70000}).encode()
    problem(
        await client.post("/tasks", content=big, headers={**auth, "content-type": "application/json"}),
        413,
        "The request body is larger than 65536 bytes.",
    )


async def test_get_task(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    response = await client.get(f"/tasks/{task['id']}", headers=auth)
    assert response.status_code == 200 and response.json() == task and response.headers["etag"] == '"1"'
    upper = await client.get(f"/tasks/{task['id'].upper()}", headers=auth)
    assert upper.status_code == 200 and upper.json() == task


async def test_another_users_task_does_not_exist_for_them(client: httpx.AsyncClient) -> None:
    task = (await create(client, await user_with_token(client, "ada@example.com"))).json()
    bob = await user_with_token(client, "bob@example.com")
    path = f"/tasks/{task['id']}"
    problem(await client.get(path, headers=bob), 404, "No task with this id.")
    problem(await client.patch(path, json={"title": "mine"}, headers=bob), 404, "No task with this id.")
    problem(await client.delete(path, headers=bob), 404, "No task with this id.")
    assert (await client.get("/tasks", headers=bob)).json() == {"items": [], "nextCursor": None}


async def test_a_missing_task(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    problem(await client.get(f"/tasks/{uuid.uuid4()}", headers=auth), 404, "No task with this id.")
    body = problem(await client.get("/tasks/not-a-uuid", headers=auth), 400, "The request does not match the contract.")
    assert body["errors"][0]["location"] == "path/taskId"


async def test_update_task(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth, notes="n", dueDate="2026-12-01")).json()
    response = await client.patch(
        f"/tasks/{task['id']}", json={"status": "done", "notes": None, "priority": "low"}, headers=auth
    )
    assert response.status_code == 200 and response.headers["etag"] == '"2"'
    updated = response.json()
    assert (updated["status"], updated["notes"], updated["priority"]) == ("done", None, "low")
    assert (updated["title"], updated["dueDate"], updated["createdAt"]) == (
        task["title"],
        "2026-12-01",
        task["createdAt"],
    )
    assert updated["updatedAt"] >= task["updatedAt"]
    again = await client.patch(f"/tasks/{task['id']}", json={"dueDate": None}, headers=auth)
    assert again.headers["etag"] == '"3"' and again.json()["dueDate"] is None
    assert (await client.get(f"/tasks/{task['id']}", headers=auth)).json() == again.json()


@pytest.mark.parametrize("body", [{}, {"title": None}, {"status": "closed"}, {"title": "x", "id": "y"}])
async def test_update_task_validation(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    problem(
        await client.patch(f"/tasks/{task['id']}", json=body, headers=auth),
        400,
        "The request does not match the contract.",
    )


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"1"', 200),
        ("*", 200),
        ('"7", "1"', 200),
        ('"1",', 200),
        ('"2"', 412),
        ('W/"1"', 412),  # weak tags never match
        ('"01"', 412),
        ("1", 412),  # unparsable matches nothing
        ('"1" "2"', 412),
        ('"1", junk', 412),
        ('"99999999999999999999999"', 412),
    ],
)
async def test_if_match(client: httpx.AsyncClient, if_match: str, status: int) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    for method in ("PATCH", "DELETE"):
        response = await client.request(
            method,
            f"/tasks/{task['id']}",
            json={"title": "new"} if method == "PATCH" else None,
            headers={**auth, "If-Match": if_match},
        )
        if status == 412:
            problem(response, 412, "The task has changed since it was read.")
        else:
            assert response.status_code == (200 if method == "PATCH" else 204), response.text
            if method == "PATCH":  # the DELETE that follows must match the new version
                task_etag = response.headers["etag"]
                assert task_etag == '"2"'
                if_match = if_match.replace('"1"', task_etag)


async def test_404_takes_precedence_over_412(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    path = f"/tasks/{uuid.uuid4()}"
    problem(
        await client.patch(path, json={"title": "x"}, headers={**auth, "If-Match": '"9"'}), 404, "No task with this id."
    )
    problem(await client.delete(path, headers={**auth, "If-Match": '"9"'}), 404, "No task with this id.")


async def test_if_match_longer_than_the_contract_allows_is_a_validation_error(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    response = await client.delete(f"/tasks/{task['id']}", headers={**auth, "If-Match": '"' + "1" * 300 + '"'})
    assert (
        problem(response, 400, "The request does not match the contract.")["errors"][0]["location"] == "header/If-Match"
    )


async def test_of_two_updates_with_the_same_etag_exactly_one_wins(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    path = f"/tasks/{task['id']}"
    responses = await asyncio.gather(
        *(client.patch(path, json={"title": title}, headers={**auth, "If-Match": '"1"'}) for title in ("a", "b"))
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert (await client.get(path, headers=auth)).json()["title"] == winner["title"]


async def test_delete_task(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    response = await client.delete(f"/tasks/{task['id']}", headers=auth)
    assert response.status_code == 204 and response.content == b""
    problem(await client.get(f"/tasks/{task['id']}", headers=auth), 404, "No task with this id.")
    problem(await client.delete(f"/tasks/{task['id']}", headers=auth), 404, "No task with this id.")


# Listing


async def test_list_pages_newest_first_and_stable_under_inserts(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    ids = [(await create(client, auth, title=f"task {i}")).json()["id"] for i in range(5)]
    first = (await client.get("/tasks", params={"limit": 2}, headers=auth)).json()
    assert [t["id"] for t in first["items"]] == ids[:2:-1][:2] == [ids[4], ids[3]]
    await create(client, auth, title="newer")  # must not shift the following pages
    second = (await client.get("/tasks", params={"limit": 2, "cursor": first["nextCursor"]}, headers=auth)).json()
    assert [t["id"] for t in second["items"]] == [ids[2], ids[1]]
    third = (await client.get("/tasks", params={"limit": 2, "cursor": second["nextCursor"]}, headers=auth)).json()
    assert [t["id"] for t in third["items"]] == [ids[0]] and third["nextCursor"] is None


async def test_list_default_limit_and_cursor_form(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    for i in range(21):
        await create(client, auth, title=f"task {i}")
    page = (await client.get("/tasks", headers=auth)).json()
    assert len(page["items"]) == 20
    seq = int(base64.urlsafe_b64decode(page["nextCursor"] + "==").decode().removeprefix("v1:"))
    assert page["nextCursor"] == encode_cursor(seq)


async def test_list_filters(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    await create(client, auth, title="Buy MILK")
    await create(client, auth, title="Call", notes="about the milk")
    done = (await create(client, auth, title="Write")).json()
    await client.patch(f"/tasks/{done['id']}", json={"status": "done"}, headers=auth)

    async def titles(**params: str) -> list[str]:
        return [t["title"] for t in (await client.get("/tasks", params=params, headers=auth)).json()["items"]]

    assert await titles(q="Milk") == ["Call", "Buy MILK"]
    assert await titles(status="done") == ["Write"]
    assert await titles(status="open", q="call") == ["Call"]
    assert await titles(q="") == ["Write", "Call", "Buy MILK"]


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"limit": "0"}, "query/limit"),
        ({"limit": "101"}, "query/limit"),
        ({"limit": "1.5"}, "query/limit"),
        ({"status": "closed"}, "query/status"),
        ({"q": "x" * 101}, "query/q"),
        ({"cursor": "djE6MTI="}, "query/cursor"),
        ({"cursor": encode_cursor(0)}, "query/cursor"),
    ],
)
async def test_list_validation(client: httpx.AsyncClient, params: dict[str, str], location: str) -> None:
    response = await client.get("/tasks", params=params, headers=await user_with_token(client))
    errors = problem(response, 400, "The request does not match the contract.")["errors"]
    assert [e["location"] for e in errors] == [location]


async def test_a_cursor_the_server_did_not_issue(client: httpx.AsyncClient) -> None:
    response = await client.get("/tasks", params={"cursor": "bm9wZQ"}, headers=await user_with_token(client))
    body = problem(response, 400, "The request does not match the contract.")
    assert body["errors"] == [{"location": "query/cursor", "message": "is not a cursor this server issued"}]


# Kit-level answers the example API relies on


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    problem(await client.get("/nope"), 404, "No route matches this path.")
    response = await client.put("/tasks")
    problem(response, 405, "This path does not accept this method.")
    assert response.headers["allow"] == "GET, POST"
    assert (await client.post(f"/tasks/{uuid.uuid4()}")).headers["allow"] == "GET, DELETE, PATCH"


# Hostile clients


async def test_deep_json_is_400_before_any_recursion(client: httpx.AsyncClient) -> None:
    for body in (
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 65 + b"1" + b"}" * 65,
        b"[" * 32000 + b'"\\ud800"' + b"]" * 32000,
    ):
        response = await client.post("/users", content=body, headers={"Content-Type": "application/json"})
        found = problem(response, 400, "The request body is not valid JSON.")
        assert found["errors"] == [{"location": "body", "message": "nests arrays and objects deeper than 64 levels"}]
    # 64 levels, and brackets inside strings, are fine: the schema has its say.
    within = b"[" * 64 + b"]" * 64
    assert (
        await client.post("/users", content=within, headers={"Content-Type": "application/json"})
    ).status_code == 400
    text = json.dumps({"email": "a@example.com", "password": "[" * 65 + "x" * 7, "displayName": "{" * 65 + "]" * 15})
    assert (await client.post("/users", content=text, headers={"Content-Type": "application/json"})).status_code == 201


async def test_a_deleted_accounts_token_is_401_never_500(client: httpx.AsyncClient, settings: Any) -> None:
    auth = await user_with_token(client)
    await create(client, auth)  # the account is now in the authentication cache
    other = open_database(settings.database, settings.pool)  # another process's connection, in effect
    await other.open()
    await other.execute("DELETE FROM users", {})
    await other.close()
    response = await client.post("/tasks", json={"title": "Orphan"}, headers=auth)
    problem(response, 401, "The bearer token is invalid or expired.")
    # Forgotten by the cache at once: every operation is 401 from now on.
    for method, path in (("GET", "/tasks"), ("GET", "/users/me"), ("POST", "/tasks")):
        answer = await client.request(method, path, json={"title": "x"} if method == "POST" else None, headers=auth)
        problem(answer, 401, "The bearer token is invalid or expired.")


async def test_patch_without_if_match_never_412_under_concurrent_writes(client: httpx.AsyncClient) -> None:
    auth = await user_with_token(client)
    task = (await create(client, auth)).json()
    answers = await asyncio.gather(
        *(client.patch(f"/tasks/{task['id']}", json={"title": f"t{i}"}, headers=auth) for i in range(40))
    )
    assert {answer.status_code for answer in answers} == {200}
    assert (await client.get(f"/tasks/{task['id']}", headers=auth)).headers["etag"] == '"41"'


async def test_login_throttling_per_account_with_retry_after(client: httpx.AsyncClient) -> None:
    await register(client, "ada@example.com")
    await register(client, "bob@example.com")
    for _ in range(10):
        wrong = await client.post("/auth/login", json={"email": "ada@example.com", "password": "wrong-password"})
        assert wrong.status_code == 401
    for password in ("wrong-password", PASSWORD):  # not even the right password, until Retry-After has passed
        refused = await client.post("/auth/login", json={"email": "ADA@example.com", "password": password})
        problem(refused, 429, "Too many failed logins; try again later.")
        assert 1 <= int(refused.headers["retry-after"]) <= 900
    # Another account logs in at once, and its success is not slowed.
    started = time.monotonic()
    await login(client, "bob@example.com")
    assert time.monotonic() - started < 1


async def test_login_throttling_per_address_and_an_unknown_email_counts_too(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import load_settings
    from app.main import create_app

    monkeypatch.setenv("LOGIN_MAX_ADDRESS_FAILURES", "5")
    app = create_app(load_settings())
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        await register(c, "ada@example.com")
        for n in range(5):
            wrong = await c.post("/auth/login", json={"email": f"nobody{n}@example.com", "password": "wrong-password"})
            assert wrong.status_code == 401
        refused = await c.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        problem(refused, 429, "Too many failed logins; try again later.")


async def test_login_throttling_is_shared_through_the_database(settings: Any) -> None:
    from app.main import create_app

    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        one = httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://one")
        two = httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://two")
        await register(one)
        for _ in range(10):
            assert (
                await one.post("/auth/login", json={"email": "ada@example.com", "password": "nope"})
            ).status_code == 401
        refused = await two.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        problem(refused, 429, "Too many failed logins; try again later.")
        await one.aclose()
        await two.aclose()
