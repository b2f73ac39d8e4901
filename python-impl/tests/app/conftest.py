"""Fixtures shared by the app's tests: a fresh database per test, settings for a test server.

The database is a SQLite file, or, when TWINAPI_TEST_POSTGRES_URL names a cluster's admin URL (`make test-python`
runs the suite a second time inside `python -m twinapi_conformance.postgres`), a fresh PostgreSQL database on it.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from twinapi_conformance.postgres import create_database, throwaway_cluster

from app.core.config import Settings, load_settings
from app.core.db import Database, open_database
from app.main import create_app

POSTGRES_ADMIN_URL = os.environ.get("TWINAPI_TEST_POSTGRES_URL")

# The server's variables, cleared for every test so the developer's environment cannot leak in.
VARIABLES = (
    "HOST",
    "PORT",
    "DATABASE_URL",
    "JWT_SECRET",
    "JWT_TTL_SECONDS",
    "BCRYPT_ROUNDS",
    "LOG_LEVEL",
    "APP_ENV",
)
SECRET = "test-secret-that-is-at-least-32-bytes-long"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "app.db"


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The suite's PostgreSQL cluster: the one it runs inside, or a throwaway one for the PostgreSQL-only tests."""
    if POSTGRES_ADMIN_URL is not None:
        yield POSTGRES_ADMIN_URL
        return
    with throwaway_cluster() as cluster:
        yield cluster.admin_url


@pytest.fixture
def database_url(db_path: Path) -> str:
    """DATABASE_URL of this test's fresh database, on the engine the suite runs on."""
    if POSTGRES_ADMIN_URL is None:
        return f"sqlite:///{db_path}"
    return create_database(POSTGRES_ADMIN_URL)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = open_database(settings.database, settings.pool)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("APP_ENV", "test")
    return load_settings()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real application in-process, lifespan included (the database opens and closes with it)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
