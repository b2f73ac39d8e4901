import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.db import connect, migrate
from app.store import users


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A migrated database; the store's functions run on it in autocommit, one statement at a time."""
    connection = connect(tmp_path / "store.db")
    migrate(connection)
    yield connection
    connection.close()


@pytest.fixture
def alice(conn: sqlite3.Connection) -> int:
    return users.create(conn, "alice", "Alice@Example.com", "$2b$04$hash").id


@pytest.fixture
def bob(conn: sqlite3.Connection) -> int:
    return users.create(conn, "bob", "bob@example.com", "$2b$04$hash").id
