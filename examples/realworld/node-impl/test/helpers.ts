/** Shared set-up: an app on a fresh temporary database, accounts and their tokens. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { FastifyInstance, LightMyRequestResponse } from "fastify";

import { createApp } from "../src/app/app.js";
import { type Config, loadConfig } from "../src/app/config.js";

export const JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long";
export const PASSWORD = "correct-horse-42";

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "conduit-node-"));
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    APP_ENV: "test",
    JWT_SECRET,
    BCRYPT_ROUNDS: "4",
    LOG_LEVEL: "error",
    DATABASE_PATH: join(tempDir(), "conduit.db"),
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
