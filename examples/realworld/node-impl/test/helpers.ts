/**
 * Shared set-up: an app on a fresh database, accounts and their tokens.
 *
 * The database is a SQLite file, or, when TWINAPI_TEST_POSTGRES_URL names a cluster's admin URL (`make test-node`
 * runs the suite a second time inside the kit's `python -m twinapi_conformance.postgres`), a fresh PostgreSQL
 * database on that cluster, made by the harness's own `create_database`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { FastifyInstance, LightMyRequestResponse } from "fastify";

import { createApp } from "../src/app/app.js";
import { type Config, PROJECT_ROOT, loadConfig } from "../src/app/config.js";

export const JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long";
export const PASSWORD = "correct-horse-42";
/** The cluster this run's tests use, set by the kit's harness; undefined: the tests run on SQLite. */
export const POSTGRES_ADMIN_URL = process.env["TWINAPI_TEST_POSTGRES_URL"];
/** The example's Python, which has the kit's harness (`make setup`). */
export const PYTHON = join(PROJECT_ROOT, ".venv", "bin", "python");

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "conduit-node-"));
}

/** A fresh, empty database on the cluster `adminUrl` reaches as its superuser: its URL. */
export function createDatabase(adminUrl: string, prefix = "conduit"): string {
  const script = "import sys\nfrom twinapi_conformance.postgres import create_database\nprint(create_database(sys.argv[1], sys.argv[2]))";
  const done = spawnSync(PYTHON, ["-c", script, adminUrl, prefix], { encoding: "utf8", timeout: 60_000 });
  if (done.status !== 0) throw new Error(`no test database: ${done.stderr || String(done.error)}`);
  return done.stdout.trim();
}

/** DATABASE_PATH or DATABASE_URL of a fresh database on the engine the run is on. */
export function databaseEnv(): Record<string, string> {
  if (POSTGRES_ADMIN_URL === undefined) return { DATABASE_PATH: join(tempDir(), "conduit.db") };
  return { DATABASE_URL: createDatabase(POSTGRES_ADMIN_URL) };
}

/** Test settings; a fresh database of the run's engine unless `env` names one. */
export function testConfig(env: Record<string, string> = {}): Config {
  const named = "DATABASE_URL" in env || "DATABASE_PATH" in env;
  return loadConfig({
    APP_ENV: "test",
    JWT_SECRET,
    BCRYPT_ROUNDS: "4",
    LOG_LEVEL: "error",
    ...(named ? {} : databaseEnv()),
    ...env,
  });
}

export async function startApp(config: Config = testConfig()): Promise<FastifyInstance> {
  const app = await createApp(config);
  await app.ready();
  return app;
}

export type Body = Record<string, unknown>;

export function json(response: LightMyRequestResponse): Body {
  return response.json<Body>();
}

export function tokenHeader(token: string): Record<string, string> {
  return { authorization: `Token ${token}` };
}

export interface Account {
  username: string;
  email: string;
  token: string;
  headers: Record<string, string>;
}

let accounts = 0;

/** Registers a fresh account (`name` and a counter make its username) and returns its token. */
export async function register(app: FastifyInstance, name = "user"): Promise<Account> {
  accounts += 1;
  const username = `${name}${accounts}`;
  const email = `${username}@example.com`;
  const response = await app.inject({ method: "POST", url: "/users", payload: { user: { username, email, password: PASSWORD } } });
  if (response.statusCode !== 201) throw new Error(`registration failed: ${response.statusCode} ${response.body}`);
  const token = String((json(response)["user"] as Body)["token"]);
  return { username, email, token, headers: tokenHeader(token) };
}

export interface ArticleInput {
  title?: string;
  description?: string;
  body?: string;
  tagList?: string[];
}

/** Creates an article as `author`; its answer's `article`. */
export async function createArticle(app: FastifyInstance, author: Account, input: ArticleInput = {}): Promise<Body> {
  const article = { title: "How to train your dragon", description: "Ever wonder how?", body: "Very carefully.", ...input };
  const response = await app.inject({ method: "POST", url: "/articles", headers: author.headers, payload: { article } });
  if (response.statusCode !== 201) throw new Error(`article creation failed: ${response.statusCode} ${response.body}`);
  return json(response)["article"] as Body;
}

/** The error body Conduit answers its own refusals with. */
export function errors(...texts: string[]): Body {
  return { errors: { body: texts } };
}
