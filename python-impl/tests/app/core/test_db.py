import asyncio
import hashlib
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.core.db import MIGRATIONS, IntegrityError, MigrationError, SqliteDatabase, connect, migrate, positional

pytestmark = pytest.mark.anyio


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of db/migrations that a test may change."""
    return Path(shutil.copytree(MIGRATIONS, tmp_path / "migrations"))


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[SqliteDatabase]:
    """SQLite's engine itself, whichever engine the rest of the suite runs on."""
    database = SqliteDatabase(db_path)
    await database.open()
    yield database
    await database.close()


def tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_connect_sets_the_pragmas(tmp_path: Path) -> None:
    conn = connect(tmp_path / "new" / "app.db")  # the folder is created
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    conn.close()


def test_migrations_apply_once(tmp_path: Path) -> None:
    conn = connect(tmp_path / "app.db")
    assert migrate(conn) == ["0001_init", "0002_login_failures"]
    assert {"users", "tasks", "login_failures", "schema_migrations"} <= tables(conn)
    assert migrate(conn) == []
    version, checksum, applied_at = conn.execute("SELECT * FROM schema_migrations ORDER BY version").fetchone()
    assert version == "0001_init"
    assert checksum == hashlib.sha256((MIGRATIONS / "0001_init.sql").read_bytes()).hexdigest()
    assert applied_at.endswith("Z") and len(applied_at) == 24


def test_a_new_migration_is_applied_after_the_old_ones(tmp_path: Path, migrations: Path) -> None:
    conn = connect(tmp_path / "app.db")
    migrate(conn, migrations)
    (migrations / "0002_tags.sql").write_text("CREATE TABLE tags (name TEXT);\n-- trailing comment\n")
    assert migrate(conn, migrations) == ["0002_tags"]
    assert "tags" in tables(conn)


def test_a_changed_migration_is_refused_naming_the_file(tmp_path: Path, migrations: Path) -> None:
    conn = connect(tmp_path / "app.db")
    migrate(conn, migrations)
    with (migrations / "0001_init.sql").open("a") as file:
        file.write("-- edited\n")
    with pytest.raises(MigrationError, match=r"0001_init\.sql"):
        migrate(conn, migrations)


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path, migrations: Path) -> None:
    conn = connect(tmp_path / "app.db")
    (migrations / "0002_bad.sql").write_text("CREATE TABLE half (x TEXT);\nCREATE TABLE users (x TEXT);\n")
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        migrate(conn, migrations)
    assert tables(conn) == set()  # 0001 and the first half of 0002 were rolled back with it


def test_two_servers_starting_together_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    applied: list[list[str]] = []
    errors: list[BaseException] = []
    # Bounded waits: a server that fails before the barrier breaks it for the other instead of leaving it (and the
    # test run) waiting forever, and its error is the test's failure.
    start = threading.Barrier(2, timeout=30)

    def server() -> None:
        try:
            conn = connect(path)
            start.wait()
            applied.append(migrate(conn))
            conn.close()
        except BaseException as exc:
            start.abort()
            errors.append(exc)

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a server's migration did not finish within 60 s"
    assert not errors, errors
    assert sorted(applied) == [[], ["0001_init", "0002_login_failures"]]


async def test_the_async_api(db: SqliteDatabase) -> None:
    await db.execute(
        "INSERT INTO users (id, email, email_key, display_name, password_hash, created_at)"
        " VALUES (:id, 'a@x.io', 'a@x.io', 'A', 'h', 't')",
        {"id": "u1"},
    )
    assert await db.fetch_one("SELECT id, email FROM users WHERE id = :id", {"id": "u1"}) == ("u1", "a@x.io")
    assert await db.fetch_one("SELECT id FROM users WHERE id = :id", {"id": "u2"}) is None
    assert await db.fetch_all("SELECT id FROM users", {}) == [("u1",)]
    assert await db.execute("DELETE FROM users WHERE id = :id", {"id": "u1"}) == 1


async def test_statements_run_on_the_worker_thread(db: SqliteDatabase) -> None:
    thread = await db.run(lambda conn: threading.current_thread().name)
    assert thread == "database" and thread != threading.current_thread().name


async def test_an_error_reaches_the_caller_and_the_worker_goes_on(db: SqliteDatabase) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.fetch_all("SELECT * FROM nowhere", {})
    assert await db.fetch_one("SELECT 1", {}) == (1,)


async def test_foreign_keys_are_enforced(db: SqliteDatabase) -> None:
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        await db.execute(
            "INSERT INTO tasks (id, owner_id, title, priority, status, version, created_at, updated_at)"
            " VALUES ('t', 'nobody', 'x', 'low', 'open', 1, 'n', 'n')",
            {},
        )


async def test_open_refuses_a_changed_migration(db_path: Path, migrations: Path) -> None:
    first = SqliteDatabase(db_path)
    await first.open(migrations)
    await first.close()
    (migrations / "0001_init.sql").write_text("-- rewritten\n")
    second = SqliteDatabase(db_path)
    with pytest.raises(MigrationError, match=r"0001_init\.sql"):
        await second.open(migrations)
    assert not [t for t in threading.enumerate() if t.name == "database"]  # open() stopped its worker


async def test_close_lets_queued_statements_finish(db_path: Path) -> None:
    database = SqliteDatabase(db_path)
    await database.open()
    pending = database.fetch_one("SELECT count(*) FROM users", {})
    task = asyncio.ensure_future(pending)
    await asyncio.sleep(0)  # the statement is queued before close's sentinel
    await database.close()
    assert await task == (0,)


def test_named_parameters_become_postgresqls_numbered_ones() -> None:
    sql, args = positional(
        "SELECT 1 WHERE a = :a AND b = lower(:b::text COLLATE \"C\") AND c = :a AND t = 'x'", {"a": 1, "b": "B"}
    )
    assert sql == "SELECT 1 WHERE a = $1 AND b = lower($2::text COLLATE \"C\") AND c = $1 AND t = 'x'"
    assert args == [1, "B"]
    with pytest.raises(KeyError):
        positional("SELECT :missing", {})
