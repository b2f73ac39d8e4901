"""The order of checks, the problem bodies and the parameter rules every generated server shares."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from conftest import AUTH, Recorder
from starlette.testclient import TestClient
from twinapi_runtime.dispatch import POISON, poisoned

from app.generated import models

PROBLEM = "application/problem+json; charset=utf-8"
TASK_ID = "6c1b8a46-3c2f-4f8e-9d5a-2b7f0e1d9c3a"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank" and body["status"] == status
    return body


def locations(body: dict[str, Any]) -> list[str]:
    return sorted(e["location"] for e in body["errors"])


def test_documented_response_is_serialised_by_alias(client: TestClient) -> None:
    response = client.get("/tasks", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"items": [], "nextCursor": None}


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    body = problem(client.get("/nowhere"), 404)
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No route matches this path.",
        "instance": "/nowhere",
    }


def test_trailing_slash_is_not_redirected(client: TestClient) -> None:
    problem(client.get("/health/", follow_redirects=False), 404)


def test_an_empty_path_parameter_is_validated(client: TestClient) -> None:
    body = problem(client.get("/tasks/", headers=AUTH), 400)
    assert locations(body) == ["path/taskId"]


@pytest.mark.parametrize("method", ["PUT", "HEAD", "OPTIONS", "TRACE", "POST"])
def test_undocumented_method_lists_every_documented_one(client: TestClient, method: str) -> None:
    response = client.request(method, f"/tasks/{TASK_ID}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, DELETE, PATCH"


def test_authentication_comes_before_validation(client: TestClient, recorder: Recorder) -> None:
    response = client.post("/tasks", content=b"{not json", headers={"content-type": "text/plain"})
    body = problem(response, 401)
    assert body["detail"] == "A valid bearer token is required."
    assert response.headers["www-authenticate"] == "Bearer"
    assert recorder.calls == []


@pytest.mark.parametrize(
    "header", ["Bearer wrong", "Bearer", "Basic Z29vZC10b2tlbg==", "Bearer  good-token", "good-token", "Bearer a b"]
)
def test_bad_or_malformed_credentials_are_401(client: TestClient, header: str) -> None:
    response = client.get("/tasks", headers={"authorization": header})
    problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_bearer_scheme_name_is_case_insensitive(client: TestClient) -> None:
    assert client.get("/tasks", headers={"authorization": "bearer good-token"}).status_code == 200


def test_content_type_is_checked_before_size_and_syntax(client: TestClient) -> None:
    body = problem(client.post("/tasks", content=b"x" * 70000, headers={**AUTH, "content-type": "text/plain"}), 415)
    assert body["detail"] == "The request body must be application/json."


def test_oversized_body_is_413(client: TestClient) -> None:
    headers = {**AUTH, "content-type": "application/json"}
    body = problem(client.post("/tasks", content=b" " * 65537, headers=headers), 413)
    assert body["detail"] == "The request body is larger than 65536 bytes."


def test_chunked_oversized_body_is_413(client: TestClient) -> None:
    chunks = (b" " * 8192 for _ in range(9))
    problem(client.post("/tasks", content=chunks, headers={**AUTH, "content-type": "application/json"}), 413)


@pytest.mark.parametrize("raw", [b"{", b'{"title": NaN}', b'{"title": "\\ud800"}', b"\xff", b"1e400"])
def test_malformed_json_is_400_at_body(client: TestClient, raw: bytes) -> None:
    body = problem(client.post("/tasks", content=raw, headers={**AUTH, "content-type": "application/json"}), 400)
    assert body["detail"] == "The request body is not valid JSON."
    assert locations(body) == ["body"]


@pytest.mark.parametrize("headers", [{}, {"content-type": "application/json"}])
def test_missing_required_body_is_400(client: TestClient, headers: dict[str, str]) -> None:
    body = problem(client.post("/tasks", headers={**AUTH, **headers}), 400)
    assert body["errors"] == [{"location": "body", "message": "is required"}]


def test_body_is_validated_without_coercion(client: TestClient, recorder: Recorder) -> None:
    payload = {"title": 123, "dueDate": "2023-02-29", "priority": "urgent", "extra": True}
    body = problem(client.post("/tasks", json=payload, headers=AUTH), 400)
    assert body["detail"] == "The request does not match the contract."
    assert locations(body) == ["body", "body/dueDate", "body/priority", "body/title"]
    assert recorder.calls == []


def test_valid_body_reaches_the_handler_typed(client: TestClient, recorder: Recorder) -> None:
    payload = {"title": "Write", "dueDate": "2024-02-29"}
    problem(client.post("/tasks", json=payload, headers={**AUTH, "content-type": "application/json"}), 501)
    [(name, task)] = recorder.calls
    assert name == "create_task"
    assert task == models.NewTask(title="Write", due_date="2024-02-29", priority=models.TaskPriority.normal)


def test_charset_parameter_is_accepted(client: TestClient, recorder: Recorder) -> None:
    headers = {**AUTH, "content-type": "application/json; charset=utf-8"}
    problem(client.post("/tasks", content=b'{"title": "x"}', headers=headers), 501)
    assert len(recorder.calls) == 1


def test_min_properties_is_enforced(client: TestClient) -> None:
    body = problem(client.patch(f"/tasks/{TASK_ID}", json={}, headers=AUTH), 400)
    assert locations(body) == ["body"]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("limit=0", "query/limit"),
        ("limit=101", "query/limit"),
        ("limit=5.0", "query/limit"),
        ("limit=%205", "query/limit"),
        ("limit=", "query/limit"),
        ("limit=1&limit=2", "query/limit"),
        ("status=closed", "query/status"),
        ("q=" + "x" * 101, "query/q"),
    ],
)
def test_query_parameters_follow_the_shared_rules(client: TestClient, query: str, where: str) -> None:
    body = problem(client.get(f"/tasks?{query}", headers=AUTH), 400)
    assert locations(body) == [where]


def test_query_parameters_are_converted_and_defaulted(client: TestClient, recorder: Recorder) -> None:
    assert client.get("/tasks?limit=7&status=done&unknown=1", headers=AUTH).status_code == 200
    assert client.get("/tasks", headers=AUTH).status_code == 200
    [(_, first), (_, second)] = recorder.calls
    assert (first.limit, first.status, first.q) == (7, models.TaskStatus.done, None)
    assert second.limit == 20


def test_path_parameter_format_is_checked(client: TestClient) -> None:
    body = problem(client.get("/tasks/not-a-uuid", headers=AUTH), 400)
    assert locations(body) == ["path/taskId"]


def test_header_parameter_is_validated(client: TestClient) -> None:
    headers = {**AUTH, "if-match": "x" * 201}
    body = problem(client.patch(f"/tasks/{TASK_ID}", json={"title": "x"}, headers=headers), 400)
    assert locations(body) == ["header/If-Match"]


def test_empty_success_has_no_body(client: TestClient) -> None:
    response = client.delete(f"/tasks/{TASK_ID}", headers=AUTH)
    assert response.status_code == 204 and response.content == b""


def test_unexpected_exception_is_a_500_that_leaks_nothing(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    payload = {"email": "ada@example.com", "password": "12345678", "displayName": "Ada"}
    response = client.post("/users", json=payload, headers={"x-request-id": "trace-me"})
    body = problem(response, 500)
    assert body["detail"] == "An unexpected error occurred."
    assert "secret" not in response.text
    assert response.headers["x-request-id"] == "trace-me"
    logged = [r for r in caplog.records if r.name == "twinapi.error"]
    assert logged and getattr(logged[0], "fields", {}) == {"request_id": "trace-me"}


def test_request_id_is_generated_when_absent_or_unusable(client: TestClient) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health", headers={"x-request-id": "bad id with spaces"}).headers["x-request-id"]
    assert len(first) == 36 and len(second) == 36 and first != second


def test_contract_is_served_as_written(client: TestClient) -> None:
    import json

    from app.generated.routes import CONTRACT_PATH

    served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))["spec"]
    assert "swagger-ui" in client.get("/docs").text


def test_a_null_body_is_validated_not_taken_for_a_missing_one(client: TestClient, recorder: Recorder) -> None:
    body = problem(client.post("/tasks", content=b"null", headers={**AUTH, "content-type": "application/json"}), 400)
    assert locations(body) == ["body"]
    assert recorder.calls == []


def test_a_password_with_nul_is_refused_by_the_contract(client: TestClient) -> None:
    payload = {"email": "ada@example.com", "password": "1234\u00005678", "displayName": "Ada"}
    body = problem(client.post("/users", json=payload), 400)
    assert locations(body) == ["body/password"]


@pytest.mark.parametrize(
    "payload",
    [{"title": "x", "dueDate": "2026-01-01\n"}, {"title": "x", "dueDate": "2026-1-01"}, {"title": "x", "dueDate": ""}],
)
def test_formats_match_the_whole_value(client: TestClient, payload: dict[str, str]) -> None:
    body = problem(client.post("/tasks", json=payload, headers=AUTH), 400)
    assert locations(body) == ["body/dueDate"]


def test_the_framework_s_own_errors_are_problems_too(client: TestClient) -> None:
    response = client.post("/docs")
    body = problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD"
    assert body["instance"] == "/docs"


@pytest.mark.parametrize(
    "raw",
    [b'{"a": {"__proto__": {"admin": true}}}', b'[{"constructor": {"prototype": {}}}]', b'{"\\u005f_proto__": 1}'],
)
def test_prototype_poisoning_keys_are_found_at_any_depth(raw: bytes) -> None:
    assert poisoned(orjson.loads(raw))


@pytest.mark.parametrize("raw", [b'{"proto": 1, "constructor": "x"}', b'{"constructor": {"name": "x"}}'])
def test_lookalike_keys_are_not_poison(raw: bytes) -> None:
    assert not poisoned(orjson.loads(raw))


def test_poisoning_keys_are_refused_only_after_the_schema_errors(client: TestClient) -> None:
    headers = {**AUTH, "content-type": "application/json"}
    body = problem(client.post("/tasks", content=b'{"title": 7, "__proto__": {}}', headers=headers), 400)
    assert [error["message"] for error in body["errors"]].count(POISON["message"]) == 0
    assert "body/title" in locations(body)


def test_an_encoded_slash_stays_inside_its_path_parameter(client: TestClient) -> None:
    body = problem(client.get("/tasks/a%2Fb", headers=AUTH), 400)
    assert locations(body) == ["path/taskId"]
