"""One structured JSON access-log line per request."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient
from twinapi_runtime.logs import JsonFormatter


def test_each_request_logs_one_json_line(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="twinapi.access")
    client.get("/nowhere", headers={"x-request-id": "abc"})
    [record] = [r for r in caplog.records if r.name == "twinapi.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "request"
    assert line["level"] == "info"
    assert line["time"].endswith("Z")
    assert {k: line[k] for k in ("method", "path", "status", "request_id")} == {
        "method": "GET",
        "path": "/nowhere",
        "status": 404,
        "request_id": "abc",
    }
    assert line["duration_ms"] >= 0


def test_middleware_a_user_adds_runs_inside_the_request_context(recorder: object) -> None:
    from conftest import Recorder, Tokens
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    from twinapi_runtime import build_app

    from app.generated.routes import CONTRACT_PATH, bind

    class Stamp:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def stamped(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-stamp", scope["state"]["request_id"].encode())]
                await send(message)

            await self.app(scope, receive, stamped)

    assert isinstance(recorder, Recorder)
    app = build_app(CONTRACT_PATH, bind(recorder, Tokens()))
    app.add_middleware(Stamp)
    with TestClient(app) as client:
        response = client.get("/health", headers={"x-request-id": "r-1"})
    assert response.headers["x-stamp"] == "r-1"
