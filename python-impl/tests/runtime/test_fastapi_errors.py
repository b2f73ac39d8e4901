"""The app's exception handlers work beside the contract; what the app does not handle is a problem."""

# No `from __future__ import annotations`: FastAPI reads the annotations of routes defined inside the tests.

import httpx
import pytest
from conftest import AUTH, Recorder, Tokens
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from twinapi_runtime import Context, include_contract

from app.errors import Problems
from app.generated import models
from app.generated import operations as ops
from app.generated.routes import CONTRACT_PATH, bind

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json; charset=utf-8"


class OutOfStock(Exception):
    pass


class Failing(Recorder):
    async def list_tasks(self, ctx: Context, principal: str, params: models.ListTasksParams) -> ops.ListTasksResponse:
        raise OutOfStock("tasks")


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


def app_with_handler() -> FastAPI:
    app = FastAPI()

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
        return JSONResponse({"out_of_stock": str(exc)}, status_code=409)

    @app.get("/items/{name}")
    async def item(name: str) -> dict[str, str]:
        if name == "gone":
            raise OutOfStock(name)
        if name == "secret":
            raise HTTPException(403, "Not yours.", headers={"x-reason": "owner"})
        if name == "boom":
            raise RuntimeError("internals")
        return {"name": name}

    include_contract(app, CONTRACT_PATH, bind(Failing(), Tokens(), Problems()))
    return app


async def test_the_app_s_handler_answers_its_exception_from_its_own_routes_and_the_contract_s() -> None:
    async with client(app_with_handler()) as http:
        own = await http.get("/items/gone")
        contract = await http.get("/tasks", headers=AUTH)
    assert (own.status_code, own.json()) == (409, {"out_of_stock": "gone"})
    assert (contract.status_code, contract.json()) == (409, {"out_of_stock": "tasks"})


async def test_an_http_exception_of_the_app_is_a_problem() -> None:
    async with client(app_with_handler()) as http:
        response = await http.get("/items/secret")
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM and response.headers["x-reason"] == "owner"
    assert response.json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Not yours.",
        "instance": "/items/secret",
    }


async def test_an_unexpected_error_is_a_problem_that_leaks_nothing() -> None:
    async with client(app_with_handler()) as http:
        response = await http.get("/items/boom", headers={"x-request-id": "r-9"})
    assert response.status_code == 500 and response.headers["content-type"] == PROBLEM
    assert response.headers["x-request-id"] == "r-9"
    assert "internals" not in response.text


async def test_the_app_s_own_handler_for_unexpected_errors_is_used() -> None:
    app = FastAPI()

    @app.exception_handler(Exception)
    async def everything(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"mine": type(exc).__name__}, status_code=500)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internals")

    include_contract(app, CONTRACT_PATH, bind(Recorder(), Tokens(), Problems()))
    async with client(app) as http:
        own, contract = await http.get("/boom"), await http.post("/users", json={})
        registered = await http.post(
            "/users", json={"email": "a@example.com", "password": "long enough pass", "displayName": "A"}
        )
    assert own.json() == {"mine": "RuntimeError"}
    assert contract.status_code == 400  # the contract's own errors stay the contract's
    assert (registered.status_code, registered.json()) == (500, {"mine": "RuntimeError"})


async def test_the_app_may_keep_fastapi_s_answer_to_http_exceptions() -> None:
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def detail_only(request: Request, exc: Exception) -> Response:
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]

    app = FastAPI(exception_handlers={StarletteHTTPException: detail_only})
    include_contract(app, CONTRACT_PATH, bind(Recorder(), Tokens(), Problems()))
    async with client(app) as http:
        response = await http.get("/nowhere")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
