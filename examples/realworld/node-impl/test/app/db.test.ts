/** The migrations on the run's engine (SQLite, or PostgreSQL inside the kit's throwaway cluster), and SQLite's file. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { type Database, DatabaseError, MigrationError, type Target, migrationFiles, openDatabase } from "../../src/app/db.js";
import { POSTGRES_ADMIN_URL, createDatabase, tempDir } from "../helpers.js";

const POOL = { size: 4, acquireTimeout: 2, connectTimeout: 2, statementTimeout: 10 };
const ENGINE = POSTGRES_ADMIN_URL === undefined ? "SQLite" : "PostgreSQL";

/** A fresh database of the run's engine. */
function target(): Target {
  return POSTGRES_ADMIN_URL === undefined ? { path: join(tempDir(), "conduit.db") } : { url: createDatabase(POSTGRES_ADMIN_URL) };
}

function open(where: Target, dir = MIGRATIONS_DIR): Promise<Database> {
  return openDatabase(where, dir, POOL);
}

/** A copy of the project's migrations (with their PostgreSQL twins), to change without touching the real ones. */
function migrationsCopy(): string {
  const dir = join(tempDir(), "migrations");
  mkdirSync(join(dir, "postgresql"), { recursive: true });
  for (const name of ["0001_init.sql", "postgresql/0001_init.sql"]) copyFileSync(join(MIGRATIONS_DIR, name), join(dir, name));
  return dir;
}

async function versions(db: Database): Promise<string[]> {
  const rows = await db.read((q) => q.all<{ version: string }>("SELECT version FROM schema_migrations ORDER BY version"));
  return rows.map((row) => row.version);
}

/** Opening `where` fails with a one-line DatabaseError from a MigrationError whose message matches `pattern`. */
async function refused(where: Target, dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(open(where, dir), (error: unknown) => {
    assert.ok(error instanceof DatabaseError, String(error));
    assert.ok(error.cause instanceof MigrationError, String(error.cause));
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"));
    return true;
  });
}

describe(`migrations on ${ENGINE}`, () => {
  it("are applied once and recorded with version, checksum and time", async () => {
    const where = target();
    const db = await open(where);
    const rows = await db.read((q) => q.all<{ version: string; checksum: string; applied_at: string }>("SELECT * FROM schema_migrations"));
    await db.close();
    const [, file] = migrationFiles(MIGRATIONS_DIR, ENGINE === "SQLite" ? "sqlite" : "postgresql")[0] ?? [];
    const sha = createHash("sha256")
      .update(readFileSync(file ?? ""))
      .digest("hex");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.version, "0001_init");
    assert.equal(rows[0]?.checksum, sha);
    assert.match(rows[0]?.applied_at ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // A second start finds everything applied and changes nothing.
    const again = await open(where);
    assert.deepEqual(await versions(again), ["0001_init"]);
    await again.close();
  });

  it("are applied once when two servers open one database at the same time", async () => {
    const where = target();
    const both = await Promise.all([open(where), open(where)]);
    try {
      assert.deepEqual(await versions(both[0]), ["0001_init"]);
    } finally {
      await Promise.all(both.map((db) => db.close()));
    }
  });

  it("apply new migrations in file-name order", async () => {
    const dir = migrationsCopy();
    const where = target();
    await (await open(where, dir)).close();
    writeFileSync(join(dir, "0003_more.sql"), "ALTER TABLE extra ADD COLUMN more TEXT;");
    writeFileSync(join(dir, "0002_extra.sql"), "CREATE TABLE extra (id INTEGER PRIMARY KEY);");
    const db = await open(where, dir);
    await db.write((q) => q.run("INSERT INTO extra (id, more) VALUES (1, 'x')"));
    assert.deepEqual(await versions(db), ["0001_init", "0002_extra", "0003_more"]);
    await db.close();
  });

  it("stop at a migration changed after it was applied, naming it", async () => {
    const dir = migrationsCopy();
    const where = target();
    await (await open(where, dir)).close();
    const twin = join(dir, ENGINE === "SQLite" ? "" : "postgresql", "0001_init.sql");
    writeFileSync(twin, readFileSync(twin, "utf8") + "\n-- edited\n");
    await refused(where, dir, /0001_init\.sql was changed after it was applied/);
  });

  it("stop at a migration applied whose file is gone, naming it", async () => {
    const dir = migrationsCopy();
    writeFileSync(join(dir, "0002_extra.sql"), "CREATE TABLE extra (id INTEGER PRIMARY KEY);");
    const where = target();
    await (await open(where, dir)).close();
    rmSync(join(dir, "0002_extra.sql"));
    await refused(where, dir, /0002_extra\.sql was applied to this database but is missing/);
  });

  it("apply nothing of a migration that fails", async () => {
    const dir = migrationsCopy();
    writeFileSync(join(dir, "0002_broken.sql"), "CREATE TABLE half (id INTEGER);\nTHIS IS NOT SQL;");
    const where = target();
    await refused(where, dir, /^database .*: migration 0002_broken\.sql failed: /);
    rmSync(join(dir, "0002_broken.sql"));
    const db = await open(where, dir);
    try {
      await assert.rejects(db.read((q) => q.all("SELECT id FROM half")));
      assert.deepEqual(await versions(db), ["0001_init"]);
    } finally {
      await db.close();
    }
  });
});

describe("the SQLite file", () => {
  it("is named when it cannot be opened", async () => {
    const blocker = join(tempDir(), "a-file");
    writeFileSync(blocker, "");
    const path = join(blocker, "conduit.db");
    await assert.rejects(
      open({ path }),
      (error: unknown) => error instanceof DatabaseError && error.message.startsWith(`database ${path}: `) && !error.message.includes("\n"),
    );
  });

  it("is made with its folders and opened with the shared pragmas", async () => {
    const db = await open({ path: join(tempDir(), "nested", "deeper", "conduit.db") });
    try {
      const pragma = (name: string) => db.read((q) => q.get<Record<string, unknown>>(`PRAGMA ${name}`));
      assert.deepEqual(await pragma("journal_mode"), { journal_mode: "wal" });
      assert.deepEqual(await pragma("foreign_keys"), { foreign_keys: 1 });
      assert.deepEqual(await pragma("synchronous"), { synchronous: 1 }); // NORMAL
      assert.deepEqual(await pragma("busy_timeout"), { timeout: 5000 });
    } finally {
      await db.close();
    }
  });

  it("runs one transaction at a time, and rolls back all of one that throws", async () => {
    const db = await open({ path: join(tempDir(), "conduit.db") });
    try {
      await db.write((q) => q.run("CREATE TABLE probe (n INTEGER)"));
      const order: string[] = [];
      const first = db.write(async (q) => {
        await q.run("INSERT INTO probe (n) VALUES (1)");
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push("first");
        throw new Error("changed its mind");
      });
      const second = db.read(async (q) => {
        order.push("second");
        return q.all<{ n: number }>("SELECT n FROM probe");
      });
      await assert.rejects(first, /changed its mind/);
      assert.deepEqual(await second, []);
      assert.deepEqual(order, ["first", "second"]);
    } finally {
      await db.close();
    }
  });
});
