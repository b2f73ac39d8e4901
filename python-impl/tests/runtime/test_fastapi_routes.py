"""The app is the user's FastAPI app: their own routes, dependencies and routers work beside the contract's."""

# No `from __future__ import annotations`: FastAPI reads the annotations of routes defined inside the tests.

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import httpx
import pytest
from conftest import AUTH, Recorder, Tokens
from fastapi import APIRouter, Depends, FastAPI, Header
from twinapi_runtime import include_contract

from app.errors import Problems
from app.generated.routes import CONTRACT_PATH, bind

pytestmark = pytest.mark.anyio


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_route_with_dependencies_answers_beside_the_contract(recorder: Recorder) -> None:
    closed: list[str] = []

    def caller(x_caller: Annotated[str, Header()] = "anonymous") -> str:
        return x_caller

    async def session() -> AsyncIterator[str]:
        yield "session-1"
        closed.append("async")

    def connection() -> Iterator[str]:
        yield "connection-1"
        closed.append("sync")

    app = FastAPI()

    @app.get("/extra")
    async def extra(
        who: Annotated[str, Depends(caller)],
        s: Annotated[str, Depends(session)],
        c: Annotated[str, Depends(connection)],
    ) -> dict[str, str]:
        return {"who": who, "session": s, "connection": c}

    include_contract(app, CONTRACT_PATH, bind(recorder, Tokens(), Problems()))
    async with client(app) as http:
        extra_answer = await http.get("/extra", headers={"x-caller": "ada"})
        health = await http.get("/health")
    assert extra_answer.status_code == 200
    assert extra_answer.json() == {"who": "ada", "session": "session-1", "connection": "connection-1"}
    assert sorted(closed) == ["async", "sync"]  # yield dependencies ran their exit code
    assert health.status_code == 200 and health.json()["implementation"] == "python"


async def test_a_dependency_s_validation_error_is_fastapi_s(recorder: Recorder) -> None:
    app = FastAPI()

    @app.get("/numbers/{n}")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    include_contract(app, CONTRACT_PATH, bind(recorder, Tokens(), Problems()))
    async with client(app) as http:
        good, bad = await http.get("/numbers/7"), await http.get("/numbers/seven")
    assert good.json() == {"n": 7}
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "n"]


async def test_routers_included_before_or_after_the_contract_answer(recorder: Recorder) -> None:
    def tenant() -> str:
        return "acme"

    first, second = APIRouter(prefix="/admin", dependencies=[Depends(tenant)]), APIRouter()

    @first.get("/stats")
    async def stats(t: Annotated[str, Depends(tenant)]) -> dict[str, str]:
        return {"tenant": t}

    @second.post("/webhooks/{name}", status_code=202)
    async def webhook(name: str) -> dict[str, str]:
        return {"accepted": name}

    app = FastAPI()
    app.include_router(first)
    include_contract(app, CONTRACT_PATH, bind(recorder, Tokens(), Problems()))
    app.include_router(second)
    async with client(app) as http:
        assert (await http.get("/admin/stats")).json() == {"tenant": "acme"}
        hook = await http.post("/webhooks/billing")
        assert hook.status_code == 202 and hook.json() == {"accepted": "billing"}
        listed = await http.get("/tasks", headers=AUTH)
        assert listed.status_code == 200 and listed.json() == {"items": [], "nextCursor": None}
    assert recorder.calls and recorder.calls[0][0] == "list_tasks"


async def test_contract_paths_belong_to_the_contract(recorder: Recorder) -> None:
    app = FastAPI()

    @app.get("/health")
    async def shadowed() -> dict[str, str]:
        return {"who": "user"}

    @app.get("/extra")
    async def extra() -> dict[str, str]:
        return {"who": "user"}

    include_contract(app, CONTRACT_PATH, bind(recorder, Tokens(), Problems()))
    async with client(app) as http:
        assert (await http.get("/health")).json()["implementation"] == "python"
        # Exact, as in Node: a contract path with a slash added is not redirected to it; a user's route is.
        slashed = await http.get("/health/")
        assert slashed.status_code == 404 and slashed.headers["content-type"].startswith("application/problem+json")
        assert (await http.get("/extra/")).status_code == 307
        unknown = await http.get("/nowhere")
        assert unknown.status_code == 404 and unknown.json()["detail"] == "No route matches this path."


def test_the_contract_is_included_before_the_app_starts(recorder: Recorder) -> None:
    from starlette.testclient import TestClient

    app = FastAPI()
    with TestClient(app):
        with pytest.raises(RuntimeError, match="before the application starts"):
            include_contract(app, CONTRACT_PATH, bind(recorder, Tokens(), Problems()))
