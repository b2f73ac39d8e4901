"""Fixtures shared by the tests: a clean environment, a fresh database file, the app in-process, users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.core.db import Database
from app.main import create_app

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
# Read by Settings: cleared for every test, so that the developer's own cannot leak in.
SETTINGS_VARIABLES = "HOST PORT DATABASE_PATH JWT_SECRET JWT_TTL_SECONDS BCRYPT_ROUNDS APP_ENV LOG_LEVEL".split()

Register = Callable[[str], Awaitable[dict[str, Any]]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "conduit.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    async with Database(db_path) as database:
        yield database


@pytest.fixture
def settings(db_path: Path) -> Settings:
    values = {"JWT_SECRET": SECRET, "DATABASE_PATH": str(db_path), "BCRYPT_ROUNDS": "4", "APP_ENV": "test"}
    return Settings.model_validate(values)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real application, its lifespan running: the database is open and migrated."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://conduit.test") as c:
        yield c


@pytest.fixture
def register(client: httpx.AsyncClient) -> Register:
    """Registers `name` (email `<name>@example.com`, password `<name>-password`); returns its `user` object."""

    async def register(name: str) -> dict[str, Any]:
        user = {"username": name, "email": f"{name}@example.com", "password": f"{name}-password"}
        response = await client.post("/users", json={"user": user})
        assert response.status_code == 201, response.text
        registered: dict[str, Any] = response.json()["user"]
        return registered

    return register
