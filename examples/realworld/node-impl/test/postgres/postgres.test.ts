/**
 * PostgreSQL itself, on the run's cluster (or, on the SQLite run, a throwaway one of these tests' own): servers of
 * both implementations starting together apply the migration exactly once, a write that lost a race runs again, the
 * pool bounds only the wait for a connection, and an outage is answered 503 with Retry-After in Conduit's error
 * shape until the pool reconnects by itself.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { type Database, type Pool, type Queries, UNAVAILABLE, Unavailable, WRITE_ATTEMPTS, openDatabase } from "../../src/app/db.js";
import * as users from "../../src/app/store/users.js";
import { Cluster } from "../cluster.js";
import { PYTHON, createDatabase, json, register, startApp, testConfig } from "../helpers.js";

const POOL: Pool = { size: 4, acquireTimeout: 2, connectTimeout: 2, statementTimeout: 10 };

/** The Python server's own migration of the database `url` (app.core.db): the versions it applied. */
const PYTHON_MIGRATE = `
import asyncio, sys
import asyncpg
from app.core.db import migrate_postgresql

async def main() -> None:
    conn = await asyncpg.connect(sys.argv[1])
    try:
        print(",".join(await migrate_postgresql(conn)))
    finally:
        await conn.close()

asyncio.run(main())
`;

function pythonMigrate(url: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", PYTHON_MIGRATE, url], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("exit", (code) => {
      if (code === 0) resolve(out.trim() === "" ? [] : out.trim().split(","));
      else reject(new Error(`the Python server's migration failed (${String(code)}): ${err}`));
    });
  });
}

const VERSIONS = readdirSync(MIGRATIONS_DIR)
  .filter((name) => name.endsWith(".sql"))
  .sort()
  .map((name) => name.slice(0, -".sql".length));

async function history(db: Database): Promise<string[]> {
  const rows = await db.read((q) => q.all<{ version: string }>("SELECT version FROM schema_migrations ORDER BY version"));
  return rows.map((row) => row.version);
}

