import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.db import (
    MIGRATIONS,
    Database,
    MigrationError,
    Queries,
    SqliteDatabase,
    connect,
    migrate,
    now,
    open_database,
    positional,
    split_statements,
)


def test_timestamps_are_utc_with_milliseconds() -> None:
    stamp = now()
    assert len(stamp) == len("2026-12-01T15:40:00.123Z") and stamp.endswith("Z") and stamp[19] == "."


def test_connections_have_the_conventions_pragmas(tmp_path: Path) -> None:
    conn = connect(tmp_path / "sub" / "x.db")  # the folder is created
    pragmas = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("busy_timeout", "journal_mode", "synchronous")]
    assert pragmas == [5000, "wal", 1]
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_statements_are_split_at_their_end_only() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- a comment; still a comment\nINSERT INTO a VALUES ('b;c');\n"
    assert [s.strip() for s in split_statements(script)] == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "-- a comment; still a comment\nINSERT INTO a VALUES ('b;c');",
    ]
    assert list(split_statements("SELECT 1")) == ["SELECT 1"]
    assert list(split_statements("  \n")) == []


def test_the_migration_is_applied_and_recorded_with_its_checksum(tmp_path: Path) -> None:
    conn = connect(tmp_path / "x.db")
    assert migrate(conn) == ["0001_init"]
    (version, checksum, applied_at), *rest = conn.execute("SELECT * FROM schema_migrations").fetchall()
    assert not rest
    assert version == "0001_init"
    assert checksum == hashlib.sha256((MIGRATIONS / "0001_init.sql").read_bytes()).hexdigest()
    assert applied_at.endswith("Z")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "follows", "articles", "tags", "article_tags", "favorites", "comments"} <= tables
    assert migrate(conn) == []  # the second start applies nothing


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.sql").write_text(text)
    return folder


def test_pending_migrations_run_in_file_name_order(tmp_path: Path) -> None:
    folder = _folder(tmp_path, b_second="INSERT INTO t VALUES (2);", a_first="CREATE TABLE t (x INTEGER);")
    conn = connect(tmp_path / "x.db")
    assert migrate(conn, folder) == ["a_first", "b_second"]
    (folder / "c_third.sql").write_text("INSERT INTO t VALUES (3);")
    assert migrate(conn, folder) == ["c_third"]
    assert [row[0] for row in conn.execute("SELECT x FROM t")] == [2, 3]


def test_a_changed_migration_stops_the_start_naming_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path, a="CREATE TABLE t (x INTEGER);")
    conn = connect(tmp_path / "x.db")
    migrate(conn, folder)
    (folder / "a.sql").write_text("CREATE TABLE t (x INTEGER, y INTEGER);")
    with pytest.raises(MigrationError, match=r"migration a\.sql has changed since it was applied"):
        migrate(conn, folder)


def test_a_missing_migration_stops_the_start_naming_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path, a="CREATE TABLE t (x INTEGER);")
    conn = connect(tmp_path / "x.db")
    migrate(conn, folder)
    (folder / "a.sql").unlink()
    with pytest.raises(MigrationError, match=r"migration a\.sql was applied to this database but is not in"):
        migrate(conn, folder)


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path, a="CREATE TABLE t (x INTEGER);", b="CREATE TABLE u (x INTEGER); INSERT INTO nowhere VALUES (1);"
    )
    conn = connect(tmp_path / "x.db")
    with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
        migrate(conn, folder)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set()  # a, b and the history itself were rolled back together


@pytest.mark.anyio
async def test_a_write_that_raises_is_rolled_back(db: Database) -> None:
    async def half(q: Queries) -> None:
        await q.run("INSERT INTO tags (name) VALUES ('kept?')", {})
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        await db.write(half)
    assert await db.read(lambda q: q.rows("SELECT name FROM tags", {})) == []


@pytest.mark.anyio
async def test_writes_are_committed(db: Database, settings: Settings) -> None:
    await db.write(lambda q: q.run("INSERT INTO tags (name) VALUES ('kept')", {}))
    other = open_database(settings.database, settings.pool)  # another server on the same database
    await other.open()
    try:
        assert await other.read(lambda q: q.rows("SELECT name FROM tags", {})) == [{"name": "kept"}]
    finally:
        await other.close()


@pytest.mark.anyio
async def test_transactions_on_one_connection_do_not_interleave(db: Database) -> None:
    """Concurrent requests share SQLite's one connection: each transaction has it alone until it ends."""

    async def count_twice(q: Queries) -> tuple[int, int]:
        before = len(await q.rows("SELECT id FROM tags", {}))
        await asyncio.sleep(0.01)  # the other writes would slip in here if they could
        return before, len(await q.rows("SELECT id FROM tags", {}))

    names = iter(range(5))

    async def add(q: Queries) -> None:
        await q.run("INSERT INTO tags (name) VALUES (:name)", {"name": f"tag {next(names)}"})

    reading = asyncio.ensure_future(db.read(count_twice))
    await asyncio.gather(*(db.write(add) for _ in range(5)))
    before, after = await reading
    assert before == after
    assert len(await db.read(lambda q: q.rows("SELECT id FROM tags", {}))) == 5


def test_parameters_are_numbered_for_postgresql_once_per_name() -> None:
    sql, args = positional("SELECT :a, :b::text, :a FROM t", {"a": 1, "b": "two", "unused": 3})
    assert (sql, args) == ("SELECT $1, $2::text, $1 FROM t", [1, "two"])


@pytest.mark.anyio
async def test_open_refuses_a_database_whose_history_differs(db_path: Path, tmp_path: Path) -> None:
    conn = connect(db_path)
    conn.execute(
        "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.execute("INSERT INTO schema_migrations VALUES ('0001_init', 'not-the-checksum', '2026-01-01T00:00:00.000Z')")
    conn.close()
    database = SqliteDatabase(db_path)
    with pytest.raises(MigrationError, match="0001_init.sql has changed"):
        await database.open()
