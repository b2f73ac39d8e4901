"""The same app as a real uvicorn process: a user's Depends route and the contract's routes over real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import AUTH

HERE = Path(__file__).parent
USER_APP = """
from typing import Annotated

from conftest import Recorder, Tokens
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.errors import Problems
from app.generated.routes import CONTRACT_PATH, bind
from twinapi_runtime import include_contract


def caller() -> str:
    return "from a dependency"


app = FastAPI()


@app.get("/extra")
async def extra(who: Annotated[str, Depends(caller)]) -> dict[str, str]:
    return {"who": who}


include_contract(app, CONTRACT_PATH, bind(Recorder(), Tokens(), Problems()))
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "user_app.py").write_text(USER_APP, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(HERE)])}
    command = [sys.executable, "-m", "uvicorn", "user_app:app", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"uvicorn did not start: {output}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_user_routes_and_contract_routes_over_uvicorn(server: str) -> None:
    with httpx.Client(base_url=server, timeout=5) as http:
        extra = http.get("/extra")
        health = http.get("/health", headers={"origin": "https://app.example.com"})
        tasks = http.get("/tasks", headers=AUTH)
        refused = http.get("/tasks")
        spec = http.get("/openapi.json")
    assert (extra.status_code, extra.json()) == (200, {"who": "from a dependency"})
    assert health.status_code == 200 and health.headers["access-control-allow-origin"] == "https://app.example.com"
    assert tasks.status_code == 200
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    assert "/tasks/{taskId}" in spec.json()["paths"]
