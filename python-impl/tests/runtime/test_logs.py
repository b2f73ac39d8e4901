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
