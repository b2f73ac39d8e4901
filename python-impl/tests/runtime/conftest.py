"""The runtime under test with stand-in operations, so its behaviour is checked apart from any real handler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from twinapi_codegen import contract, loader
from twinapi_runtime import AuthenticationFailed, Binding, Context, NotImplementedOperation, include_contract

from app.errors import Problems
from app.generated import models
from app.generated import operations as ops
from app.generated.routes import CONTRACT_PATH, bind

TOKEN = "good-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


class Recorder(ops.Operations[str]):
    """Answers what the tests need and remembers what reached it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def get_health(self, ctx: Context) -> ops.GetHealthResponse:
        health = models.Health(status="ok", implementation=models.Implementation.python, version="1")
        return ops.GetHealth200(body=health)

    async def register_user(self, ctx: Context, body: models.NewUser) -> ops.RegisterUserResponse:
        raise RuntimeError("secret internals")

    async def login_user(self, ctx: Context, body: models.LoginRequest) -> ops.LoginUserResponse:
        raise NotImplementedOperation()

    async def get_current_user(self, ctx: Context, principal: str) -> ops.GetCurrentUserResponse:
        raise NotImplementedOperation()

    async def list_tasks(self, ctx: Context, principal: str, params: models.ListTasksParams) -> ops.ListTasksResponse:
        self.calls.append(("list_tasks", params))
        return ops.ListTasks200(body=models.TaskPage(items=[], next_cursor=None))

    async def create_task(self, ctx: Context, principal: str, body: models.NewTask) -> ops.CreateTaskResponse:
        self.calls.append(("create_task", body))
        raise NotImplementedOperation()

    async def get_task(self, ctx: Context, principal: str, params: models.GetTaskParams) -> ops.GetTaskResponse:
        self.calls.append(("get_task", params))
        raise NotImplementedOperation()

    async def update_task(
        self, ctx: Context, principal: str, params: models.UpdateTaskParams, body: models.TaskPatch
    ) -> ops.UpdateTaskResponse:
        self.calls.append(("update_task", (params, body)))
        raise NotImplementedOperation()

    async def delete_task(
        self, ctx: Context, principal: str, params: models.DeleteTaskParams
    ) -> ops.DeleteTaskResponse:
        return ops.DeleteTask204()


class Tokens(ops.SecurityHandlers[str]):
    async def bearer_auth(self, ctx: Context, credentials: str) -> str:
        if credentials != TOKEN:
            raise AuthenticationFailed()
        return "user-1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def contract_app(contract_path: Path, binding: Binding) -> FastAPI:
    """A plain FastAPI app serving the contract, as a user's project creates it."""
    app = FastAPI()
    include_contract(app, contract_path, binding)
    return app


@pytest.fixture
def client(recorder: Recorder) -> Iterator[TestClient]:
    with TestClient(
        contract_app(CONTRACT_PATH, bind(recorder, Tokens(), Problems())), raise_server_exceptions=False
    ) as client:
        yield client


@pytest.fixture
def contract_of(tmp_path: Path) -> Callable[[str], Path]:
    """The contract document the generator writes for a spec (YAML text), as the runtime loads it: its path."""

    def write(spec: str) -> Path:
        source = tmp_path / "openapi.yaml"
        source.write_text(spec, encoding="utf-8")
        path = tmp_path / contract.FILE_NAME
        path.write_text(contract.render(contract.document(loader.load(source), "test")), encoding="utf-8")
        return path

    return write
