"""The database behind an async API: SQLite (the embedded default) or PostgreSQL, and the migration runner.

Statements are plain SQL with `:name` parameters, the style SQLAlchemy's `text()` also takes; both engines run
the same statements, and the few places where their dialects differ ask `dialect`.

SQLite: one worker thread owns the connection and runs every statement, so no query blocks the event loop and the
connection is never shared between threads. PostgreSQL: an asyncpg pool (chosen by bench/drivers/python_drivers.py;
its settings are DATABASE_POOL_* in app.core.config). A database that cannot be reached makes a request answer 503
with Retry-After (`Unavailable`), never 500; the pool reconnects by itself once the server is back.
"""

import asyncio
import hashlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from queue import SimpleQueue
from typing import Any, Literal, TypeAlias, TypeVar

import asyncpg
from twinapi_runtime import ProblemError

from app.core.config import REPO_ROOT, Pool

MIGRATIONS = REPO_ROOT / "db" / "migrations"
# Where a migration cannot be written in SQL both engines read, its PostgreSQL text has the same file name here.
POSTGRESQL_MIGRATIONS = "postgresql"
# pg_advisory_xact_lock's key for applying migrations: the same number in both implementations ("twinapi" in ASCII).
MIGRATION_LOCK = 0x74_77_69_6E_61_70_69
# Seconds a client is told to wait when the database cannot be reached; a restart or failover takes a few.
RETRY_AFTER_SECONDS = 2
# How long a statement waits for a lock another connection holds (SQLite's busy_timeout), as in the Node implementation.
BUSY_TIMEOUT_MS = 5000
# The pause between two attempts to switch a file to WAL (see _use_wal).
WAL_RETRY_SECONDS = 0.01
# A pooled connection unused this long is closed: an idle instance does not hold server slots forever.
IDLE_LIFETIME_SECONDS = 300.0

T = TypeVar("T")
Row = tuple[Any, ...]
Params = Mapping[str, object]
_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


Dialect = Literal["sqlite", "postgresql"]


class MigrationError(Exception):
    """The database's schema history does not match db/migrations; the server must not start."""


class StartError(Exception):
    """The database could not be opened or migrated at start; the message is one line."""


class IntegrityError(Exception):
    """A constraint refused a write (on either engine)."""


class Unavailable(ProblemError):
    """The database cannot be reached (down, restarting, or every pooled connection busy): 503, try again later."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def utc_now() -> str:
    """The contract's timestamp form: UTC with milliseconds and Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switches the file to WAL, retried within the busy timeout.

    Two connections switching a new file at once: SQLite answers one of them SQLITE_BUSY at once, without its busy
    handler (waiting there could deadlock), so two servers starting together failed about one start in six.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_SECONDS)


