import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { DatabaseError, MigrationError, migrate, openDatabase } from "../../src/app/db.js";
import { tempDir } from "../helpers.js";

/** A copy of the project's migrations, to change without touching the real ones. */
function migrationsCopy(): string {
  const dir = join(tempDir(), "migrations");
  mkdirSync(dir);
  copyFileSync(join(MIGRATIONS_DIR, "0001_init.sql"), join(dir, "0001_init.sql"));
  return dir;
}

describe("database", () => {
  it("applies the migrations once and records version, checksum and time", () => {
    const path = join(tempDir(), "nested", "conduit.db");
    const db = openDatabase(path, MIGRATIONS_DIR);
    const rows = db.prepare("SELECT version, checksum, applied_at FROM schema_migrations").all() as {
      version: string;
      checksum: string;
      applied_at: string;
    }[];
    db.close();
    const sha = createHash("sha256")
      .update(readFileSync(join(MIGRATIONS_DIR, "0001_init.sql")))
      .digest("hex");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.version, "0001_init");
    assert.equal(rows[0]?.checksum, sha);
    assert.match(rows[0]?.applied_at ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // A second start finds everything applied and changes nothing.
    const again = openDatabase(path, MIGRATIONS_DIR);
    assert.equal((again.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get() as { n: number }).n, 1);
    again.close();
  });

  it("names the file it cannot open", () => {
    const blocker = join(tempDir(), "a-file");
    writeFileSync(blocker, "");
    const path = join(blocker, "conduit.db");
    assert.throws(
      () => openDatabase(path, MIGRATIONS_DIR),
      (error: unknown) => error instanceof DatabaseError && error.message.startsWith(`database ${path}: `),
    );
  });

  it("migrates a database another process opened, once", () => {
    const path = join(tempDir(), "conduit.db");
    const first = openDatabase(path, MIGRATIONS_DIR);
    const second = openDatabase(path, MIGRATIONS_DIR);
    migrate(second, MIGRATIONS_DIR);
    assert.equal((first.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get() as { n: number }).n, 1);
    first.close();
    second.close();
  });

  it("opens with the shared pragmas", () => {
    const db = openDatabase(join(tempDir(), "conduit.db"), MIGRATIONS_DIR);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
    assert.equal(db.pragma("synchronous", { simple: true }), 1); // NORMAL
    db.close();
  });

  it("applies new migrations in file-name order", () => {
    const dir = migrationsCopy();
    const path = join(tempDir(), "conduit.db");
    openDatabase(path, dir).close();
    writeFileSync(join(dir, "0003_more.sql"), "ALTER TABLE extra ADD COLUMN more TEXT;");
    writeFileSync(join(dir, "0002_extra.sql"), "CREATE TABLE extra (id INTEGER PRIMARY KEY);");
    const db = openDatabase(path, dir);
    const versions = (db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as { version: string }[]).map(
      (row) => row.version,
    );
    db.prepare("INSERT INTO extra (more) VALUES ('x')").run();
    db.close();
    assert.deepEqual(versions, ["0001_init", "0002_extra", "0003_more"]);
  });

  it("stops at a migration changed after it was applied, naming it", () => {
    const dir = migrationsCopy();
    const path = join(tempDir(), "conduit.db");
    openDatabase(path, dir).close();
    writeFileSync(join(dir, "0001_init.sql"), readFileSync(join(dir, "0001_init.sql"), "utf8") + "\n-- edited\n");
    assert.throws(
      () => openDatabase(path, dir),
      (error: unknown) => error instanceof DatabaseError && error.cause instanceof MigrationError && /0001_init\.sql/.test(error.message),
    );
  });

  it("stops at a migration applied whose file is gone, naming it", () => {
    const dir = migrationsCopy();
    writeFileSync(join(dir, "0002_extra.sql"), "CREATE TABLE extra (id INTEGER PRIMARY KEY);");
    const path = join(tempDir(), "conduit.db");
    openDatabase(path, dir).close();
    rmSync(join(dir, "0002_extra.sql"));
    assert.throws(
      () => openDatabase(path, dir),
      (error: unknown) => error instanceof DatabaseError && error.cause instanceof MigrationError && /0002_extra\.sql/.test(error.message),
    );
  });

  it("applies nothing of a migration that fails", () => {
    const dir = migrationsCopy();
    writeFileSync(join(dir, "0002_broken.sql"), "CREATE TABLE half (id INTEGER);\nTHIS IS NOT SQL;");
    const path = join(tempDir(), "conduit.db");
    assert.throws(
      () => openDatabase(path, dir),
      (error: unknown) => error instanceof DatabaseError && /0002_broken\.sql/.test(error.message),
    );
    rmSync(join(dir, "0002_broken.sql"));
    const db = openDatabase(path, dir);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'half'").all();
    db.close();
    assert.deepEqual(tables, []);
  });
});
