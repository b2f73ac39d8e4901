/**
 * The database behind one async API: SQLite (better-sqlite3, the embedded default) or PostgreSQL (postgres.js,
 * chosen by bench/drivers/node_drivers.mjs), and the migration runner both share with the Python implementation.
 *
 * Statements are plain SQL with `:name` parameters, as in python-impl/app/core/db.py; the few places where the
 * dialects differ ask `dialect`. A database that cannot be reached makes a request answer 503 with Retry-After,
 * never 500; the pool reconnects by itself once the server is back.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

import BetterSqlite3 from "better-sqlite3";
import { Problem } from "fastify-twinapi";
import postgres from "postgres";

import { type Checkpoints, checkpointInBackground } from "./checkpoints.js";

export type Dialect = "sqlite" | "postgresql";
export type Params = Readonly<Record<string, unknown>>;

/** Statements on the database, or inside one transaction. */
export interface Queries {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  /** A write; how many rows it changed. */
  run(sql: string, params?: Params): Promise<number>;
}

export interface Db extends Queries {
  /**
   * Runs `work` in one write transaction: SQLite's BEGIN IMMEDIATE; on PostgreSQL rows the work must not see change
   * are read `FOR UPDATE` (see `forUpdate`).
   */
  transaction<T>(work: (tx: Queries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL's connection pool, per process (SQLite has one connection and ignores it). */
export interface Pool {
  /** Connections at most; every instance holds up to this many of the server's max_connections. */
  readonly size: number;
  /** Seconds a request may wait for a free connection before it is answered 503 (nothing is sent by then). */
  readonly acquireTimeout: number;
  /** Seconds to open one connection. */
  readonly connectTimeout: number;
  /** Seconds one statement may run before the server cancels it. */
  readonly statementTimeout: number;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The database could not be reached or migrated at start; the message is one line. */
export class StartError extends Error {
  override name = "StartError";
}

/** Where a migration cannot be written in SQL both engines read, its PostgreSQL text has the same name here. */
const POSTGRESQL_MIGRATIONS = "postgresql";
/** pg_advisory_xact_lock's key for applying migrations: the same number in both implementations ("twinapi"). */
const MIGRATION_LOCK = "32782392005587049";
/** Seconds a client is told to wait when the database cannot be reached; a restart or failover takes a few. */
export const RETRY_AFTER_SECONDS = 2;
/** A pooled connection unused this long is closed: an idle instance does not hold server slots forever. */
const IDLE_LIFETIME_SECONDS = 300;
/**
 * The longest pause, in seconds, between two attempts to reconnect a pooled connection. postgres.js' own backoff
 * grows to 20 s after a few failures, and the statements waiting for that connection wait it out: in an outage
 * under load, requests took up to 15 s to be answered 503, and the pool as long to notice the server was back.
 */
const RECONNECT_PAUSE_MAX_SECONDS = 0.5;

/** WAL pages between two checkpoints of the serving connection itself (see openSqlite). */
const WAL_AUTOCHECKPOINT_PAGES = 250;

const SCHEMA_MIGRATIONS =
  "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

/** The database is down, restarting, out of connections, or no connection came free in time: 503, try later. */
export function unavailable(): Problem {
  return new Problem(503, "The database is unavailable; try again shortly.", { headers: { "retry-after": String(RETRY_AFTER_SECONDS) } });
}

/** True when a write broke a unique constraint, on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error) || !("code" in error)) return false;
  return error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY" || error.code === "23505";
}

/** True when a write named a row that does not exist (a foreign key), on either engine. */
export function isForeignKeyViolation(error: unknown): boolean {
  if (!(error instanceof Error) || !("code" in error)) return false;
  return error.code === "SQLITE_CONSTRAINT_FOREIGNKEY" || error.code === "23503";
}

/** `SELECT ... FOR UPDATE` on PostgreSQL inside a transaction; SQLite's BEGIN IMMEDIATE already excludes writers. */
export function forUpdate(tx: Queries): string {
  return tx.dialect === "postgresql" ? " FOR UPDATE" : "";
}

/** (version, file) in version order: db/migrations/*.sql, each replaced by its postgresql/ twin on PostgreSQL. */
export function migrationFiles(migrationsDir: string, dialect: Dialect): [string, string][] {
  return readdirSync(migrationsDir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => {
      const twin = join(migrationsDir, POSTGRESQL_MIGRATIONS, name);
      return [name.slice(0, -".sql".length), dialect === "postgresql" && existsSync(twin) ? twin : join(migrationsDir, name)];
    });
}

function checksumOf(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function refuseChanged(file: string): never {
  const name = file.split("/").at(-1) ?? file;
  throw new MigrationError(`migration ${name} was changed after it was applied (checksum differs); add a new migration instead`);
}

/** The engine DATABASE_URL names: a file path is SQLite, a postgresql:// URL PostgreSQL. Migrated when it resolves. */
export async function openDatabase(
  target: { path: string } | { url: string },
  migrationsDir: string,
  pool: Pool,
  warn?: (message: string) => void,
): Promise<Db> {
  return "path" in target ? openSqlite(target.path, migrationsDir, warn) : openPostgres(target.url, migrationsDir, pool);
}

/** `:name` not preceded by another colon (`::text` is a cast) or a word character. */
const PARAMETER = /(?<![:\w]):([A-Za-z_]\w*)/g;

/** A statement prepared from `:name` SQL, and the names its parameters take their values from, in order. */
interface Prepared<S> {
  readonly statement: S;
  readonly names: readonly string[];
}

/**
 * `:name` SQL with the engine's placeholders, and the name each placeholder takes its value from, in order:
 * SQLite's anonymous `?` (a name used twice is two of them), or PostgreSQL's `$n` (a name used twice is one `$n`).
 */
export function parameters(sql: string, style: "anonymous" | "numbered"): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sql.replace(PARAMETER, (_, name: string) => {
    if (style === "anonymous") {
      names.push(name);
      return "?";
    }
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, names };
}

/** The values of `names` in `params`, in order; a name without a value is an error, as in either driver. */
function values(names: readonly string[], params: Params): unknown[] {
  const out = new Array<unknown>(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (!(name in params)) throw new Error(`no value for :${name}`);
    out[i] = params[name];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------- SQLite

/** `warn` hears what goes wrong in the background, where no request can be answered with it. */
export function openSqlite(path: string, migrationsDir: string, warn = (message: string) => process.emitWarning(message)): Db {
  mkdirSync(dirname(path), { recursive: true });
  // The timeout is SQLite's busy_timeout: wait up to 5 s for a lock another process (the Python server) holds.
  const db = new BetterSqlite3(path, { timeout: 5000 });
  let wal: boolean;
  try {
    wal = db.pragma("journal_mode = WAL", { simple: true }) === "wal";
    // As in the Python implementation: with WAL, NORMAL stays consistent on a crash and skips an fsync per commit.
    db.pragma("synchronous = NORMAL");
    // Checkpoints run in a worker (see checkpoints.ts); this threshold is for the migrations and for when the worker
    // cannot run. The fsync of a checkpoint in the committing statement costs by the pages it copies: at SQLite's
    // default of 1000 each pause was 16 to 140 ms on a VM's disk, at 250 4 to 6 ms, for no more time in all.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma("foreign_keys = ON");
    migrate(db, migrationsDir);
  } catch (error) {
    db.close();
    throw error;
  }
  const served = new SqliteDb(db);
  // A statement like any other: it waits for a transaction in progress to end, as a checkpoint must.
  const checkpoint = () => served.get("PRAGMA wal_checkpoint(PASSIVE)");
  if (wal) served.checkpoints = checkpointInBackground(db, path, warn, { checkpoint });
  return served;
}

/**
 * Applies db/migrations/NNNN_name.sql in file-name order inside BEGIN IMMEDIATE, so that two servers starting at
 * once do not race; an applied migration whose file changed stops the server.
 */
export function migrate(db: BetterSqlite3.Database, migrationsDir: string): void {
  const run = db.transaction(() => {
    db.exec(SCHEMA_MIGRATIONS);
    const applied = db.prepare<[string], { checksum: string }>("SELECT checksum FROM schema_migrations WHERE version = ?");
    const record = db.prepare("INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)");
    for (const [version, file] of migrationFiles(migrationsDir, "sqlite")) {
      const bytes = readFileSync(file);
      const checksum = checksumOf(bytes);
      const done = applied.get(version);
      if (done !== undefined) {
        if (done.checksum !== checksum) refuseChanged(file);
        continue;
      }
      db.exec(bytes.toString("utf8"));
      record.run(version, checksum, new Date().toISOString());
    }
  });
  run.immediate();
}

/**
 * One better-sqlite3 connection. Its calls are synchronous; a transaction spans awaits, so statements are queued
 * behind an open transaction instead of running inside it. With nothing queued a statement runs at once: under
 * load the queue's promises (five per statement) cost more than the statement itself.
 *
 * Statements are prepared once with anonymous `?` parameters and bound from an array: better-sqlite3 binds named
 * ones by looking each name up on the object, which cost more than the statement's own work in a PATCH's profile.
 */
class SqliteDb implements Db {
  readonly dialect = "sqlite";
  private readonly statements = new Map<string, Prepared<BetterSqlite3.Statement>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Work queued or running on the queue (a transaction among it); 0: the connection is free right now. */
  private queued = 0;

  /** Who checkpoints the WAL (none for a database that is not in WAL mode). */
  checkpoints: Checkpoints | null = null;

  constructor(private readonly db: BetterSqlite3.Database) {}

  private prepared(sql: string): Prepared<BetterSqlite3.Statement> {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      const { text, names } = parameters(sql, "anonymous");
      prepared = { statement: this.db.prepare(text), names };
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  private rows<T>(sql: string, params: Params): T[] {
    const { statement, names } = this.prepared(sql);
    const args = values(names, params);
    if (statement.reader) return statement.all(args) as T[];
    statement.run(args);
    return [];
  }

  /**
   * The first row. A read stops after one step; a write with RETURNING is stepped to its end: stopped early, SQLite
   * commits it when the statement is reset and skips its WAL auto-checkpoint, and the -wal file grows without bound
   * (to gigabytes under load, every read slower for it).
   */
  private row<T>(sql: string, params: Params): T | undefined {
    const { statement, names } = this.prepared(sql);
    const args = values(names, params);
    if (statement.readonly) return statement.get(args) as T | undefined;
    if (statement.reader) return statement.all(args)[0] as T | undefined;
    statement.run(args);
    return undefined;
  }

  private changes(sql: string, params: Params): number {
    const { statement, names } = this.prepared(sql);
    return statement.run(values(names, params)).changes;
  }

  private readonly direct: Queries = {
    dialect: "sqlite",
    all: async <T>(sql: string, params: Params = {}) => this.rows<T>(sql, params),
    get: async <T>(sql: string, params: Params = {}) => this.row<T>(sql, params),
    run: async (sql: string, params: Params = {}) => this.changes(sql, params),
  };

  /** `work` after everything queued before it, alone. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.queue.then(work).finally(() => {
      this.queued -= 1;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** One statement: at once when the connection is free, else behind the queue. */
  private now<T>(statement: () => T): Promise<T> {
    if (this.queued > 0) return this.serially(async () => statement());
    try {
      return Promise.resolve(statement());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  all<T>(sql: string, params: Params = {}): Promise<T[]> {
    return this.now(() => this.rows<T>(sql, params));
  }

  get<T>(sql: string, params: Params = {}): Promise<T | undefined> {
    return this.now(() => this.row<T>(sql, params));
  }

  run(sql: string, params: Params = {}): Promise<number> {
    return this.now(() => this.changes(sql, params));
  }

  transaction<T>(work: (tx: Queries) => Promise<T>): Promise<T> {
    // Prepared once like every other statement: exec would parse them again on every transaction.
    return this.serially(async () => {
      this.prepared("BEGIN IMMEDIATE").statement.run();
      try {
        const result = await work(this.direct);
        this.prepared("COMMIT").statement.run();
        return result;
      } catch (error) {
        this.prepared("ROLLBACK").statement.run();
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    await this.checkpoints?.stop();
    this.db.close();
  }
}

// ------------------------------------------------------------------------------------------------ PostgreSQL

/** Node's and postgres.js' codes for a server that is down, restarting, unreachable or not answering in time. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "POOL_TIMEOUT",
]);

/** Unreachable, or PostgreSQL's classes 08 (connection), 53 (resources: too many connections), 57 (shutdown, cancel). */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error) || !("code" in error) || typeof error.code !== "string") return false;
  return UNREACHABLE_CODES.has(error.code) || /^(08|53|57)/.test(error.code);
}

async function openPostgres(url: string, migrationsDir: string, pool: Pool): Promise<Db> {
  const sql = postgres(url, {
    max: pool.size,
    connect_timeout: pool.connectTimeout,
    idle_timeout: IDLE_LIFETIME_SECONDS,
    backoff: (failures: number) => Math.min(0.05 * 2 ** failures, RECONNECT_PAUSE_MAX_SECONDS),
    // SQLite's INTEGER and these tables' BIGINT columns are numbers here, as better-sqlite3 returns them.
    types: { bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (text: string) => Number(text) } },
    connection: { application_name: "twinapi-node", statement_timeout: pool.statementTimeout * 1000 },
    onnotice: () => {},
  });
  try {
    await migratePostgres(sql, migrationsDir);
  } catch (error) {
    await sql.end({ timeout: 5 });
    if (error instanceof MigrationError || !(error instanceof Error)) throw error;
    const code = "code" in error ? `${String(error.code)}: ` : "";
    throw new StartError(`database: ${code}${error.message.split("\n")[0] ?? ""}`);
  }
  return new PostgresDb(sql, new Turns(pool.size, pool.acquireTimeout * 1000));
}

/**
 * At most `size` operations on the pool at once, so that postgres.js always has a connection for the one it is
 * given; the others wait their turn, at most `waitMs`, and are refused before anything reaches the database.
 */
export class Turns {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly size: number,
    private readonly waitMs: number,
  ) {}

  /** A turn, or a POOL_TIMEOUT error when none came free in time. */
  async take(): Promise<void> {
    if (this.active < this.size) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const admit = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(admit), 1);
        reject(Object.assign(new Error("no connection came free in time"), { code: "POOL_TIMEOUT" }));
      }, this.waitMs);
      this.waiting.push(admit);
    });
  }

  /** Hands the turn to the next in line (who keeps `active` as it is), or frees it. */
  give(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.active -= 1;
    else next();
  }
}

/**
 * Applies the pending migrations in one transaction under an advisory lock: N servers starting at once apply each
 * migration exactly once (the others wait, then find it applied).
 */
export async function migratePostgres(sql: postgres.Sql, migrationsDir: string): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.unsafe(SCHEMA_MIGRATIONS);
    const rows = await tx.unsafe<{ version: string; checksum: string }[]>("SELECT version, checksum FROM schema_migrations");
    const applied = new Map(rows.map((row) => [row.version, row.checksum]));
    const done: string[] = [];
    for (const [version, file] of migrationFiles(migrationsDir, "postgresql")) {
      const bytes = readFileSync(file);
      const checksum = checksumOf(bytes);
      const before = applied.get(version);
      if (before !== undefined) {
        if (before !== checksum) refuseChanged(file);
        continue;
      }
      await tx.unsafe(bytes.toString("utf8")).simple(); // the simple protocol runs a script of several statements
      await tx.unsafe("INSERT INTO schema_migrations (version, checksum, applied_at) VALUES ($1, $2, $3)", [
        version,
        checksum,
        new Date().toISOString(),
      ]);
      done.push(version);
    }
    return done;
  });
}

