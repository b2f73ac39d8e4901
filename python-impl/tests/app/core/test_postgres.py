"""PostgreSQL: the same schema as SQLite from one set of migrations, applied exactly once by servers starting
together, and an outage answered 503 (with Retry-After) until the pool reconnects by itself."""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from twinapi_conformance.postgres import create_database, throwaway_cluster

from app.core.config import Pool
from app.core.db import MIGRATIONS, PostgresDatabase, SqliteDatabase
from app.main import create_app

pytestmark = pytest.mark.anyio

POOL = Pool(size=4, acquire_timeout=2.0, connect_timeout=2.0, statement_timeout=10.0)
# SQLite's declared types as PostgreSQL names them (INTEGER is 64-bit in SQLite).
SQLITE_TYPES = {"TEXT": "text", "INTEGER": "bigint"}

Column = tuple[str, str, bool, bool]  # name, type, nullable, part of the primary key
Schema = dict[str, Any]


def sqlite_schema(path: Path) -> Schema:
    conn = sqlite3.connect(path)
    try:
        tables = [
            t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if t != "sqlite_sequence"
        ]
        schema: Schema = {}
        for table in sorted(tables):
            columns = [
                (name, SQLITE_TYPES[kind], not notnull and not pk, bool(pk))
                for _, name, kind, notnull, _, pk in conn.execute(f"PRAGMA table_info({table})")
            ]
            unique, indexes = set(), set()
            for _, index, is_unique, origin, _ in conn.execute(f"PRAGMA index_list({table})"):
                names = tuple(c for _, _, c in conn.execute(f"PRAGMA index_info({index})"))
                if origin == "u":
                    unique.add(names)
                elif origin == "c":
                    indexes.add((index, names, bool(is_unique)))
            keys = {
                (column, target, to, on_delete.upper())
                for _, _, target, column, to, _, on_delete, _ in conn.execute(f"PRAGMA foreign_key_list({table})")
            }
            schema[table] = {"columns": sorted(columns), "unique": unique, "indexes": indexes, "foreign_keys": keys}
        return schema
    finally:
        conn.close()


async def postgres_schema(url: str) -> Schema:
    conn = await asyncpg.connect(url)
    try:
        schema: Schema = {}
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        for (table,) in tables:
            primary = {
                r["attname"]
                for r in await conn.fetch(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                    " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary",
                    table,
                )
            }
            columns = [
                (r["column_name"], r["data_type"], r["is_nullable"] == "YES", r["column_name"] in primary)
                for r in await conn.fetch(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = $1",
                    table,
                )
            ]
            unique, indexes = set(), set()
            for r in await conn.fetch(
                "SELECT c.relname, i.indisunique, i.indisprimary,"
                " EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS constraint_backed,"
                " ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
                "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS names"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass",
                table,
            ):
                if r["indisprimary"]:
                    continue
                if r["constraint_backed"]:
                    unique.add(tuple(r["names"]))
                else:
                    indexes.add((r["relname"], tuple(r["names"]), r["indisunique"]))
            keys = {
                (r["column"], r["target"], r["to"], r["on_delete"])
                for r in await conn.fetch(
                    "SELECT a.attname AS column, t.relname AS target, ta.attname AS to,"
                    " CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'"
                    " WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS on_delete"
                    " FROM pg_constraint k JOIN pg_class t ON t.oid = k.confrelid"
                    " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]"
                    " JOIN pg_attribute ta ON ta.attrelid = k.confrelid AND ta.attnum = k.confkey[1]"
                    " WHERE k.contype = 'f' AND k.conrelid = $1::regclass",
                    table,
                )
            }
            schema[table] = {"columns": sorted(columns), "unique": unique, "indexes": indexes, "foreign_keys": keys}
        return schema
    finally:
        await conn.close()


async def test_one_set_of_migrations_gives_both_engines_the_same_schema(
    tmp_path: Path, postgres_admin_url: str
) -> None:
    sqlite_db = SqliteDatabase(tmp_path / "schema.db")
    await sqlite_db.open()
    await sqlite_db.close()
    url = create_database(postgres_admin_url)
    postgres_db = PostgresDatabase(url, POOL)
    await postgres_db.open()
    await postgres_db.close()
    expected = sqlite_schema(tmp_path / "schema.db")
    assert set(expected) == {"users", "tasks", "login_failures", "schema_migrations"}
    assert await postgres_schema(url) == expected


async def test_servers_starting_together_migrate_exactly_once(postgres_admin_url: str) -> None:
    url = create_database(postgres_admin_url)
    databases = [PostgresDatabase(url, POOL) for _ in range(6)]
    await asyncio.gather(*(db.open() for db in databases))  # all at once; none fails on a half-made schema
    try:
        rows = await databases[0].fetch_all("SELECT version FROM schema_migrations ORDER BY version", {})
        assert rows == [(file.stem,) for file in sorted(MIGRATIONS.glob("*.sql"))]
    finally:
        await asyncio.gather(*(db.close() for db in databases))


async def test_an_outage_is_503_with_retry_after_and_the_pool_recovers_without_a_restart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with throwaway_cluster() as cluster:  # its own cluster: this test stops it
        monkeypatch.setenv("JWT_SECRET", "test-secret-that-is-at-least-32-bytes-long")
        monkeypatch.setenv("DATABASE_URL", cluster.create_database())
        monkeypatch.setenv("BCRYPT_ROUNDS", "4")
        monkeypatch.setenv("APP_ENV", "test")
        monkeypatch.setenv("DATABASE_POOL_TIMEOUT_SECONDS", "1")
        monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_SECONDS", "1")
        from app.core.config import load_settings

        app = create_app(load_settings())
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            body = {"email": "outage@example.com", "password": "outage-password-1", "displayName": "O"}
            assert (await c.post("/users", json=body)).status_code == 201
            login = await c.post("/auth/login", json={"email": body["email"], "password": body["password"]})
            auth = {"Authorization": f"Bearer {login.json()['accessToken']}"}
            created = await c.post("/tasks", json={"title": "before"}, headers=auth)
            assert created.status_code == 201

            cluster.stop()
            for method, path, payload in (
                ("GET", "/tasks", None),
                ("POST", "/tasks", {"title": "during"}),
                ("GET", f"/tasks/{created.json()['id']}", None),
                ("POST", "/auth/login", {"email": body["email"], "password": body["password"]}),
                ("POST", "/users", {**body, "email": "other@example.com"}),
            ):
                answer = await c.request(method, path, json=payload, headers=auth)
                assert answer.status_code == 503, (method, path, answer.text)
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert answer.headers["retry-after"] == "2"
                assert answer.json()["status"] == 503

            cluster.start()
            statuses = []
            for _ in range(20):  # bounded: the pool reconnects on the next requests, not after a restart
                statuses.append((await c.get("/tasks", headers=auth)).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.25)
            assert statuses[-1] == 200, statuses
            assert (await c.post("/tasks", json={"title": "after"}, headers=auth)).status_code == 201
