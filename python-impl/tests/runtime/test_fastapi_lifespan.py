"""The app's lifespan runs around the contract's routes, and its state reaches their handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from conftest import Recorder, Tokens
from fastapi import FastAPI
from starlette.testclient import TestClient
from twinapi_runtime import Context, include_contract

from app.errors import Problems
from app.generated import models
from app.generated import operations as ops
from app.generated.routes import CONTRACT_PATH, bind


class FromState(Recorder):
    async def get_health(self, ctx: Context) -> ops.GetHealthResponse:
        version = ctx.request.state.release
        health = models.Health(status="ok", implementation=models.Implementation.python, version=version)
        return ops.GetHealth200(body=health)


def test_startup_and_shutdown_run_and_the_state_reaches_handlers() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"release": "2026.12"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    include_contract(app, CONTRACT_PATH, bind(FromState(), Tokens(), Problems()))
    with TestClient(app) as http:  # runs the lifespan as a server does, its state in every request's scope
        assert events == ["startup"]
        response = http.get("/health")
    assert events == ["startup", "shutdown"]
    assert response.status_code == 200 and response.json()["version"] == "2026.12"
