/**
 * The database behind one async API: SQLite (better-sqlite3, the embedded default) or PostgreSQL (postgres.js, the
 * driver and pool settings of the kit's own Node example), and the migrations both apply, as the Python server's
 * app/core/db.py does them.
 *
 * The store runs plain SQL with `:name` parameters on either engine; the few places where the dialects differ ask
 * `q.dialect`. `read` and `write` run a function of `Queries` as one transaction. A database that cannot be reached
 * throws `Unavailable`, which Conduit answers 503 with Retry-After in its error shape (plugins/unavailable.ts), never
 * 500; the pool reconnects by itself once the database is back.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

import BetterSqlite3 from "better-sqlite3";
import type { FastifyBaseLogger } from "fastify";
import { Problem } from "fastify-twinapi";
import postgres from "postgres";

export type Dialect = "sqlite" | "postgresql";
export type Params = Readonly<Record<string, unknown>>;

/** The statements of one transaction. */
export interface Queries {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  /** A write; how many rows it changed. */
  run(sql: string, params?: Params): Promise<number>;
}

export type Job<T> = (q: Queries) => Promise<T>;

export interface Database {
  readonly dialect: Dialect;
  /** `job` in a read transaction: every query it makes sees one state of the database. */
  read<T>(job: Job<T>): Promise<T>;
  /** `job` in a write transaction: all its changes are committed, or none if it throws. */
  write<T>(job: Job<T>): Promise<T>;
  /** Waits for the transactions under way, then closes. */
  close(): Promise<void>;
}

/** PostgreSQL's connection pool, per process (SQLite has one connection and ignores it). */
export interface Pool {
  /** Connections at most; every instance holds up to this many of the server's max_connections. */
  readonly size: number;
  /** Seconds a request waits for a free connection before it is answered 503 (nothing is sent by then). */
  readonly acquireTimeout: number;
  /** Seconds to open one connection. */
  readonly connectTimeout: number;
  /** Seconds one statement may run before the server cancels it (and the request is a 503). */
  readonly statementTimeout: number;
}

/** A SQLite file, or the PostgreSQL database a URL names. */
export type Target = { readonly path: string } | { readonly url: string };

/** A migration that cannot be applied, or one applied that no longer matches its file. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The database cannot be opened, reached or brought up to date: the server does not start. One line. */
export class DatabaseError extends Error {
  override name = "DatabaseError";
}

/** Seconds a client is told to wait when the database cannot be reached; a restart or failover takes a few. */
export const RETRY_AFTER_SECONDS = 2;
export const UNAVAILABLE = "the database is unavailable; try again shortly";

/** The database cannot be reached (down, restarting, no pooled connection free in time): 503, try again later. */
export class Unavailable extends Problem {
  constructor() {
    super(503, UNAVAILABLE, { headers: { "retry-after": String(RETRY_AFTER_SECONDS) } });
    this.name = "Unavailable";
  }
}

/** A migration's PostgreSQL text, under the same file name (and version) as its SQLite one. */
const POSTGRESQL_MIGRATIONS = "postgresql";
/** pg_advisory_xact_lock's key while migrating, the same in both implementations: "conduit" in ASCII. */
export const MIGRATION_LOCK = "27988542616856948";
/** How many times a PostgreSQL write transaction runs when concurrent ones keep conflicting with it. */
export const WRITE_ATTEMPTS = 3;
/** A pooled connection unused this long is closed: an idle instance does not hold server slots forever. */
const IDLE_LIFETIME_SECONDS = 300;
/**
 * The longest pause, in seconds, between two attempts to reconnect a pooled connection. postgres.js' own backoff
 * grows to 20 s after a few failures, and the statements waiting for that connection wait it out: the kit's example
 * measured answers of up to 15 s in an outage, and the pool as long to notice the server was back.
 */
const RECONNECT_PAUSE_MAX_SECONDS = 0.5;

const SCHEMA_MIGRATIONS =
  "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

/** A timestamp as the contract writes them: UTC, milliseconds, `Z`. */
export function now(): string {
  return new Date().toISOString();
}

