/** Configuration from the environment only, parsed the same way as the Python implementation. */
import { randomBytes } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { LogLevel } from "../kit/request-context.js";

/** The repository root: this module is node-impl/{src,dist}/app/config.*. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SPEC_PATH = resolve(REPO_ROOT, "openapi.yaml");
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
  readonly appEnv: AppEnv;
}

/** A bad setting; its message names the variable and why, and is all the server prints before exiting. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

const DECIMAL = /^[0-9]+$/;
const LOG_LEVELS: Readonly<Record<string, LogLevel>> = { debug: "debug", info: "info", warning: "warn", error: "error" };
const APP_ENVS: readonly AppEnv[] = ["production", "development", "test"];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

function oneOf<T>(env: Env, name: string, fallback: T, choices: Readonly<Record<string, T>>): T {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = Object.hasOwn(choices, raw) ? choices[raw] : undefined;
  if (value === undefined) {
    throw new ConfigError(`${name} must be one of ${Object.keys(choices).join(", ")}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

/** SQLAlchemy's SQLite URL: `sqlite:///relative/to/cwd.db` or `sqlite:////absolute/path.db`. */
function databasePath(env: Env): string {
  const raw = env["DATABASE_URL"];
  if (raw === undefined) return resolve(REPO_ROOT, "data/app.db");
  const prefix = "sqlite:///";
  const path = raw.startsWith(prefix) ? raw.slice(prefix.length) : "";
  if (path === "" || path === ":memory:" || path.includes("?")) {
    throw new ConfigError(`DATABASE_URL must look like sqlite:///relative/path.db or sqlite:////absolute/path.db, not ${JSON.stringify(raw)}`);
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
    host: env["HOST"] ?? "127.0.0.1",
    port: integer(env, "PORT", 3000, 0, 65535),
    databasePath: databasePath(env),
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: integer(env, "JWT_TTL_SECONDS", 3600, 1, 2 ** 31 - 1),
    bcryptRounds: integer(env, "BCRYPT_ROUNDS", 12, 4, 31),
    logLevel: oneOf(env, "LOG_LEVEL", "info", LOG_LEVELS),
    appEnv,
  };
}
