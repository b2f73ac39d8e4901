/** Configuration from the environment only, parsed the same way as the Python implementation. */
import { randomBytes } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Pool } from "./db.js";
import type { Throttle } from "./logins.js";
import {
  ConfigError,
  type Env,
  type Limits,
  type LogLevel,
  type TrustedProxies,
  integer,
  oneOf,
  serverSettings,
  trustedProxiesFromEnv,
} from "fastify-twinapi";

/** The repository root: this module is node-impl/{src,dist}/app/config.*. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const MIGRATIONS_DIR = resolve(REPO_ROOT, "db/migrations");

export type AppEnv = "production" | "development" | "test";

export interface Config {
  readonly host: string;
  readonly port: number;
  /** A SQLite file, or a PostgreSQL URL. */
  readonly database: { readonly path: string } | { readonly url: string };
  readonly pool: Pool;
  readonly jwtSecret: string;
  /** True when APP_ENV=development made up the secret: tokens die with the process. */
  readonly jwtSecretGenerated: boolean;
  readonly jwtTtlSeconds: number;
  readonly bcryptRounds: number;
  readonly logLevel: LogLevel;
  readonly limits: Limits;
  readonly throttle: Throttle;
  /** The load balancers whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  readonly trustedProxies: TrustedProxies;
  readonly appEnv: AppEnv;
}

export { ConfigError };

const APP_ENVS: readonly AppEnv[] = ["production", "development", "test"];

const POSTGRES_URL = /^postgres(ql)?:\/\/[^/?#\s]+\/[^/?#\s]+(\?[^#\s]*)?$/;

/**
 * SQLAlchemy's SQLite URL, `sqlite:///relative/to/cwd.db` or `sqlite:////absolute/path.db`, or libpq's
 * `postgresql://user@host:port/database` (also `postgres://`). The value is not echoed: it may hold a password.
 */
function database(env: Env): Config["database"] {
  const raw = env["DATABASE_URL"];
  if (raw === undefined) return { path: resolve(REPO_ROOT, "data/app.db") };
  const forms =
    "DATABASE_URL must look like sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user@host:port/database";
  if (raw.startsWith("postgresql://") || raw.startsWith("postgres://")) {
    if (!POSTGRES_URL.test(raw)) throw new ConfigError(forms);
    return { url: raw };
  }
  const prefix = "sqlite:///";
  const path = raw.startsWith(prefix) ? raw.slice(prefix.length) : "";
  if (path === "" || path === ":memory:" || path.includes("?")) throw new ConfigError(forms);
  return { path: isAbsolute(path) ? path : resolve(process.cwd(), path) };
}

export function loadConfig(env: Env = process.env): Config {
  const appEnv = oneOf<AppEnv>(env, "APP_ENV", "production", Object.fromEntries(APP_ENVS.map((e) => [e, e])));
  const jwtSecretGenerated = env["JWT_SECRET"] === undefined && appEnv === "development";
  const jwtSecret = jwtSecretGenerated ? randomBytes(32).toString("base64url") : env["JWT_SECRET"];
  if (jwtSecret === undefined) throw new ConfigError("JWT_SECRET is required (at least 32 bytes) unless APP_ENV=development");
  if (Buffer.byteLength(jwtSecret, "utf8") < 32) throw new ConfigError("JWT_SECRET must be at least 32 bytes long");
  return {
    ...serverSettings(env, 3000),
    database: database(env),
    pool: {
      size: integer(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
      acquireTimeout: integer(env, "DATABASE_POOL_TIMEOUT_SECONDS", 5, 1, 600),
      connectTimeout: integer(env, "DATABASE_CONNECT_TIMEOUT_SECONDS", 5, 1, 600),
      statementTimeout: integer(env, "DATABASE_STATEMENT_TIMEOUT_SECONDS", 30, 1, 3600),
    },
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: integer(env, "JWT_TTL_SECONDS", 3600, 1, 2 ** 31 - 1),
    bcryptRounds: integer(env, "BCRYPT_ROUNDS", 12, 4, 31),
    throttle: {
      maxAccountFailures: integer(env, "LOGIN_MAX_FAILURES", 10, 1, 2 ** 31 - 1),
      maxAddressFailures: integer(env, "LOGIN_MAX_ADDRESS_FAILURES", 100, 1, 2 ** 31 - 1),
      windowSeconds: integer(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900, 1, 2 ** 31 - 1),
    },
    trustedProxies: trustedProxiesFromEnv(env),
    appEnv,
  };
}
