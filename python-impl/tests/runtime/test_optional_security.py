"""Optional security (`security: [{}, {scheme: []}]`) and an API key in the Authorization header with a prefix
(RealWorld's Conduit: `Authorization: Token <jwt>`). Without any credential the handler gets no principal (None);
credentials that are sent but bad, or that no scheme of the operation can read, are 401 as on any secured operation.
The same cases as node-impl/test/kit/optional-security.test.ts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import contract_app
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient
from twinapi_runtime import AuthenticationFailed, Binding, Call, Context, OperationRoute

SPEC = """
openapi: 3.1.0
info: {title: optional, version: "1"}
paths:
  /articles:
    get:
      security: [{}, {Token: []}]
      responses: {"200": {description: ok}}
  /user:
    get:
      security: [{Token: []}]
      responses: {"200": {description: ok}}
  /search:
    get:
      security: [{bearer: []}, {}, {key: []}]
      responses: {"200": {description: ok}}
  /keyed:
    get:
      security: [{header: []}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    Token: {type: apiKey, in: header, name: Authorization, description: "Token <jwt>"}
    bearer: {type: http, scheme: bearer}
    key: {type: apiKey, in: query, name: api_key}
    header: {type: apiKey, in: header, name: X-Api-Key}
"""
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYWtlIn0.c2lnbmF0dXJl"


class Handlers:
    """Each accepts one credential and remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def _check(self, name: str, credentials: str, good: str) -> str:
        self.calls.append((name, credentials))
        if credentials != good:
            raise AuthenticationFailed()
        return f"{name}-user"

    async def token(self, ctx: Context, credentials: str) -> str:
        return await self._check("Token", credentials, f"Token {JWT}")

    async def bearer(self, ctx: Context, credentials: str) -> str:
        return await self._check("bearer", credentials, "good")

    async def key(self, ctx: Context, credentials: str) -> str:
        return await self._check("key", credentials, "k")

    async def header(self, ctx: Context, credentials: str) -> str:
        return await self._check("header", credentials, "k")


async def _principal(ctx: Context, call: Call) -> Response:
    return JSONResponse({"principal": call.principal})


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def client(contract_of: Callable[[str], Path], handlers: Handlers) -> Iterator[TestClient]:
    routes = [OperationRoute(path, "GET", path, _principal) for path in ("/articles", "/user", "/search", "/keyed")]
    authenticators = {
        "Token": handlers.token,
        "bearer": handlers.bearer,
        "key": handlers.key,
        "header": handlers.header,
    }
    app = contract_app(contract_of(SPEC), Binding(routes=routes, authenticators=authenticators, formats={}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_without_credentials_the_handler_gets_no_principal(client: TestClient, handlers: Handlers) -> None:
    for headers in ({}, {"authorization": ""}):
        response = client.get("/articles", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"principal": None}
    # An empty value is no credential, wherever it is sent.
    assert client.get("/search", params={"api_key": ""}, headers={"authorization": ""}).json() == {"principal": None}
    assert client.get("/keyed", headers={"x-api-key": ""}).status_code == 401
    assert handlers.calls == []


def test_an_api_key_with_a_prefix_reaches_its_handler_as_the_raw_header(client: TestClient, handlers: Handlers) -> None:
    for path in ("/articles", "/user"):
        response = client.get(path, headers={"Authorization": f"Token {JWT}"})
        assert response.status_code == 200, response.text
        assert response.json() == {"principal": "Token-user"}
    assert handlers.calls == [("Token", f"Token {JWT}")] * 2


@pytest.mark.parametrize("value", ["Token bad", "Bearer " + JWT, "Token", JWT])
def test_bad_credentials_on_an_optional_operation_are_401(client: TestClient, handlers: Handlers, value: str) -> None:
    response = client.get("/articles", headers={"authorization": value})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert handlers.calls == [("Token", value)]


def test_a_required_scheme_is_still_required(client: TestClient) -> None:
    response = client.get("/user")
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


def test_alternatives_take_the_first_requirement_whose_credentials_are_there(
    client: TestClient, handlers: Handlers
) -> None:
    assert client.get("/search").json() == {"principal": None}
    assert client.get("/search", headers={"authorization": "Bearer good"}).json() == {"principal": "bearer-user"}
    assert client.get("/search", params={"api_key": "k"}).json() == {"principal": "key-user"}
    assert handlers.calls == [("bearer", "good"), ("key", "k")]


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        pytest.param({"authorization": "Bearer"}, {}, id="a bearer scheme without its token"),
        pytest.param({"authorization": "Token t"}, {}, id="a prefix no scheme of the operation reads"),
        pytest.param({"authorization": "Basic dTpw"}, {}, id="another scheme's credentials"),
        pytest.param({"authorization": "Bearer bad"}, {}, id="a bad token"),
    ],
)
def test_credentials_that_are_sent_but_unusable_are_401_not_anonymous(
    client: TestClient, headers: dict[str, str], query: dict[str, str]
) -> None:
    response = client.get("/search", headers=headers, params=query)
    assert response.status_code == 401, response.text


def test_a_repeated_api_key_header_is_its_lines_joined_as_node_reads_it(client: TestClient, handlers: Handlers) -> None:
    response = client.get("/keyed", headers=[("X-Api-Key", "k"), ("X-Api-Key", "other")])
    assert response.status_code == 401
    assert handlers.calls == [("header", "k, other")]
