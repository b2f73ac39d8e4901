/** Settings from the environment, parsed the same way in every server of the kit (and in the Python runtime). */
import type { LogLevel } from "./request-context.js";

/** A bad setting; its message names the variable and why, and is all the server prints before exiting. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Readonly<Record<string, string | undefined>>;

const DECIMAL = /^[0-9]+$/;
/** LOG_LEVEL's words (Python's), and the Fastify level each one means. */
export const LOG_LEVELS: Readonly<Record<string, LogLevel>> = { debug: "debug", info: "info", warning: "warn", error: "error" };

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

export function oneOf<T>(env: Env, name: string, fallback: T, choices: Readonly<Record<string, T>>): T {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = Object.hasOwn(choices, raw) ? choices[raw] : undefined;
  if (value === undefined) {
    throw new ConfigError(`${name} must be one of ${Object.keys(choices).join(", ")}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

export interface ServerSettings {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
}

/** HOST (default 127.0.0.1), PORT (0..65535, 0 = any free port) and LOG_LEVEL (default info). */
export function serverSettings(env: Env, defaultPort: number): ServerSettings {
  return {
    host: env["HOST"] ?? "127.0.0.1",
    port: integer(env, "PORT", defaultPort, 0, 65535),
    logLevel: oneOf(env, "LOG_LEVEL", "info", LOG_LEVELS),
  };
}
