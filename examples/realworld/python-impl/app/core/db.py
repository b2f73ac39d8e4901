"""The database behind an async API: SQLite (the embedded default) or PostgreSQL, and the migrations both apply.

The store's functions take `Queries` and run plain SQL with `:name` parameters on either engine; the few places
where the dialects differ ask `q.dialect`. `Database.read` and `.write` run a function of `Queries` as one
transaction.

SQLite: one connection serves the process; every use of it runs on one dedicated thread, so no query blocks the
event loop, and one transaction at a time holds it. PostgreSQL: an asyncpg pool (the driver and the settings of the
kit's own example, DATABASE_POOL_* in app.core.config). A database that cannot be reached raises `Unavailable`,
which the app answers 503 with Retry-After (app.main), never 500; the pool reconnects by itself once it is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

import asyncpg

from app.core.config import PROJECT_ROOT, Pool

MIGRATIONS = PROJECT_ROOT / "db" / "migrations"
# A migration's PostgreSQL text, under the same file name (and version) as its SQLite one.
POSTGRESQL_MIGRATIONS = "postgresql"
PRAGMAS = ("busy_timeout = 5000", "journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON")
# pg_advisory_xact_lock's key while migrating, the same in both implementations: "conduit" in ASCII.
MIGRATION_LOCK = 0x63_6F_6E_64_75_69_74
# Seconds a client is told to wait when the database cannot be reached; a restart or failover takes a few.
RETRY_AFTER_SECONDS = 2
# A pooled connection unused this long is closed: an idle instance does not hold server slots forever.
IDLE_LIFETIME_SECONDS = 300.0
# How many times a PostgreSQL write transaction runs when concurrent ones keep conflicting with it (CONVENTIONS.md).
WRITE_ATTEMPTS = 3

T = TypeVar("T")
Dialect = Literal["sqlite", "postgresql"]
Row: TypeAlias = dict[str, Any]
Params: TypeAlias = Mapping[str, object]

log = logging.getLogger("app.db")


class MigrationError(Exception):
    """The database's recorded migrations do not match db/migrations: the server must not start on it."""


class Unavailable(Exception):
    """The database cannot be reached (down, restarting, every pooled connection busy): 503, try again later."""


class Queries(Protocol):
    """The statements of one transaction."""

    @property
    def dialect(self) -> Dialect: ...

    async def rows(self, sql: str, params: Params) -> list[Row]: ...

    async def row(self, sql: str, params: Params) -> Row | None: ...

    async def run(self, sql: str, params: Params) -> None: ...


Job: TypeAlias = Callable[[Queries], Awaitable[T]]


