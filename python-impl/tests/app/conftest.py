"""Fixtures shared by the app's tests: a fresh database file per test, settings for a test server."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings, load_settings
from app.core.db import Database
from app.main import create_app

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


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = Database(db_path)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, db_path: Path) -> Settings:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
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
