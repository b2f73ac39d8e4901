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

/** What one request may be and how long a connection may take; the Python runtime has the same settings. */
export interface Limits {
  readonly maxUrlBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  readonly maxBodyBytes: number;
  readonly maxJsonDepth: number;
  /** Seconds, as every timeout below. */
  readonly headerTimeout: number;
  readonly bodyTimeout: number;
  readonly keepAliveTimeout: number;
  readonly shutdownDrain: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxUrlBytes: 8192,
  maxHeaderBytes: 16384,
  maxHeaders: 100,
  maxBodyBytes: 65536,
  maxJsonDepth: 64,
  headerTimeout: 10,
  bodyTimeout: 30,
  keepAliveTimeout: 5,
  shutdownDrain: 20,
};

/** Each limit's variable and the smallest and largest value it may take. */
const LIMIT_VARIABLES: Readonly<Record<keyof Limits, readonly [name: string, min: number, max: number]>> = {
  maxUrlBytes: ["MAX_URL_BYTES", 256, 2 ** 20],
  maxHeaderBytes: ["MAX_HEADER_BYTES", 1024, 2 ** 20],
  maxHeaders: ["MAX_HEADERS", 8, 1000],
  maxBodyBytes: ["MAX_BODY_BYTES", 1, 2 ** 30],
  maxJsonDepth: ["MAX_JSON_DEPTH", 1, 256],
  headerTimeout: ["HEADER_TIMEOUT_SECONDS", 1, 3600],
  bodyTimeout: ["BODY_TIMEOUT_SECONDS", 1, 3600],
  keepAliveTimeout: ["KEEP_ALIVE_TIMEOUT_SECONDS", 1, 3600],
  shutdownDrain: ["SHUTDOWN_DRAIN_SECONDS", 1, 3600],
};

export function limitsFromEnv(env: Env): Limits {
  const entries = Object.entries(LIMIT_VARIABLES) as [keyof Limits, readonly [string, number, number]][];
  return Object.fromEntries(
    entries.map(([key, [name, min, max]]) => [key, integer(env, name, DEFAULT_LIMITS[key], min, max)]),
  ) as unknown as Limits;
}

/** The whole request head (request line, names, values, separators) beyond which parsing stops at once. */
export function maxHeadBytes(limits: Limits): number {
  return limits.maxUrlBytes + limits.maxHeaderBytes + 4 * limits.maxHeaders + 1024;
}

export interface ServerSettings {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly limits: Limits;
}

/** HOST (default 127.0.0.1), PORT (0..65535, 0 = any free port), LOG_LEVEL (default info) and the limits. */
export function serverSettings(env: Env, defaultPort: number): ServerSettings {
  return {
    host: env["HOST"] ?? "127.0.0.1",
    port: integer(env, "PORT", defaultPort, 0, 65535),
    logLevel: oneOf(env, "LOG_LEVEL", "info", LOG_LEVELS),
    limits: limitsFromEnv(env),
  };
}
