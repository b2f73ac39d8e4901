/** Configuration from the environment only, parsed the same way as the Python implementation. */
import { randomBytes } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Throttle } from "./logins.js";
import { ConfigError, type Env, type Limits, type LogLevel, integer, oneOf, serverSettings } from "fastify-twinapi";

/** The repository root: this module is node-impl/{src,dist}/app/config.*. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const MIGRATIONS_DIR = resolve(REPO_ROOT, "db/migrations");

export type AppEnv = "production" | "development" | "test";

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly databasePath: string;
  readonly jwtSecret: string;
  /** True when APP_ENV=development made up the secret: tokens die with the process. */
  readonly jwtSecretGenerated: boolean;
  readonly jwtTtlSeconds: number;
  readonly bcryptRounds: number;
  readonly logLevel: LogLevel;
  readonly limits: Limits;
  readonly throttle: Throttle;
  readonly appEnv: AppEnv;
}

export { ConfigError };

const APP_ENVS: readonly AppEnv[] = ["production", "development", "test"];

/** SQLAlchemy's SQLite URL: `sqlite:///relative/to/cwd.db` or `sqlite:////absolute/path.db`. */
function databasePath(env: Env): string {
  const raw = env["DATABASE_URL"];
  if (raw === undefined) return resolve(REPO_ROOT, "data/app.db");
  const prefix = "sqlite:///";
  const path = raw.startsWith(prefix) ? raw.slice(prefix.length) : "";
  if (path === "" || path === ":memory:" || path.includes("?")) {
    throw new ConfigError(
      `DATABASE_URL must look like sqlite:///relative/path.db or sqlite:////absolute/path.db, not ${JSON.stringify(raw)}`,
    );
  }
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

export function loadConfig(env: Env = process.env): Config {
  const appEnv = oneOf<AppEnv>(env, "APP_ENV", "production", Object.fromEntries(APP_ENVS.map((e) => [e, e])));
  const jwtSecretGenerated = env["JWT_SECRET"] === undefined && appEnv === "development";
  const jwtSecret = jwtSecretGenerated ? randomBytes(32).toString("base64url") : env["JWT_SECRET"];
  if (jwtSecret === undefined) throw new ConfigError("JWT_SECRET is required (at least 32 bytes) unless APP_ENV=development");
  if (Buffer.byteLength(jwtSecret, "utf8") < 32) throw new ConfigError("JWT_SECRET must be at least 32 bytes long");
  return {
    ...serverSettings(env, 3000),
    databasePath: databasePath(env),
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: integer(env, "JWT_TTL_SECONDS", 3600, 1, 2 ** 31 - 1),
    bcryptRounds: integer(env, "BCRYPT_ROUNDS", 12, 4, 31),
    throttle: {
      maxAccountFailures: integer(env, "LOGIN_MAX_FAILURES", 10, 1, 2 ** 31 - 1),
      maxAddressFailures: integer(env, "LOGIN_MAX_ADDRESS_FAILURES", 100, 1, 2 ** 31 - 1),
      windowSeconds: integer(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900, 1, 2 ** 31 - 1),
    },
    appEnv,
  };
}