/** (version, file) in file-name order: `dir/*.sql`, each replaced by its postgresql/ twin on PostgreSQL. */
export function migrationFiles(dir: string, dialect: Dialect): [string, string][] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => {
      const twin = join(dir, POSTGRESQL_MIGRATIONS, name);
      return [name.slice(0, -".sql".length), dialect === "postgresql" && existsSync(twin) ? twin : join(dir, name)];
    });
}

interface Pending {
  version: string;
  file: string;
  checksum: string;
  script: string;
}

/** The migrations not yet applied; a recorded one whose file changed or disappeared is refused. */
function pending(files: [string, string][], recorded: ReadonlyMap<string, string>, dir: string): Pending[] {
  const versions = new Set(files.map(([version]) => version));
  for (const version of [...recorded.keys()].sort()) {
    if (!versions.has(version))
      throw new MigrationError(`migration ${version}.sql was applied to this database but is missing from ${dir}`);
  }
  const found: Pending[] = [];
  for (const [version, file] of files) {
    const bytes = readFileSync(file);
    const checksum = createHash("sha256").update(bytes).digest("hex");
    const before = recorded.get(version);
    if (before === checksum) continue;
    if (before !== undefined) {
      throw new MigrationError(
        `migration ${version}.sql was changed after it was applied (its checksum differs): add a new migration instead`,
      );
    }
    found.push({ version, file, checksum, script: bytes.toString("utf8") });
  }
  return found;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n")[0] ?? "";
  if (line !== "") return line;
  // Node's AggregateError (every address of a host refused) has no message of its own, only a code.
  return error instanceof Error && "code" in error ? String(error.code) : error instanceof Error ? error.name : "unknown error";
}

/**
 * The engine `target` names, opened and migrated; any failure a one-line DatabaseError naming the file, or
 * DATABASE_URL for PostgreSQL (never the URL: it may hold a password).
 */
export async function openDatabase(target: Target, migrationsDir: string, pool: Pool, log?: FastifyBaseLogger): Promise<Database> {
  if ("path" in target) {
    try {
      return openSqlite(target.path, migrationsDir);
    } catch (error) {
      throw new DatabaseError(`database ${target.path}: ${firstLine(error)}`, { cause: error });
    }
  }
  try {
    return await openPostgres(target.url, migrationsDir, pool, log);
  } catch (error) {
    throw new DatabaseError(`database DATABASE_URL: ${withoutSecrets(firstLine(error), target.url)}`, { cause: error });
  }
}

/** `text` with the URL and its password, as written or decoded, left out: a driver's message must not leak them. */
function withoutSecrets(text: string, url: string): string {
  let password = "";
  try {
    password = new URL(url).password;
  } catch {
    // A URL the configuration accepted but WHATWG's parser does not: the URL itself is still taken out.
  }
  const secrets = [url, password];
  try {
    secrets.push(decodeURIComponent(password));
  } catch {
    // Not valid percent-encoding: only the password as written can appear.
  }
  return secrets.filter((secret) => secret !== "").reduce((line, secret) => line.replaceAll(secret, "…"), text);
}

// ---------------------------------------------------------------------------------------------------- SQLite

