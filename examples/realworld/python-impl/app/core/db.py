"""SQLite: the connection, the migrations both implementations apply, and transactions off the event loop.

One connection serves the process. Every use of it runs on a single dedicated thread, one after the other, so no
query blocks the event loop and no two ever share the connection; SQLite serialises writers anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from app.core.config import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "db" / "migrations"
PRAGMAS = ("busy_timeout = 5000", "journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON")

T = TypeVar("T")


class MigrationError(Exception):
    """The database's recorded migrations do not match db/migrations: the server must not start on it."""


def now() -> str:
    """A timestamp as the contract writes them: UTC, milliseconds, Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def connect(path: Path) -> sqlite3.Connection:
    """The database file (its folder created if need be), in autocommit mode: transactions are explicit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    # busy_timeout before the others: switching to WAL takes a lock another server may hold.
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def split_statements(script: str) -> Iterator[str]:
    """The statements of a migration one by one: executescript() would commit the migration's transaction."""
    *terminated, rest = script.split(";")
    pending = ""
    for piece in terminated:
        pending += piece + ";"
        # A `;` inside a string, a comment or a trigger body leaves the statement incomplete: keep reading.
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if (pending + rest).strip():
        yield pending + rest


def in_transaction(conn: sqlite3.Connection, begin: str, job: Callable[[sqlite3.Connection], T]) -> T:
    """`job(conn)` between `begin` and COMMIT; rolled back if it raises."""
    conn.execute(begin)
    try:
        result = job(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def migrate(conn: sqlite3.Connection, folder: Path = MIGRATIONS) -> list[str]:
    """Applies the files of `folder` not yet recorded, in file-name order, all in one transaction; returns them.

    BEGIN IMMEDIATE takes the write lock before the history is read, so of two servers starting on one file the
    second finds the first one's work done.
    """
    files = {file.stem: file for file in sorted(folder.glob("*.sql"))}
    return in_transaction(conn, "BEGIN IMMEDIATE", lambda conn: _apply(conn, files, folder))


def _apply(conn: sqlite3.Connection, files: dict[str, Path], folder: Path) -> list[str]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    recorded = {row["version"]: row["checksum"] for row in conn.execute("SELECT * FROM schema_migrations")}
    missing = sorted(recorded.keys() - files.keys())
    if missing:
        raise MigrationError(f"migration {missing[0]}.sql was applied to this database but is not in {folder}")
    pending = []
    for version, file in files.items():
        content = file.read_bytes()
        checksum = hashlib.sha256(content).hexdigest()
        if version not in recorded:
            pending.append((version, checksum, content.decode("utf-8")))
        elif recorded[version] != checksum:
            raise MigrationError(f"migration {file.name} has changed since it was applied to this database")
    for version, checksum, script in pending:
        for statement in split_statements(script):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (:version, :checksum, :at)",
            {"version": version, "checksum": checksum, "at": now()},
        )
    return [version for version, _, _ in pending]


def migrate_file(path: Path) -> list[str]:
    """Opens the database at `path` just long enough to migrate it."""
    with closing(connect(path)) as conn:
        return migrate(conn)


class Database:
    """The connection behind an async API: `read` and `write` run a function of it as one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        # One thread while open: jobs run in the order they were submitted, never two at once.
        self._thread: ThreadPoolExecutor | None = None

    async def open(self, migrations: Path = MIGRATIONS) -> None:
        """Connects and applies pending migrations (MigrationError when the history does not match)."""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        try:
            conn = await self._run(lambda: connect(self.path))
            self._conn = conn
            await self._run(lambda: migrate(conn, migrations))
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Waits for the jobs already submitted, then closes the connection."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._run(conn.close)
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """`job` in a read transaction: every query it makes sees one state of the database."""
        return await self._transaction(job, "BEGIN")

    async def write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """`job` in a write transaction, taken at once: all its changes are committed, or none if it raises."""
        return await self._transaction(job, "BEGIN IMMEDIATE")

    async def _transaction(self, job: Callable[[sqlite3.Connection], T], begin: str) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the database is not open")
        return await self._run(lambda: in_transaction(conn, begin, job))

    async def _run(self, job: Callable[[], T]) -> T:
        if self._thread is None:
            raise RuntimeError("the database is not open")
        return await asyncio.get_running_loop().run_in_executor(self._thread, job)
