"""The store's functions on a migrated database of the run's engine, each statement committed on its own."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from app.core.db import PostgresQueries, Queries, SqliteQueries, connect, migrate, migrate_postgresql
from app.store import users
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.anyio


async def _here(job: Any) -> Any:
    return job()  # a test's statements run one at a time: the event loop's thread may run them


@pytest.fixture
async def q(tmp_path: Path, database_url: str) -> AsyncIterator[Queries]:
    if POSTGRES_ADMIN_URL is None:
        conn = connect(tmp_path / "conduit.db")
        migrate(conn)
        yield SqliteQueries(conn, _here)
        conn.close()
        return
    pg = await asyncpg.connect(database_url)
    await migrate_postgresql(pg)
    yield PostgresQueries(pg)
    await pg.close()


@pytest.fixture
async def alice(q: Queries) -> int:
    return (await users.create(q, "alice", "Alice@Example.com", "$2b$04$hash")).id


@pytest.fixture
async def bob(q: Queries) -> int:
    return (await users.create(q, "bob", "bob@example.com", "$2b$04$hash")).id
