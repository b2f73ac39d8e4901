"""Fixtures shared by the app's tests: a fresh database file per test, settings for a test server."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.core.db import Database

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
