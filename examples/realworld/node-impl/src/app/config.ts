/** Configuration from the environment only, read as CONVENTIONS.md fixes it (the Python server reads the same). */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { ConfigError, type Env, type ServerSettings, integer, oneOf, serverSettings } from "fastify-twinapi";

/** The project's root: this module is node-impl/{src,dist}/app/config.*. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const MIGRATIONS_DIR = resolve(PROJECT_ROOT, "db/migrations");

export type AppEnv = "production" | "development" | "test";

export interface Config extends ServerSettings {
  readonly appEnv: AppEnv;
  /** Absolute; a relative DATABASE_PATH is taken from the project's folder, so that both servers find one file. */
  readonly databasePath: string;
  readonly jwtSecret: string;
  /** True when APP_ENV=development made the secret up: tokens end with the process. */
  readonly jwtSecretGenerated: boolean;
  readonly jwtTtlSeconds: number;
  readonly bcryptRounds: number;
}

export { ConfigError };

const APP_ENVS: Readonly<Record<string, AppEnv>> = { production: "production", development: "development", test: "test" };
const MIN_SECRET_BYTES = 32;

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
  const path = env["DATABASE_PATH"];
  if (path === "") throw new ConfigError("DATABASE_PATH must name a file, not be empty");
  return {
    ...serverSettings(env, 3000),
    appEnv,
    databasePath: resolve(PROJECT_ROOT, path ?? "data/conduit.db"),
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: integer(env, "JWT_TTL_SECONDS", 86400, 1, 2 ** 31 - 1),
    bcryptRounds: integer(env, "BCRYPT_ROUNDS", 10, 4, 31),
  };
}
