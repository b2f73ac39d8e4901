"""SQLite storage behind an async API, and the migration runner both implementations share.

One worker thread owns the connection and runs every statement, so no query blocks the event loop and the
connection is never shared between threads. Statements are plain SQL with `:name` parameters, the style
SQLAlchemy's `text()` also takes, so another engine (PostgreSQL) can replace this one under the same queries.
"""

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from queue import SimpleQueue
from typing import Any, TypeVar

from app.core.config import REPO_ROOT

MIGRATIONS = REPO_ROOT / "db" / "migrations"

T = TypeVar("T")
Row = tuple[Any, ...]
Params = Mapping[str, object]
_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class MigrationError(Exception):
    """The database's schema history does not match db/migrations; the server must not start."""


def utc_now() -> str:
    """The contract's timestamp form: UTC with milliseconds and Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connect(path: Path) -> sqlite3.Connection:
    """Opens the file (creating its folder) in autocommit mode, with the pragmas of CONVENTIONS.md."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    # busy_timeout first: switching to WAL needs a lock another process may hold.
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    # With WAL, NORMAL keeps the database consistent on a crash and loses at most the last commits on power loss;
    # FULL would fsync every commit. Both implementations set it, so writes cost the same kind of work.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migrate(conn: sqlite3.Connection, directory: Path = MIGRATIONS) -> list[str]:
    """Applies the pending migrations in file-name order; returns their versions.

    BEGIN IMMEDIATE takes the write lock before reading the history, so two servers starting together apply
    each migration once. A changed file that was already applied is refused, naming the file.
    """
    files = sorted(directory.glob("*.sql"))
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        done = []
        for file in files:
            script = file.read_bytes()
            checksum = hashlib.sha256(script).hexdigest()
            if file.stem in applied:
                if applied[file.stem] != checksum:
                    raise MigrationError(f"migration {file.name} has changed since it was applied (checksum differs)")
                continue
            for statement in _statements(script.decode()):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (:version, :checksum, :now)",
                {"version": file.stem, "checksum": checksum, "now": utc_now()},
            )
            done.append(file.stem)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT the surrounding transaction first, so split into statements ourselves.
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    if current.strip():
        statements.append(current)  # a last statement without ';' (or only comments, which run as nothing)
    return statements


class Database:
    """The async face of one SQLite connection, owned by a dedicated worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    async def open(self, migrations: Path = MIGRATIONS) -> None:
        """Starts the worker, connects and applies pending migrations (MigrationError if refused)."""
        connected: SimpleQueue[Exception | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._work, args=(connected,), name="database", daemon=True)
        self._thread.start()
        error = await asyncio.to_thread(connected.get)
        if error is not None:  # the worker has already stopped
            self._thread = None
            raise error
        try:
            await self.run(lambda conn: migrate(conn, migrations))
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        """Lets queued statements finish, then closes the connection and stops the worker."""
        if self._thread is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `job(connection)` on the worker thread; for several statements that belong together."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, loop, future))
        return await future

    async def fetch_one(self, sql: str, params: Params) -> Row | None:
        # fetchall() steps the statement to its end, which an INSERT/UPDATE ... RETURNING needs to complete.
        rows = await self.run(lambda conn: conn.execute(sql, params).fetchall())
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params) -> list[Row]:
        return await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def execute(self, sql: str, params: Params) -> int:
        """Runs a write; returns how many rows it changed."""
        return await self.run(lambda conn: conn.execute(sql, params).rowcount)

    def _work(self, connected: "SimpleQueue[Exception | None]") -> None:
        try:
            conn = connect(self.path)
        except Exception as exc:  # open() raises it in the caller
            connected.put(exc)
            return
        connected.put(None)
        try:
            while (item := self._jobs.get()) is not None:
                job, loop, future = item
                try:
                    outcome: tuple[object, Exception | None] = (job(conn), None)
                except Exception as exc:  # the awaiting caller raises it
                    outcome = (None, exc)
                try:
                    loop.call_soon_threadsafe(_settle, future, *outcome)
                except RuntimeError:  # the loop has closed: nobody waits for this answer
                    pass
        finally:
            conn.close()


def _settle(future: "asyncio.Future[Any]", result: object, error: Exception | None) -> None:
    if future.cancelled():  # the request went away; the statement ran anyway
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