def connect(path: Path) -> sqlite3.Connection:
    """Opens the file (creating its folder) in autocommit mode, with the pragmas of CONVENTIONS.md."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    # busy_timeout first: switching to WAL needs a lock another process may hold.
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _use_wal(conn)
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
    files = migration_files(directory, "sqlite")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        done = []
        for version, file in files:
            script = file.read_bytes()
            checksum = hashlib.sha256(script).hexdigest()
            if version in applied:
                _check_unchanged(file, checksum, applied[version])
                continue
            for statement in _statements(script.decode()):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (:version, :checksum, :now)",
                {"version": version, "checksum": checksum, "now": utc_now()},
            )
            done.append(version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


def migration_files(directory: Path, dialect: Dialect) -> list[tuple[str, Path]]:
    """(version, file) in version order: db/migrations/*.sql, each replaced by its postgresql/ twin on PostgreSQL."""
    files = []
    for file in sorted(directory.glob("*.sql")):
        twin = directory / POSTGRESQL_MIGRATIONS / file.name
        files.append((file.stem, twin if dialect == "postgresql" and twin.exists() else file))
    return files


def _check_unchanged(file: Path, checksum: str, applied: str) -> None:
    if applied != checksum:
        raise MigrationError(f"migration {file.name} has changed since it was applied (checksum differs)")


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


class SqliteDatabase:
    """The async face of one SQLite connection, owned by a dedicated worker thread."""

    dialect: Dialect = "sqlite"

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
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params) -> list[Row]:
        # fetchall() steps the statement to its end, which an INSERT/UPDATE ... RETURNING needs to complete.
        try:
            return await self.run(lambda conn: conn.execute(sql, params).fetchall())
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    async def execute(self, sql: str, params: Params) -> int:
        """Runs a write; returns how many rows it changed."""
        try:
            return await self.run(lambda conn: conn.execute(sql, params).rowcount)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

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


# `:name` not preceded by another colon (`::text` is a cast) or a word character.
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# What a pool reports when the server is down, restarting, refusing connections or out of them, and when no
# connection came free in time: the request may succeed later, so it is a 503, not a 500.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin or crash shutdown, cannot connect now, statement timeout
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    # A connection the server dropped mid-statement, found in a state asyncpg cannot reset when it goes back to the
    # pool ("cannot switch to state ..."): seen under load in a PostgreSQL restart.
    asyncpg.exceptions.InternalClientError,
)


def positional(sql: str, params: Params) -> tuple[str, list[object]]:
    """`:name` SQL and its mapping as PostgreSQL's `$n` SQL and argument list (a name used twice is one `$n`)."""
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name not in order:
            order[name] = len(order) + 1
        return f"${order[name]}"

    text = _PARAMETER.sub(number, sql)
    return text, [params[name] for name in order]


# Subscripted in the stubs only: a string, so nothing evaluates it at run time.
_Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"


async def migrate_postgresql(conn: _Connection, directory: Path = MIGRATIONS) -> list[str]:
    """Applies the pending migrations in one transaction, under an advisory lock: N servers starting at once
    apply each migration exactly once (the others wait, then find it applied). Returns the versions applied."""
    done = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        applied = {row["version"]: row["checksum"] for row in rows}
        for version, file in migration_files(directory, "postgresql"):
            script = file.read_bytes()
            checksum = hashlib.sha256(script).hexdigest()
            if version in applied:
                _check_unchanged(file, checksum, applied[version])
                continue
            await conn.execute(script.decode())  # the simple protocol runs a script of several statements
            await conn.execute(
                "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES ($1, $2, $3)",
                version,
                checksum,
                utc_now(),
            )
            done.append(version)
    return done


class PostgresDatabase:
    """A pool of PostgreSQL connections behind the same methods as SqliteDatabase."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, pool: Pool) -> None:
        self.url = url
        self._settings = pool
        self._pool: asyncpg.Pool[Any] | None = None

    async def open(self, migrations: Path = MIGRATIONS) -> None:
        """Connects the pool and applies pending migrations (MigrationError if refused)."""
        settings = self._settings
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=settings.size,
            timeout=settings.connect_timeout,
            command_timeout=settings.statement_timeout,
            max_inactive_connection_lifetime=IDLE_LIFETIME_SECONDS,
            server_settings={"application_name": "twinapi-python"},
        )
        try:
            async with self._pool.acquire(timeout=settings.acquire_timeout) as conn:
                await migrate_postgresql(conn, migrations)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def fetch_one(self, sql: str, params: Params) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params) -> list[Row]:
        text, args = positional(sql, params)
        rows = await self._call(lambda conn: conn.fetch(text, *args))
        return [tuple(row) for row in rows]

    async def execute(self, sql: str, params: Params) -> int:
        """Runs a write; returns how many rows it changed (from the command tag, `UPDATE 1`)."""
        text, args = positional(sql, params)
        tag = await self._call(lambda conn: conn.execute(text, *args))
        return int(tag.rsplit(" ", 1)[-1])

    async def _call(self, job: Callable[[_Connection], Any]) -> Any:
        if self._pool is None:
            raise Unavailable()
        try:
            async with self._pool.acquire(timeout=self._settings.acquire_timeout) as conn:
                return await job(conn)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc
        except _UNREACHABLE as exc:
            # Idle connections opened before an outage are dead too: drop them, so the next requests reconnect
            # instead of each finding a broken one.
            await self._pool.expire_connections()
            raise Unavailable() from exc


Database = SqliteDatabase | PostgresDatabase


def open_database(target: Path | str, pool: Pool) -> Database:
    """The engine DATABASE_URL names: a file path is SQLite, a postgresql:// URL PostgreSQL."""
    return SqliteDatabase(target) if isinstance(target, Path) else PostgresDatabase(target, pool)


def migrate_at_start(target: Path | str, pool: Pool, migrations: Path = MIGRATIONS) -> None:
    """Applies pending migrations before the server starts; raises StartError with one line on any failure."""
    try:
        if isinstance(target, Path):
            conn = connect(target)
            try:
                migrate(conn, migrations)
            finally:
                conn.close()
        else:
            asyncio.run(_migrate_postgresql_once(target, pool, migrations))
    except MigrationError as exc:
        raise StartError(str(exc)) from None
    except (OSError, TimeoutError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StartError(f"database: {type(exc).__name__}: {exc}") from None


async def _migrate_postgresql_once(url: str, pool: Pool, migrations: Path) -> None:
    conn = await asyncpg.connect(url, timeout=pool.connect_timeout)
    try:
        await migrate_postgresql(conn, migrations)
    finally:
        await conn.close()