function openSqlite(path: string, migrationsDir: string): SqliteDatabase {
  mkdirSync(dirname(path), { recursive: true });
  // SQLite's busy_timeout: wait up to 5 s for a lock the other server (Python, on the same file) holds.
  const db = new BetterSqlite3(path, { timeout: 5000 });
  try {
    db.pragma("journal_mode = WAL");
    // With WAL, NORMAL stays consistent on a crash and saves an fsync per commit.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrateSqlite(db, migrationsDir);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteDatabase(db);
}

/**
 * Applies db/migrations/*.sql in file-name order inside BEGIN IMMEDIATE, so that two servers starting at once on
 * one file apply each migration once; a recorded migration whose file changed or disappeared stops the server.
 * Returns the versions applied.
 */
export function migrateSqlite(db: BetterSqlite3.Database, migrationsDir: string): string[] {
  const run = db.transaction(() => {
    db.exec(SCHEMA_MIGRATIONS);
    const rows = db.prepare<[], { version: string; checksum: string }>("SELECT version, checksum FROM schema_migrations").all();
    const todo = pending(migrationFiles(migrationsDir, "sqlite"), new Map(rows.map((row) => [row.version, row.checksum])), migrationsDir);
    const record = db.prepare<[string, string, string]>("INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)");
    for (const { version, checksum, script } of todo) {
      try {
        db.exec(script);
      } catch (error) {
        throw new MigrationError(`migration ${version}.sql failed: ${firstLine(error)}`);
      }
      record.run(version, checksum, now());
    }
    return todo.map(({ version }) => version);
  });
  return run.immediate();
}

/**
 * One better-sqlite3 connection. Its calls are synchronous; a transaction spans awaits, so transactions are queued
 * and run one after the other, never two at once on the one connection.
 */
class SqliteDatabase implements Database {
  readonly dialect = "sqlite";
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly queries: Queries;

  constructor(private readonly db: BetterSqlite3.Database) {
    const all = async <T>(sql: string, params: Params = {}): Promise<T[]> => {
      const statement = this.statement(sql);
      // Reading every row steps the statement to its end, which an INSERT ... RETURNING needs to complete.
      if (statement.reader) return statement.all(params) as T[];
      statement.run(params);
      return [];
    };
    this.queries = {
      dialect: "sqlite",
      all,
      get: async <T>(sql: string, params?: Params) => (await all<T>(sql, params))[0],
      run: async (sql: string, params: Params = {}) => this.statement(sql).run(params).changes,
    };
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  read<T>(job: Job<T>): Promise<T> {
    return this.transaction(job, "BEGIN");
  }

  write<T>(job: Job<T>): Promise<T> {
    // IMMEDIATE: the write lock is taken first, against the other server too, so what the job checked holds.
    return this.transaction(job, "BEGIN IMMEDIATE");
  }

  private transaction<T>(job: Job<T>, begin: string): Promise<T> {
    const result = this.queue.then(async () => {
      if (!this.db.open) throw new Error("the database is closed");
      this.db.exec(begin);
      try {
        const value = await job(this.queries);
        this.db.exec("COMMIT");
        return value;
      } catch (error) {
        // Some errors (SQLITE_FULL, an interrupted statement) have rolled the transaction back already.
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.db.open) this.db.close();
  }
}

// ------------------------------------------------------------------------------------------------ PostgreSQL

/** `:name` not preceded by another colon (`::text` is a cast) or a word character. */
const PARAMETER = /(?<![:\w]):([A-Za-z_]\w*)/g;

/**
 * `:name` SQL and its values as PostgreSQL's `$n` SQL and arguments (a name used twice is one `$n`). String literals
 * are not parsed: the store's statements write no `:word` inside one.
 */
export function positional(sql: string, params: Params): [string, postgres.ParameterOrJSON<never>[]] {
  const order: string[] = [];
  const text = sql.replace(PARAMETER, (_, name: string) => {
    let index = order.indexOf(name);
    if (index < 0) index = order.push(name) - 1;
    return `$${index + 1}`;
  });
  const args = order.map((name) => {
    if (!(name in params)) throw new Error(`no value for :${name}`);
    return params[name] as postgres.ParameterOrJSON<never>;
  });
  return [text, args];
}

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

/**
 * Unreachable, or PostgreSQL's classes 08 (connection), 53 (resources: too many connections) and 57 (operator
 * intervention: a shutdown, a statement over its timeout): the request may succeed later, so it is a 503, not a 500.
 */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error) || !("code" in error) || typeof error.code !== "string") return false;
  return UNREACHABLE_CODES.has(error.code) || /^(08|53|57)/.test(error.code);
}

/**
 * A write that lost a race to a concurrent one: a unique violation (both found a name free, the other committed it
 * first), a foreign key violation (the article it refers to was deleted meanwhile), a serialisation failure or a
 * deadlock. Run again, it sees the winner.
 */
export function lostRace(error: unknown): boolean {
  if (!(error instanceof Error) || !("code" in error)) return false;
  return ["23505", "23503", "40001", "40P01"].includes(String(error.code));
}

async function openPostgres(url: string, migrationsDir: string, pool: Pool, log: FastifyBaseLogger | undefined): Promise<Database> {
  const sql = postgres(url, {
    max: pool.size,
    connect_timeout: pool.connectTimeout,
    idle_timeout: IDLE_LIFETIME_SECONDS,
    backoff: (failures: number) => Math.min(0.05 * 2 ** failures, RECONNECT_PAUSE_MAX_SECONDS),
    // BIGINT ids and counts are numbers here, as better-sqlite3 returns SQLite's INTEGER.
    types: { bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (text: string) => Number(text) } },
    connection: { application_name: "conduit-node", statement_timeout: pool.statementTimeout * 1000 },
    onnotice: () => {},
  });
  try {
    await migratePostgres(sql, migrationsDir);
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
  return new PostgresDatabase(sql, new Turns(pool.size, pool.acquireTimeout * 1000), log);
}

/**
 * Applies the pending migrations in one transaction under an advisory lock: N servers starting at once apply each
 * exactly once (the others wait for the lock, then find them recorded). Returns the versions applied.
 */
export async function migratePostgres(sql: postgres.Sql, migrationsDir: string): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.unsafe(SCHEMA_MIGRATIONS);
    const rows = await tx.unsafe<{ version: string; checksum: string }[]>("SELECT version, checksum FROM schema_migrations");
    const todo = pending(
      migrationFiles(migrationsDir, "postgresql"),
      new Map(rows.map((row) => [row.version, row.checksum])),
      migrationsDir,
    );
    for (const { version, checksum, script } of todo) {
      try {
        await tx.unsafe(script).simple(); // the simple protocol runs a script of several statements
      } catch (error) {
        if (isUnreachable(error)) throw error;
        throw new MigrationError(`migration ${version}.sql failed: ${firstLine(error)}`);
      }
      await tx.unsafe("INSERT INTO schema_migrations (version, checksum, applied_at) VALUES ($1, $2, $3)", [version, checksum, now()]);
    }
    return todo.map(({ version }) => version);
  });
}

