/** Configuration from the environment only, read as CONVENTIONS.md fixes it (the Python server reads the same). */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { ConfigError, type Env, type ServerSettings, integer, oneOf, serverSettings } from "fastify-twinapi";

import type { Pool, Target } from "./db.js";

/** The project's root: this module is node-impl/{src,dist}/app/config.*. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const MIGRATIONS_DIR = resolve(PROJECT_ROOT, "db/migrations");

export type AppEnv = "production" | "development" | "test";

export interface Config extends ServerSettings {
  readonly appEnv: AppEnv;
  /**
   * A SQLite file (absolute: a relative path is taken from the project's folder, so that both servers find one file),
   * or a PostgreSQL URL.
   */
  readonly database: Target;
  readonly pool: Pool;
  readonly jwtSecret: string;
  /** True when APP_ENV=development made the secret up: tokens end with the process. */
  readonly jwtSecretGenerated: boolean;
  readonly jwtTtlSeconds: number;
  readonly bcryptRounds: number;
}

export { ConfigError };

const APP_ENVS: Readonly<Record<string, AppEnv>> = { production: "production", development: "development", test: "test" };
const MIN_SECRET_BYTES = 32;
// libpq's URL form with a host and a database name; the value is never echoed (it may hold a password).
const POSTGRES_URL = /^postgres(ql)?:\/\/[^/?#\s]+\/[^/?#\s]+(\?[^#\s]*)?$/;
const DATABASE_URL_FORMS =
  "DATABASE_URL must be sqlite:///<path from the project folder>, sqlite:////<absolute path> or postgresql://<user>@<host>:<port>/<database>";

/** DATABASE_URL, else DATABASE_PATH (data/conduit.db by default): the same forms as the Python server reads. */
function database(env: Env): Target {
  const url = env["DATABASE_URL"];
  const path = env["DATABASE_PATH"];
  if (path !== undefined && path.trim() === "") throw new ConfigError("DATABASE_PATH must name a file, not be empty");
  if (url === undefined) return { path: resolve(PROJECT_ROOT, path ?? "data/conduit.db") };
  if (path !== undefined) throw new ConfigError("set DATABASE_URL or DATABASE_PATH, not both");
  if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
    if (!POSTGRES_URL.test(url)) throw new ConfigError(DATABASE_URL_FORMS);
    return { url };
  }
  const prefix = "sqlite:///";
  const file = url.startsWith(prefix) ? url.slice(prefix.length) : "";
  if (file.trim() === "" || file === ":memory:" || file.includes("?")) throw new ConfigError(DATABASE_URL_FORMS);
  return { path: resolve(PROJECT_ROOT, file) }; // an absolute path stays as it is
}

export function loadConfig(env: Env = process.env): Config {
  const appEnv = oneOf(env, "APP_ENV", "production", APP_ENVS);
  const given = env["JWT_SECRET"];
  const jwtSecretGenerated = given === undefined && appEnv === "development";
  const jwtSecret = jwtSecretGenerated ? randomBytes(MIN_SECRET_BYTES).toString("base64url") : given;
  if (jwtSecret === undefined)
    throw new ConfigError(`JWT_SECRET is required (at least ${MIN_SECRET_BYTES} bytes) unless APP_ENV=development`);
  if (Buffer.byteLength(jwtSecret, "utf8") < MIN_SECRET_BYTES) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`);
  }
  return {
    ...serverSettings(env, 3000),
    appEnv,
    database: database(env),
    // The pool's settings, named and bounded as the Python server's (CONVENTIONS.md, Storage).
    pool: {
      size: integer(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
      acquireTimeout: integer(env, "DATABASE_POOL_TIMEOUT_SECONDS", 5, 1, 600),
      connectTimeout: integer(env, "DATABASE_CONNECT_TIMEOUT_SECONDS", 5, 1, 600),
      statementTimeout: integer(env, "DATABASE_STATEMENT_TIMEOUT_SECONDS", 30, 1, 3600),
    },
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: integer(env, "JWT_TTL_SECONDS", 86400, 1, 2 ** 31 - 1),
    bcryptRounds: integer(env, "BCRYPT_ROUNDS", 10, 4, 31),
  };
}