describe("PostgreSQL", () => {
  let cluster: { adminUrl: string; close: () => Promise<void> };
  before(async () => {
    cluster = await Cluster.shared();
  });
  after(async () => {
    await cluster.close();
  });

  it("applies the migration exactly once when Node and Python servers start at once on one database", async () => {
    const url = createDatabase(cluster.adminUrl, "together");
    const [nodes, pythons] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => openDatabase({ url }, MIGRATIONS_DIR, POOL))),
      Promise.all(Array.from({ length: 2 }, () => pythonMigrate(url))),
    ]);
    try {
      assert.deepEqual(await history(nodes[0]!), VERSIONS);
      // Whoever took the lock first applied it; the Python servers that came later found it recorded.
      for (const applied of pythons) assert.ok(applied.length === 0 || applied.join() === VERSIONS.join(), applied.join());
      // Recorded by Node, with the same versions and checksums the Python server checks: it has nothing to do.
      assert.deepEqual(await pythonMigrate(url), []);
    } finally {
      await Promise.all(nodes.map((db) => db.close()));
    }
  });

  it("runs a write that lost a race again, and it sees the winner", async () => {
    const db = await openDatabase({ url: createDatabase(cluster.adminUrl, "race") }, MIGRATIONS_DIR, POOL);
    let attempts = 0;
    let checked = 0;
    let bothChecked: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothChecked = resolve));
    const registration = async (q: Queries) => {
      attempts += 1;
      const problems = await users.taken(q, "same@example.com", "same");
      // Both first attempts find the names free before either writes them.
      if (attempts <= 2) {
        checked += 1;
        if (checked === 2) bothChecked();
        await barrier;
      }
      return problems.length > 0 ? problems : users.create(q, "same", "same@example.com", "$2b$04$hash");
    };
    try {
      const results = await Promise.all([db.write(registration), db.write(registration)]);
      assert.equal(attempts, 3); // the loser ran once more
      const winner = results.find((result) => !Array.isArray(result));
      const loser = results.find((result) => Array.isArray(result));
      assert.equal((winner as users.UserRow | undefined)?.username, "same");
      assert.deepEqual(loser, [users.EMAIL_TAKEN, users.USERNAME_TAKEN]);
    } finally {
      await db.close();
    }
  });

  it(`answers 503 for a write that lost ${WRITE_ATTEMPTS} races in a row, and commits none of them`, async () => {
    const db = await openDatabase({ url: createDatabase(cluster.adminUrl, "losing") }, MIGRATIONS_DIR, POOL);
    let attempts = 0;
    try {
      await assert.rejects(
        db.write(async (q) => {
          attempts += 1;
          await q.run("INSERT INTO tags (name) VALUES (:name)", { name: "mine" });
          await q.run("INSERT INTO tags (name) VALUES (:name)", { name: "mine" }); // a unique violation, every time
        }),
        (error: unknown) => error instanceof Unavailable && error.status === 503,
      );
      assert.equal(attempts, WRITE_ATTEMPTS);
      assert.deepEqual(await db.read((q) => q.all("SELECT name FROM tags")), []);
    } finally {
      await db.close();
    }
  });

  it("bounds only the wait for a connection: a transaction longer than every timeout together commits", async () => {
    const db = await openDatabase({ url: createDatabase(cluster.adminUrl, "slow") }, MIGRATIONS_DIR, {
      size: 1,
      acquireTimeout: 1,
      connectTimeout: 2,
      statementTimeout: 2,
    });
    try {
      const slow = db.write(async (q) => {
        // Each statement stays under the statement timeout; together they outlast acquire + statement timeout.
        for (let i = 0; i < 3; i += 1) await q.get("SELECT pg_sleep(1.1)");
        return q.run("INSERT INTO tags (name) VALUES ('slow')");
      });
      const started = Date.now();
      await assert.rejects(
        db.write((q) => q.run("INSERT INTO tags (name) VALUES ('refused')")),
        (error: unknown) => error instanceof Unavailable && error.headers["retry-after"] === "2",
      );
      const waited = Date.now() - started;
      assert.ok(waited >= 900 && waited < 1900, `waited ${waited} ms`);
      assert.equal(await slow, 1);
      // The refused one never reached the database.
      assert.deepEqual(await db.read((q) => q.all("SELECT name FROM tags")), [{ name: "slow" }]);
    } finally {
      await db.close();
    }
  });

  it("answers 503 for a statement over its timeout", async () => {
    const db = await openDatabase({ url: createDatabase(cluster.adminUrl, "timeout") }, MIGRATIONS_DIR, { ...POOL, statementTimeout: 1 });
    try {
      await assert.rejects(
        db.read((q) => q.get("SELECT pg_sleep(3)")),
        (error: unknown) => error instanceof Unavailable,
      );
      assert.deepEqual(await db.read((q) => q.get("SELECT 1 AS one")), { one: 1 });
    } finally {
      await db.close();
    }
  });
});

describe("a PostgreSQL outage", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create(); // its own: this test stops it
  });
  after(async () => {
    await cluster.close();
  });

  it("is 503 with Retry-After in Conduit's error shape, never 500, until the pool reconnects by itself", async () => {
    const config = testConfig({ DATABASE_URL: createDatabase(cluster.adminUrl, "outage"), DATABASE_POOL_TIMEOUT_SECONDS: "1" });
    const app = await startApp(config);
    try {
      const me = await register(app, "outage");
      assert.equal((await app.inject({ method: "GET", url: "/tags" })).statusCode, 200);
      await cluster.stop();
      const requests = [
        { method: "GET", url: "/tags" },
        { method: "GET", url: "/articles" },
        { method: "GET", url: "/profiles/nobody" },
        { method: "GET", url: "/user", headers: me.headers }, // the token's account is read first
        { method: "POST", url: "/users/login", payload: { user: { email: me.email, password: "whatever-it-is" } } },
        { method: "POST", url: "/users", payload: { user: { username: "late", email: "late@example.com", password: "late-password" } } },
      ] as const;
      for (const request of requests) {
        const down = await app.inject(request);
        assert.equal(down.statusCode, 503, `${request.method} ${request.url}: ${down.body}`);
        assert.equal(down.headers["retry-after"], "2");
        assert.equal(down.headers["content-type"], "application/json; charset=utf-8");
        assert.deepEqual(json(down), { errors: { body: [UNAVAILABLE] } });
      }
      await cluster.start();
      let again = await app.inject({ method: "GET", url: "/tags" });
      // Bounded: the pool reconnects on its own within a few tries, at most 0.5 s apart.
      for (let i = 0; i < 50 && again.statusCode !== 200; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        again = await app.inject({ method: "GET", url: "/tags" });
      }
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(json(again), { tags: [] });
      assert.equal((await app.inject({ method: "GET", url: "/user", headers: me.headers })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
