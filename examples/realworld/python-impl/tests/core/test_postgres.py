"""PostgreSQL itself: its migration gives the SQLite one's schema, servers starting together apply it exactly once,
and an outage is answered 503 with Retry-After in Conduit's error shape until the pool reconnects by itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from twinapi_conformance.postgres import create_database, throwaway_cluster

from app.core.config import Pool, Settings
from app.core.db import MIGRATIONS, PostgresDatabase, Queries, connect, migrate, migrate_postgresql
from app.main import UNAVAILABLE, create_app
from app.store import users
from app.store.users import EMAIL_TAKEN, USERNAME_TAKEN, User
from tests.conftest import SECRET

pytestmark = pytest.mark.anyio

POOL = Pool(size=4, acquire_timeout=2.0, connect_timeout=2.0, statement_timeout=10.0)
# SQLite's declared types as PostgreSQL names them (SQLite's INTEGER is 64-bit).
TYPES = {"INTEGER": "bigint", "TEXT": "text"}
Schema = dict[str, dict[str, Any]]


def sqlite_schema(path: Path) -> Schema:
    conn = connect(path)
    migrate(conn)
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    schema: Schema = {}
    for table in tables:
        if table == "sqlite_sequence":
            continue
        columns = {
            (c["name"], TYPES[c["type"]], not c["notnull"] and not c["pk"])
            for c in conn.execute(f"PRAGMA table_info({table})")
        }
        primary = tuple(
            c["name"] for c in sorted(conn.execute(f"PRAGMA table_info({table})"), key=lambda c: c["pk"]) if c["pk"]
        )
        unique, indexes = set(), set()
        for index in conn.execute(f"PRAGMA index_list({table})"):
            names = tuple(row["name"] for row in conn.execute(f"PRAGMA index_info({index['name']})"))
            if index["origin"] == "u":
                unique.add(names)
            elif index["origin"] == "c":
                indexes.add((index["name"], names))
        keys = {
            (k["from"], k["table"], k["to"], k["on_delete"]) for k in conn.execute(f"PRAGMA foreign_key_list({table})")
        }
        schema[table] = {"columns": columns, "primary": primary, "unique": unique, "indexes": indexes, "keys": keys}
    conn.close()
    return schema


async def postgres_schema(url: str) -> Schema:
    conn = await asyncpg.connect(url)
    try:
        await migrate_postgresql(conn)
        schema: Schema = {}
        for (table,) in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
            columns = {
                (r["column_name"], r["data_type"], r["is_nullable"] == "YES")
                for r in await conn.fetch(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = $1",
                    table,
                )
            }
            constraints = await conn.fetch(
                "SELECT k.contype::text, k.conkey, k.confdeltype::text, t.relname AS target, k.confkey, k.confrelid"
                " FROM pg_constraint k LEFT JOIN pg_class t ON t.oid = k.confrelid WHERE k.conrelid = $1::regclass",
                table,
            )
            names = {
                r["attnum"]: r["attname"]
                for r in await conn.fetch(
                    "SELECT attnum, attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0", table
                )
            }
            primary = next(tuple(names[n] for n in k["conkey"]) for k in constraints if k["contype"] == "p")
            unique = {tuple(names[n] for n in k["conkey"]) for k in constraints if k["contype"] == "u"}
            keys = set()
            for k in constraints:
                if k["contype"] == "f":
                    target = await conn.fetchval(
                        "SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum = $2",
                        k["confrelid"],
                        k["confkey"][0],
                    )
                    rule = {"c": "CASCADE", "a": "NO ACTION", "r": "RESTRICT", "n": "SET NULL"}[k["confdeltype"]]
                    keys.add((names[k["conkey"][0]], k["target"], target, rule))
            indexes = {
                (r["relname"], tuple(r["columns"]))
                for r in await conn.fetch(
                    "SELECT c.relname, ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o)"
                    " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) AS columns"
                    " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass"
                    " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                    table,
                )
            }
            schema[table] = {"columns": columns, "primary": primary, "unique": unique, "indexes": indexes, "keys": keys}
        return schema
    finally:
        await conn.close()


async def test_both_migrations_give_the_same_schema(postgres_admin_url: str, tmp_path: Path) -> None:
    on_sqlite = sqlite_schema(tmp_path / "schema.db")
    on_postgres = await postgres_schema(create_database(postgres_admin_url, "schema"))
    assert set(on_sqlite) == {"schema_migrations", "users", "follows", "articles", "tags", "article_tags"} | {
        "favorites",
        "comments",
    }
    assert on_postgres == on_sqlite


async def test_servers_starting_together_migrate_exactly_once(postgres_admin_url: str) -> None:
    url = create_database(postgres_admin_url, "together")
    servers = [PostgresDatabase(url, POOL) for _ in range(6)]
    await asyncio.gather(*(server.open() for server in servers))
    try:
        conn = await asyncpg.connect(url)
        try:
            history = await conn.fetch("SELECT version FROM schema_migrations")
        finally:
            await conn.close()
        assert [row["version"] for row in history] == [file.stem for file in sorted(MIGRATIONS.glob("*.sql"))]
    finally:
        await asyncio.gather(*(server.close() for server in servers))


async def test_a_changed_migration_stops_the_start(postgres_admin_url: str, tmp_path: Path) -> None:
    url = create_database(postgres_admin_url, "changed")
    conn = await asyncpg.connect(url)
    try:
        await migrate_postgresql(conn)
        await conn.execute("UPDATE schema_migrations SET checksum = 'another'")
    finally:
        await conn.close()
    with pytest.raises(Exception, match=r"migration 0001_init\.sql has changed since it was applied"):
        await PostgresDatabase(url, POOL).open()


async def test_an_outage_is_503_with_retry_after_until_the_pool_reconnects(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with throwaway_cluster() as cluster:  # its own: this test stops it
        values = {"JWT_SECRET": SECRET, "BCRYPT_ROUNDS": "4", "APP_ENV": "test", "DATABASE_POOL_TIMEOUT_SECONDS": "1"}
        settings = Settings.model_validate({**values, "DATABASE_URL": cluster.create_database("outage")})
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/tags")).status_code == 200
            cluster.stop()
            for path in ("/tags", "/articles", "/profiles/nobody"):
                down = await c.get(path)
                assert down.status_code == 503, down.text
                assert down.headers["retry-after"] == "2"
                assert down.headers["content-type"] == "application/json"
                assert down.json() == {"errors": {"body": [UNAVAILABLE]}}
            login = await c.post("/users/login", json={"user": {"email": "a@example.com", "password": "secret-1"}})
            assert login.status_code == 503
            cluster.start()
            for _ in range(50):  # bounded: the pool reconnects on its own within a few tries
                again = await c.get("/tags")
                if again.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (again.status_code, again.json()) == (200, {"tags": []})


def test_an_unreachable_database_at_start_is_one_line_without_the_url(tmp_path: Path) -> None:
    url = "postgresql://conduit:hunter2@127.0.0.1:1/conduit"  # port 1: nothing listens there
    env = {**os.environ, "JWT_SECRET": SECRET, "DATABASE_URL": url, "DATABASE_CONNECT_TIMEOUT_SECONDS": "2"}
    env.pop("DATABASE_PATH", None)
    started = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 1
    assert started.stderr.startswith("error: database DATABASE_URL: ") and started.stderr.count("\n") == 1
    assert "hunter2" not in started.stderr


async def test_a_write_that_lost_a_race_runs_again_and_sees_the_winner(postgres_admin_url: str) -> None:
    db = PostgresDatabase(create_database(postgres_admin_url, "race"), POOL)
    await db.open()
    both_checked = asyncio.Barrier(2)
    attempts = 0

    async def register(q: Queries) -> User | list[str]:
        nonlocal attempts
        attempts += 1
        problems = await users.taken(q, "same@example.com", "same")
        if attempts <= 2:  # both first attempts find the name free before either writes it
            await asyncio.wait_for(both_checked.wait(), 10)
        return problems or await users.create(q, "same", "same@example.com", "$2b$04$hash")

    try:
        results = await asyncio.gather(db.write(register), db.write(register))
    finally:
        await db.close()
    assert attempts == 3  # the loser ran once more
    winner, loser = sorted(results, key=lambda r: isinstance(r, list))
    assert isinstance(winner, User) and winner.username == "same"
    assert loser == [EMAIL_TAKEN, USERNAME_TAKEN]