def now() -> str:
    """A timestamp as the contract writes them: UTC, milliseconds, Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def migration_files(folder: Path, dialect: Dialect) -> dict[str, Path]:
    """version -> file, in file-name order: `folder/*.sql`, each replaced by its postgresql/ twin on PostgreSQL."""
    files = {}
    for file in sorted(folder.glob("*.sql")):
        twin = folder / POSTGRESQL_MIGRATIONS / file.name
        files[file.stem] = twin if dialect == "postgresql" and twin.exists() else file
    return files


def _pending(files: dict[str, Path], recorded: Mapping[str, str], folder: Path) -> list[tuple[str, str, str]]:
    """(version, checksum, script) of the files not yet applied; a recorded one changed or gone is refused."""
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
    return pending


SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
)

# ------------------------------------------------------------------------------------------------------- SQLite


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


def migrate(conn: sqlite3.Connection, folder: Path = MIGRATIONS) -> list[str]:
    """Applies the files of `folder` not yet recorded, in file-name order, all in one transaction; returns them.

    BEGIN IMMEDIATE takes the write lock before the history is read, so of two servers starting on one file the
    second finds the first one's work done.
    """
    files = migration_files(folder, "sqlite")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(SCHEMA_MIGRATIONS)
        recorded = {row["version"]: row["checksum"] for row in conn.execute("SELECT * FROM schema_migrations")}
        pending = _pending(files, recorded, folder)
        for version, checksum, script in pending:
            for statement in split_statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (:version, :checksum, :at)",
                {"version": version, "checksum": checksum, "at": now()},
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return [version for version, _, _ in pending]


class SqliteQueries:
    """The statements on `conn`, each run by `on_thread` (the database's own thread)."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, on_thread: Callable[[Callable[[], Any]], Awaitable[Any]]) -> None:
        self._conn = conn
        self._on_thread = on_thread

    async def rows(self, sql: str, params: Params) -> list[Row]:
        # Reading every row steps the statement to its end, which an INSERT ... RETURNING needs to complete.
        found: list[Row] = await self._on_thread(lambda: [dict(row) for row in self._conn.execute(sql, params)])
        return found

    async def row(self, sql: str, params: Params) -> Row | None:
        found = await self.rows(sql, params)
        return found[0] if found else None

    async def run(self, sql: str, params: Params) -> None:
        await self._on_thread(lambda: self._conn.execute(sql, params))


class SqliteDatabase:
    """One connection behind an async API: `read` and `write` run a function of its Queries as one transaction."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        # One thread while open: statements run in the order they were submitted, never two at once.
        self._thread: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()  # one transaction at a time on the one connection

    async def open(self, migrations: Path = MIGRATIONS) -> None:
        """Connects and applies pending migrations (MigrationError when the history does not match)."""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        try:
            conn = await self.on_thread(lambda: connect(self.path))
            self._conn = conn
            await self.on_thread(lambda: migrate(conn, migrations))
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Waits for the statements already submitted, then closes the connection."""
        conn, self._conn = self._conn, None
        if conn is not None:
            async with self._lock:
                await self.on_thread(conn.close)
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None

    async def read(self, job: Job[T]) -> T:
        """`job` in a read transaction: every query it makes sees one state of the database."""
        return await self._transaction(job, "BEGIN")

    async def write(self, job: Job[T]) -> T:
        """`job` in a write transaction, taken at once: all its changes are committed, or none if it raises."""
        return await self._transaction(job, "BEGIN IMMEDIATE")

    async def _transaction(self, job: Job[T], begin: str) -> T:
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("the database is not open")
            await self.on_thread(lambda: conn.execute(begin))
            try:
                result = await job(SqliteQueries(conn, self.on_thread))
            except BaseException:
                # Shielded: a request that went away still leaves the connection out of its transaction.
                await asyncio.shield(self.on_thread(lambda: conn.execute("ROLLBACK")))
                raise
            await asyncio.shield(self.on_thread(lambda: conn.execute("COMMIT")))
            return result

    async def on_thread(self, job: Callable[[], T]) -> T:
        if self._thread is None:
            raise RuntimeError("the database is not open")
        return await asyncio.get_running_loop().run_in_executor(self._thread, job)


# --------------------------------------------------------------------------------------------------- PostgreSQL

# `:name` not preceded by another colon (`::text` is a cast) or a word character.
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# What the pool reports when the server is down, restarting, refusing or out of connections, and when no connection
# came free in time or a statement ran out of time: the request may succeed later, so it is a 503, not a 500.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin or crash shutdown, cannot connect now, statement timeout
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
)
# A write that lost a race to a concurrent one (both checked a name was free, the other committed it first; the
# article it comments was deleted meanwhile; a serialisation failure or a deadlock): run again, it sees the winner.
_CONFLICTS: tuple[type[BaseException], ...] = (
    asyncpg.UniqueViolationError,
    asyncpg.ForeignKeyViolationError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)

_Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"


def positional(sql: str, params: Params) -> tuple[str, list[object]]:
    """`:name` SQL and its values as PostgreSQL's `$n` SQL and arguments (a name used twice is one `$n`).

    String literals are not parsed: the store's statements write no `:word` inside one."""
    numbers: dict[str, str] = {}
    text = _PARAMETER.sub(lambda match: numbers.setdefault(match[1], f"${len(numbers) + 1}"), sql)
    return text, [params[name] for name in numbers]


