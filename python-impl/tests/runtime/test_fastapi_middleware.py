"""Middleware the app adds, before or after including the contract, wraps the contract's routes too."""

from __future__ import annotations

import httpx
import pytest
from conftest import AUTH, Recorder, Tokens
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from twinapi_runtime import include_contract

from app.errors import Problems
from app.generated.routes import CONTRACT_PATH, bind

pytestmark = pytest.mark.anyio
ORIGIN = "https://app.example.com"


class Stamp:
    """Adds a header naming itself and, when the kit's request layer ran before it, the request id."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = scope.get("state", {}).get("request_id", "-")

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (f"x-{self.name}".encode(), seen.encode())]
            await send(message)

        await self.app(scope, receive, stamped)


def app_with_middleware(recorder: Recorder) -> FastAPI:
    app = FastAPI()
    app.add_middleware(Stamp, name="before")
    include_contract(app, CONTRACT_PATH, bind(recorder, Tokens(), Problems()))
    app.add_middleware(Stamp, name="after")
    app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["authorization"])

    @app.get("/extra")
    async def extra() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize("path", ["/health", "/tasks", "/extra", "/nowhere"])
async def test_the_app_s_middleware_wraps_every_route(recorder: Recorder, path: str) -> None:
    async with client(app_with_middleware(recorder)) as http:
        response = await http.get(path, headers={**AUTH, "origin": ORIGIN, "x-request-id": "r-1"})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    # Added before the contract: inside the kit's request layer. Added after: outside it.
    assert response.headers["x-before"] == "r-1"
    assert response.headers["x-after"] == "-"
    assert response.headers["x-request-id"] == "r-1"


async def test_cors_preflight_of_a_contract_route_is_answered_by_the_app_s_cors(recorder: Recorder) -> None:
    async with client(app_with_middleware(recorder)) as http:
        response = await http.options(
            "/tasks",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization",
            },
        )
        refused = await http.options(
            "/tasks", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert refused.status_code == 400
    assert recorder.calls == []
