/** The SQLite database: opened with the shared pragmas and brought up to date by the shared migrations. */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

import Database from "better-sqlite3";

export type Db = Database.Database;

export class MigrationError extends Error {
  override name = "MigrationError";
}

export function openDatabase(path: string, migrationsDir: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  // The timeout is SQLite's busy_timeout: wait up to 5 s for a lock another process (the Python server) holds.
  const db = new Database(path, { timeout: 5000 });
  try {
    db.pragma("journal_mode = WAL");
    // As in the Python implementation: with WAL, NORMAL stays consistent on a crash and skips an fsync per commit.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, migrationsDir);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Applies db/migrations/NNNN_name.sql in file-name order inside BEGIN IMMEDIATE, so that two servers starting at
 * once do not race; an applied migration whose file changed stops the server.
 */
export function migrate(db: Db, migrationsDir: string): void {
  const files = readdirSync(migrationsDir)
    .filter((name) => name.endsWith(".sql"))
    .sort();
  const run = db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const applied = db.prepare<[string], { checksum: string }>("SELECT checksum FROM schema_migrations WHERE version = ?");
    const record = db.prepare("INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)");
    for (const file of files) {
      const bytes = readFileSync(join(migrationsDir, file));
      const checksum = createHash("sha256").update(bytes).digest("hex");
      const version = file.slice(0, -".sql".length);
      const done = applied.get(version);
      if (done !== undefined) {
        if (done.checksum !== checksum) {
          throw new MigrationError(`migration ${file} was changed after it was applied (checksum differs); add a new migration instead`);
        }
        continue;
      }
      db.exec(bytes.toString("utf8"));
      record.run(version, checksum, new Date().toISOString());
    }
  });
  run.immediate();
}
