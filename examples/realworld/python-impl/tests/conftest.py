"""Fixtures shared by the tests: a clean environment, a fresh database, the app in-process, users.

The database is a SQLite file, or, when TWINAPI_TEST_POSTGRES_URL names a cluster's admin URL (`make test-python`
runs the suite a second time inside the kit's `python -m twinapi_conformance.postgres`), a fresh PostgreSQL
database on that cluster.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from twinapi_conformance.postgres import create_database, throwaway_cluster

from app.core.config import Settings
from app.core.db import Database, open_database
from app.main import create_app

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
# Read by Settings: cleared for every test, so that the developer's own cannot leak in.
SETTINGS_VARIABLES = (
    "HOST PORT DATABASE_PATH DATABASE_URL DATABASE_POOL_SIZE DATABASE_POOL_TIMEOUT_SECONDS"
    " DATABASE_CONNECT_TIMEOUT_SECONDS DATABASE_STATEMENT_TIMEOUT_SECONDS"
    " JWT_SECRET JWT_TTL_SECONDS BCRYPT_ROUNDS APP_ENV LOG_LEVEL"
).split()
# The cluster this run's tests use, set by the kit's harness; None: the tests run on SQLite.
POSTGRES_ADMIN_URL = os.environ.get("TWINAPI_TEST_POSTGRES_URL")

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


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A cluster for the tests about PostgreSQL itself: the run's own, else a throwaway one of their own."""
    if POSTGRES_ADMIN_URL is not None:
        yield POSTGRES_ADMIN_URL
        return
    with throwaway_cluster() as cluster:
        yield cluster.admin_url


@pytest.fixture
def database_url(db_path: Path) -> str:
    """DATABASE_URL of this test's fresh database, on the engine the run is on."""
    return f"sqlite:///{db_path}" if POSTGRES_ADMIN_URL is None else create_database(POSTGRES_ADMIN_URL, "conduit")


@pytest.fixture
def settings(database_url: str) -> Settings:
    values = {"JWT_SECRET": SECRET, "DATABASE_URL": database_url, "BCRYPT_ROUNDS": "4", "APP_ENV": "test"}
    return Settings.model_validate(values)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = open_database(settings.database, settings.pool)
    await database.open()
    yield database
    await database.close()


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
