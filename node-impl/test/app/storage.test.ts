import assert from "node:assert/strict";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import Database from "better-sqlite3";

import { WAL_LIMIT_PAGES } from "../../src/app/checkpoints.js";
import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { MigrationError, openSqlite, parameters } from "../../src/app/db.js";
import { Repository } from "../../src/app/repository.js";
import { account, bearer, createTask, json, startApp, testConfig } from "../helpers.js";

describe("storage", () => {
  it("keeps accounts and tasks across a restart on the same database file", async () => {
    const config = testConfig();
    const first = await startApp(config);
    const { token } = await account(first);
    const { task } = await createTask(first, token, { title: "survives" });
    await first.close();

    const second = await startApp(config);
    const response = await second.inject({ url: `/tasks/${String(task["id"])}`, headers: bearer(token) });
    await second.close();
    assert.equal(response.statusCode, 200);
    assert.equal(json(response)["title"], "survives");
  });

  it("applies the shared migrations once on SQLite, recording their sha256, with WAL, foreign keys on and checkpoints off the connection", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "twinapi-node-")), "app.db");
    await openSqlite(path, MIGRATIONS_DIR).close();
    const opened = openSqlite(path, MIGRATIONS_DIR);
    // foreign_keys is a setting of each connection: asked of the one openSqlite set up, not of a new one.
    assert.deepEqual(await opened.get("PRAGMA foreign_keys"), { foreign_keys: 1 });
    // So is the checkpoint threshold: none, a worker checkpoints (see checkpoints.ts).
    assert.deepEqual(await opened.get("PRAGMA wal_autocheckpoint"), { wal_autocheckpoint: 0 });
    await opened.close();
    const db = new Database(path);
    const rows = db.prepare("SELECT version, checksum FROM schema_migrations ORDER BY version").all() as {
      version: string;
      checksum: string;
    }[];
    assert.deepEqual(
      rows.map((row) => row.version),
      ["0001_init", "0002_login_failures"],
    );
    assert.match(rows[0]?.checksum ?? "", /^[0-9a-f]{64}$/);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    db.close();
  });

  it("refuses to start when an applied migration changed, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twinapi-migrations-"));
    const path = join(dir, "app.db");
    writeFileSync(join(dir, "0001_first.sql"), "CREATE TABLE a (x TEXT);");
    await openSqlite(path, dir).close();
    writeFileSync(join(dir, "0001_first.sql"), "CREATE TABLE a (x INTEGER);");
    assert.throws(
      () => openSqlite(path, dir),
      (error: unknown) => error instanceof MigrationError && error.message.includes("0001_first.sql"),
    );
  });

  it("applies a new migration in one transaction: a failing one leaves no trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "twinapi-migrations-"));
    const path = join(dir, "app.db");
    writeFileSync(join(dir, "0001_first.sql"), "CREATE TABLE a (x TEXT);");
    writeFileSync(join(dir, "0002_broken.sql"), "CREATE TABLE b (y TEXT); THIS IS NOT SQL;");
    assert.throws(() => openSqlite(path, dir));
    const db = new Database(path);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b', 'schema_migrations')").all();
    db.close();
    assert.deepEqual(tables, []);
  });

  it("keeps the WAL file bounded under steady single-row writes with RETURNING, checkpointed off the event loop", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "twinapi-node-")), "app.db");
    const db = openSqlite(path, MIGRATIONS_DIR);
    const repo = Repository.of(db);
    const at = new Date().toISOString();
    await repo.insertUser({
      id: "u",
      email: "a@example.com",
      email_key: "a@example.com",
      display_name: "A",
      password_hash: "x",
      created_at: at,
    });
    const fields = { title: "t", notes: "n".repeat(200), due_date: null, priority: "normal", status: "open" };
    // Each commit appends a few pages (about 10 KiB): 5,000 of them are near 50 MiB of WAL unless checkpoints start
    // the file over. A pause after each pair, as between a server's requests, paces the writes and lets them run.
    let largest = 0;
    for (let i = 0; i < 2500; i += 1) {
      const row = await repo.insertTask(`t${i}`, "u", fields, at);
      assert.ok(await repo.updateTask(row.id, "u", row.version, { ...fields, status: "done" }, at));
      largest = Math.max(largest, statSync(`${path}-wal`).size);
      await sleep(1);
    }
    await db.close();
    const limit = WAL_LIMIT_PAGES * 4096;
    assert.ok(largest < 1.5 * limit, `the -wal file grew to ${largest} bytes`);
  });

  it("binds :name parameters by position: a name used twice takes its value twice, a missing one is an error", async () => {
    const sql = "SELECT :a AS first, :b AS second, :a || '::b' AS again";
    assert.deepEqual(parameters(sql, "anonymous"), { text: "SELECT ? AS first, ? AS second, ? || '::b' AS again", names: ["a", "b", "a"] });
    assert.deepEqual(parameters(sql, "numbered"), { text: "SELECT $1 AS first, $2 AS second, $1 || '::b' AS again", names: ["a", "b"] });
    assert.deepEqual(parameters("SELECT :text::text", "numbered"), { text: "SELECT $1::text", names: ["text"] });

    const db = openSqlite(join(mkdtempSync(join(tmpdir(), "twinapi-node-")), "app.db"), MIGRATIONS_DIR);
    try {
      assert.deepEqual(await db.get(sql, { b: 2, a: "x" }), { first: "x", second: 2, again: "x::b" });
      await assert.rejects(db.get(sql, { a: 1 }), /no value for :b/);
    } finally {
      await db.close();
    }
  });
});