class PostgresQueries:
    """The statements on one connection, `:name` parameters numbered for PostgreSQL."""

    dialect: Dialect = "postgresql"

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn

    async def rows(self, sql: str, params: Params) -> list[Row]:
        text, args = positional(sql, params)
        return [dict(record) for record in await self._conn.fetch(text, *args)]

    async def row(self, sql: str, params: Params) -> Row | None:
        found = await self.rows(sql, params)
        return found[0] if found else None

    async def run(self, sql: str, params: Params) -> None:
        text, args = positional(sql, params)
        await self._conn.execute(text, *args)


async def migrate_postgresql(conn: _Connection, folder: Path = MIGRATIONS) -> list[str]:
    """Applies the pending migrations in one transaction under an advisory lock: N servers starting at once apply
    each exactly once (the others wait for the lock, then find them recorded). Returns the versions applied."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(SCHEMA_MIGRATIONS)
        recorded = {row["version"]: row["checksum"] for row in await conn.fetch("SELECT * FROM schema_migrations")}
        pending = _pending(migration_files(folder, "postgresql"), recorded, folder)
        for version, checksum, script in pending:
            await conn.execute(script)  # without arguments asyncpg runs a script of several statements
            await conn.execute(
                "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES ($1, $2, $3)",
                version,
                checksum,
                now(),
            )
    return [version for version, _, _ in pending]


class PostgresDatabase:
    """A pool of PostgreSQL connections behind the methods of SqliteDatabase."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, pool: Pool) -> None:
        self.url = url
        self._settings = pool
        self._pool: asyncpg.Pool[Any] | None = None

    async def open(self, migrations: Path = MIGRATIONS) -> None:
        """Connects the pool and applies pending migrations (MigrationError when the history does not match)."""
        settings = self._settings
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=settings.size,
            timeout=settings.connect_timeout,
            command_timeout=settings.statement_timeout,
            max_inactive_connection_lifetime=IDLE_LIFETIME_SECONDS,
            server_settings={"application_name": "conduit-python"},
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

    async def read(self, job: Job[T]) -> T:
        """`job` in a read-only REPEATABLE READ transaction: every query it makes sees one snapshot."""
        return await self._transaction(job, write=False)

    async def write(self, job: Job[T]) -> T:
        """`job` in a READ COMMITTED transaction, run again (WRITE_ATTEMPTS in all) when it lost a race."""
        for _ in range(WRITE_ATTEMPTS - 1):
            try:
                return await self._transaction(job, write=True)
            except _CONFLICTS as exc:
                log.info("a write lost a race and runs again: %s", exc)
        try:
            return await self._transaction(job, write=True)
        except _CONFLICTS as exc:
            log.warning("a write lost %d races in a row: answered 503: %s", WRITE_ATTEMPTS, exc)
            raise Unavailable() from exc

    async def _transaction(self, job: Job[T], *, write: bool) -> T:
        pool = self._pool
        if pool is None:
            raise Unavailable()
        try:
            async with pool.acquire(timeout=self._settings.acquire_timeout) as conn:
                if write:
                    transaction = conn.transaction(isolation="read_committed")
                else:
                    transaction = conn.transaction(isolation="repeatable_read", readonly=True)
                async with transaction:
                    return await job(PostgresQueries(conn))
        except _UNREACHABLE as exc:
            # Idle connections opened before an outage are dead too: drop them, so that the next requests
            # reconnect instead of each finding a broken one.
            await pool.expire_connections()
            raise Unavailable() from exc


Database = SqliteDatabase | PostgresDatabase


def open_database(target: Path | str, pool: Pool) -> Database:
    """The engine the settings name: a file path is SQLite, a postgresql:// URL PostgreSQL."""
    return SqliteDatabase(target) if isinstance(target, Path) else PostgresDatabase(target, pool)


def migrate_at_start(target: Path | str, pool: Pool) -> list[str]:
    """Applies pending migrations before the server starts (the errors are the caller's to word)."""
    if isinstance(target, Path):
        with closing(connect(target)) as conn:
            return migrate(conn)
    return asyncio.run(_migrate_postgresql_once(target, pool))


async def _migrate_postgresql_once(url: str, pool: Pool) -> list[str]:
    conn = await asyncpg.connect(url, timeout=pool.connect_timeout)
    try:
        return await migrate_postgresql(conn)
    finally:
        await conn.close()
