"""Schemes whose credentials the kit cannot read (mutualTLS, a name no securitySchemes entry declares): the handler
is called with "" for every request that needs the scheme and decides from the request; access is never open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import contract_app
from starlette.responses import Response
from starlette.testclient import TestClient
from twinapi_runtime import AuthenticationFailed, Binding, Call, Context, ContractError, OperationRoute

SPEC = """
openapi: 3.1.0
info: {title: opaque, version: "1"}
paths:
  /certificate:
    get:
      security: [{certificate: []}]
      responses: {"204": {description: ok}}
  /undeclared:
    get:
      security: [{api_key: []}]
      responses: {"204": {description: ok}}
  /either:
    get:
      security: [{bearer: []}, {certificate: []}]
      responses: {"204": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    certificate: {type: mutualTLS}
"""
PROXY_HEADER = "x-client-cert-verified"


class Handlers:
    """The hand-written side: the proxy that terminates TLS says whether the client certificate was verified."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def _from_proxy(self, name: str, ctx: Context, credentials: str) -> str:
        self.calls.append((name, credentials))
        if ctx.request.headers.get(PROXY_HEADER) != "yes":
            raise AuthenticationFailed("No verified client certificate.")
        return name

    async def certificate(self, ctx: Context, credentials: str) -> str:
        return await self._from_proxy("certificate", ctx, credentials)

    async def api_key(self, ctx: Context, credentials: str) -> str:
        return await self._from_proxy("api_key", ctx, credentials)

    async def bearer(self, ctx: Context, credentials: str) -> str:
        self.calls.append(("bearer", credentials))
        return "bearer"


async def _answer(ctx: Context, call: Call) -> Response:
    return Response(status_code=204, headers={"x-principal": str(call.principal)})


def _app(
    contract_of: Callable[[str], Path], handlers: Handlers, authenticators: dict[str, Any] | None = None
) -> TestClient:
    routes = [OperationRoute(path, "GET", path, _answer) for path in ("/certificate", "/undeclared", "/either")]
    if authenticators is None:
        authenticators = {"bearer": handlers.bearer, "certificate": handlers.certificate, "api_key": handlers.api_key}
    binding = Binding(routes=routes, authenticators=authenticators, formats={})
    return TestClient(contract_app(contract_of(SPEC), binding))


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.mark.parametrize(("path", "scheme"), [("/certificate", "certificate"), ("/undeclared", "api_key")])
def test_the_handler_is_called_with_empty_credentials_even_when_nothing_is_sent(
    contract_of: Callable[[str], Path], handlers: Handlers, path: str, scheme: str
) -> None:
    client = _app(contract_of, handlers)
    refused = client.get(path)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == "No verified client certificate."
    accepted = client.get(path, headers={PROXY_HEADER: "yes"})
    assert accepted.status_code == 204 and accepted.headers["x-principal"] == scheme
    assert handlers.calls == [(scheme, ""), (scheme, "")]


def test_alternatives_take_the_first_requirement_whose_credentials_are_there(
    contract_of: Callable[[str], Path], handlers: Handlers
) -> None:
    client = _app(contract_of, handlers)
    with_token = client.get("/either", headers={"authorization": "Bearer t"})
    assert with_token.status_code == 204 and with_token.headers["x-principal"] == "bearer"
    assert handlers.calls == [("bearer", "t")]
    handlers.calls.clear()
    # No token: the opaque alternative is tried, and its handler decides.
    assert client.get("/either").status_code == 401
    certified = client.get("/either", headers={PROXY_HEADER: "yes"})
    assert certified.status_code == 204 and certified.headers["x-principal"] == "certificate"
    assert handlers.calls == [("certificate", ""), ("certificate", "")]


def test_a_scheme_without_a_handler_stops_the_server_from_starting(
    contract_of: Callable[[str], Path], handlers: Handlers
) -> None:
    with pytest.raises(ContractError, match="api_key"):
        _app(contract_of, handlers, {"bearer": handlers.bearer, "certificate": handlers.certificate})