class PostgresDb implements Db {
  readonly dialect = "postgresql";
  /** Each statement's `$n` text and parameter names, made once: the rewrite is a regex pass over the SQL. */
  private readonly texts = new Map<string, Prepared<string>>();

  constructor(
    private readonly sql: postgres.Sql,
    private readonly turns: Turns,
  ) {}

  /** The `$n` text of `:name` SQL and its arguments. */
  private bound(sql: string, params: Params): [string, postgres.ParameterOrJSON<never>[]] {
    let prepared = this.texts.get(sql);
    if (prepared === undefined) {
      const { text, names } = parameters(sql, "numbered");
      prepared = { statement: text, names };
      this.texts.set(sql, prepared);
    }
    // Sequence numbers arrive as BigInt (the cursor); PostgreSQL reads their decimal text as bigint.
    const args = values(prepared.names, params).map((value) => (typeof value === "bigint" ? value.toString() : value));
    return [prepared.statement, args as postgres.ParameterOrJSON<never>[]];
  }

  private queries(sql: postgres.TransactionSql | postgres.Sql): Queries {
    const all = async <T>(text: string, params: Params = {}): Promise<T[]> => {
      const [statement, args] = this.bound(text, params);
      return (await sql.unsafe(statement, args, { prepare: true })) as unknown as T[];
    };
    return {
      dialect: "postgresql",
      all,
      get: async <T>(text: string, params?: Params) => (await all<T>(text, params))[0],
      run: async (text: string, params: Params = {}) => {
        const [statement, args] = this.bound(text, params);
        return (await sql.unsafe(statement, args, { prepare: true })).count;
      },
    };
  }

  /**
   * `work` once a connection is free for it: only that wait is bounded here (DATABASE_POOL_TIMEOUT_SECONDS); the
   * statements are bounded by the server's statement_timeout, so a statement that commits is never answered 503.
   * A database that cannot be reached is a 503.
   */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      await this.turns.take();
    } catch {
      throw unavailable();
    }
    try {
      return await work();
    } catch (error) {
      if (isUnreachable(error)) throw unavailable();
      throw error;
    } finally {
      this.turns.give();
    }
  }

  all<T>(sql: string, params?: Params): Promise<T[]> {
    return this.guarded(() => this.queries(this.sql).all<T>(sql, params));
  }

  get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return this.guarded(() => this.queries(this.sql).get<T>(sql, params));
  }

  run(sql: string, params?: Params): Promise<number> {
    return this.guarded(() => this.queries(this.sql).run(sql, params));
  }

  transaction<T>(work: (tx: Queries) => Promise<T>): Promise<T> {
    return this.guarded(async () => (await this.sql.begin((tx) => work(this.queries(tx)))) as T);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
