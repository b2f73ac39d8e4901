"""Operations that declare no request body, called the way real clients call them: `Content-Type: application/json`
with nothing after it, or a body anyway (the RealWorld Postman suite sends both). The body is read, held to the size
limit, and dropped: it is never parsed or validated and never reaches the handler.
The same cases as node-impl/test/kit/bodyless.test.ts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import contract_app
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient
from twinapi_runtime import Binding, Call, Context, OperationRoute

SPEC = """
openapi: 3.1.0
info: {title: bodyless, version: "1"}
paths:
  /articles/{slug}/favorite:
    parameters: [{name: slug, in: path, required: true, schema: {type: string, maxLength: 8}}]
    post: {responses: {"200": {description: ok}}}
    delete: {responses: {"200": {description: ok}}}
  /tags:
    get: {responses: {"200": {description: ok}}}
  /notes:
    post:
      requestBody:
        required: true
        content:
          application/json: {schema: {type: object}}
          text/plain: {schema: {type: string}}
      responses: {"200": {description: ok}}
"""
LIMIT = 65536
FAVORITE = "/articles/a/favorite"


async def _echo(ctx: Context, call: Call) -> Response:
    body = call.body if call.body is None or isinstance(call.body, dict) else repr(call.body)
    return JSONResponse({"params": call.params, "body": body})


@pytest.fixture
def client(contract_of: Callable[[str], Path]) -> Iterator[TestClient]:
    routes = [
        OperationRoute("favorite", "POST", "/articles/{slug}/favorite", _echo),
        OperationRoute("unfavorite", "DELETE", "/articles/{slug}/favorite", _echo),
        OperationRoute("tags", "GET", "/tags", _echo),
        OperationRoute("note", "POST", "/notes", _echo),
    ]
    app = contract_app(contract_of(SPEC), Binding(routes=routes, authenticators={}, formats={}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


JSON = {"content-type": "application/json"}
SENT = [
    pytest.param(JSON, b"", id="application/json and no body"),
    pytest.param(JSON, b'{"user": {"email": "a@example.com"}}', id="a JSON body"),
    pytest.param(JSON, b'{"user": ', id="malformed JSON"),
    pytest.param({"content-type": "text/plain"}, b"on", id="another operation's media type"),
    pytest.param({"content-type": "application/xml"}, b"<a/>", id="an undeclared media type"),
    pytest.param({}, b"anything", id="no Content-Type"),
    pytest.param(JSON, b"a" * LIMIT, id="exactly the size limit"),
]


@pytest.mark.parametrize(("headers", "content"), SENT)
@pytest.mark.parametrize(("method", "path"), [("POST", FAVORITE), ("DELETE", FAVORITE), ("GET", "/tags")])
def test_a_body_sent_to_an_operation_without_one_is_dropped(
    client: TestClient, method: str, path: str, headers: dict[str, str], content: bytes
) -> None:
    response = client.request(method, path, headers=headers, content=content)
    assert response.status_code == 200, response.text
    assert response.json()["body"] is None


def test_a_chunked_body_is_dropped_too(client: TestClient) -> None:
    response = client.post(FAVORITE, headers=JSON, content=iter([b'{"a":', b" 1}"]))
    assert response.status_code == 200, response.text
    assert response.json()["body"] is None


@pytest.mark.parametrize("headers", [JSON, {"content-type": "application/xml"}, {}], ids=["JSON", "undeclared", "none"])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_dropped_body_is_held_to_the_size_limit(client: TestClient, method: str, headers: dict[str, str]) -> None:
    response = client.request(method, FAVORITE, headers=headers, content=b"a" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == f"The request body is larger than {LIMIT} bytes."


def test_parameters_are_validated_whatever_the_body(client: TestClient) -> None:
    response = client.post("/articles/far-too-long/favorite", headers=JSON, content=b"{}")
    assert response.status_code == 400
    assert [error["location"] for error in response.json()["errors"]] == ["path/slug"]


def test_a_declared_json_body_stays_required(client: TestClient) -> None:
    missing = client.post("/notes", headers=JSON, content=b"")
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"location": "body", "message": "is required"}]
    sent = client.post("/notes", json={"a": 1})
    assert sent.status_code == 200 and sent.json()["body"] == {"a": 1}