/**
 * At most `size` transactions on the pool at once, so that postgres.js always has a connection for the one it is
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

function postgresQueries(sql: postgres.TransactionSql): Queries {
  const all = async <T>(text: string, params: Params = {}): Promise<T[]> => {
    const [statement, args] = positional(text, params);
    return [...(await sql.unsafe(statement, args, { prepare: true }))] as T[];
  };
  return {
    dialect: "postgresql",
    all,
    get: async <T>(text: string, params?: Params) => (await all<T>(text, params))[0],
    run: async (text: string, params: Params = {}) => {
      const [statement, args] = positional(text, params);
      return (await sql.unsafe(statement, args, { prepare: true })).count;
    },
  };
}

class PostgresDatabase implements Database {
  readonly dialect = "postgresql";

  constructor(
    private readonly sql: postgres.Sql,
    private readonly turns: Turns,
    private readonly log: FastifyBaseLogger | undefined,
  ) {}

  read<T>(job: Job<T>): Promise<T> {
    // One snapshot for every query of the job; read only, so a job that tried to write would fail loudly.
    return this.transaction(job, "isolation level repeatable read read only");
  }

  /** `job` in a READ COMMITTED transaction, run again (WRITE_ATTEMPTS in all) when it lost a race. */
  async write<T>(job: Job<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.transaction(job, "isolation level read committed read write");
      } catch (error) {
        if (!lostRace(error)) throw error;
        const detail = firstLine(error);
        if (attempt >= WRITE_ATTEMPTS) {
          this.log?.warn({ attempts: attempt, detail }, "a write lost every race it ran: answered 503");
          throw new Unavailable();
        }
        this.log?.info({ attempt, detail }, "a write lost a race and runs again");
      }
    }
  }

  /**
   * `job` once a connection is free for it: only that wait is bounded here (DATABASE_POOL_TIMEOUT_SECONDS); the
   * statements are bounded by the server's statement_timeout, so a transaction that commits is never answered 503.
   */
  private async transaction<T>(job: Job<T>, mode: string): Promise<T> {
    try {
      await this.turns.take();
    } catch {
      throw new Unavailable();
    }
    try {
      return (await this.sql.begin(mode, (tx) => job(postgresQueries(tx)))) as T;
    } catch (error) {
      if (isUnreachable(error)) throw new Unavailable();
      throw error;
    } finally {
      this.turns.give();
    }
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
