/** The SQLite database: opened with the shared pragmas and brought up to date by the shared migrations. */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

import Database from "better-sqlite3";

export type Db = Database.Database;

/** A migration that cannot be applied, or one applied that no longer matches its file. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The database cannot be opened or brought up to date: the server does not start. */
export class DatabaseError extends Error {
  override name = "DatabaseError";
}

/** The database at `path`, migrated; any failure a DatabaseError naming the file, as the Python server says it. */
export function openDatabase(path: string, migrationsDir: string): Db {
  let db: Db | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    // SQLite's busy_timeout: wait up to 5 s for a lock the other server (Python, on the same file) holds.
    db = new Database(path, { timeout: 5000 });
    db.pragma("journal_mode = WAL");
    // With WAL, NORMAL stays consistent on a crash and saves an fsync per commit.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, migrationsDir);
    return db;
  } catch (error) {
    db?.close();
    throw new DatabaseError(`database ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

interface Applied {
  version: string;
  checksum: string;
}

/**
 * Applies db/migrations/*.sql in file-name order inside BEGIN IMMEDIATE, so that two servers starting at once on
 * one file apply each migration once; a recorded migration whose file changed or disappeared stops the server.
 */
export function migrate(db: Db, migrationsDir: string): void {
  const files = readdirSync(migrationsDir)
    .filter((name) => name.endsWith(".sql"))
    .sort();
  const run = db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const applied = new Map(
      db
        .prepare<[], Applied>("SELECT version, checksum FROM schema_migrations")
        .all()
        .map((row) => [row.version, row.checksum]),
    );
    const versions = new Set(files.map((file) => file.slice(0, -".sql".length)));
    for (const version of [...applied.keys()].sort()) {
      if (!versions.has(version)) {
        throw new MigrationError(`migration ${version}.sql was applied to this database but is missing from ${migrationsDir}`);
      }
    }
    const record = db.prepare<[string, string, string]>("INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)");
    for (const file of files) {
      const bytes = readFileSync(join(migrationsDir, file));
      const checksum = createHash("sha256").update(bytes).digest("hex");
      const version = file.slice(0, -".sql".length);
      const recorded = applied.get(version);
      if (recorded === checksum) continue;
      if (recorded !== undefined) {
        throw new MigrationError(`migration ${file} was changed after it was applied (its checksum differs): add a new migration instead`);
      }
      try {
        db.exec(bytes.toString("utf8"));
      } catch (error) {
        throw new MigrationError(`migration ${file} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      record.run(version, checksum, new Date().toISOString());
    }
  });
  run.immediate();
}
