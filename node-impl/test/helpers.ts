/** Shared set-up: an app on a fresh temporary database, accounts and tokens, and raw JWTs for the attack tests. */
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Database from "better-sqlite3";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import postgres from "postgres";

import { createApp } from "../src/app/app.js";
import { type Config, REPO_ROOT, loadConfig } from "../src/app/config.js";

export const JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long";

/**
 * The admin URL of a throwaway PostgreSQL cluster: `make test-node` runs the suite a second time inside
 * `python -m twinapi_conformance.postgres`, and every test database is then a fresh one there.
 */
export const POSTGRES_ADMIN_URL = process.env["TWINAPI_TEST_POSTGRES_URL"];

/** A fresh SQLite file's DATABASE_URL. */
export function sqliteUrl(): string {
  return `sqlite:///${join(mkdtempSync(join(tmpdir(), "twinapi-node-")), "app.db")}`;
}

/** A fresh, empty database on the test cluster: its URL. */
export function postgresUrl(adminUrl: string): string {
  const name = `t_${randomBytes(6).toString("hex")}`;
  const done = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", adminUrl, "-c", `CREATE DATABASE "${name}"`], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (done.status !== 0) throw new Error(`psql could not create a test database: ${done.stderr || String(done.error)}`);
  return `${adminUrl.slice(0, adminUrl.lastIndexOf("/"))}/${name}`;
}

/** Settings for a test app on a fresh database of the engine the suite runs on. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    JWT_SECRET,
    BCRYPT_ROUNDS: "4",
    LOG_LEVEL: "error",
    DATABASE_URL: POSTGRES_ADMIN_URL === undefined ? sqliteUrl() : postgresUrl(POSTGRES_ADMIN_URL),
    ...env,
  });
}

const WRITE_CONTRACT = `
import sys
from pathlib import Path
from twinapi_codegen import contract, loader
document = contract.document(loader.load(Path(sys.argv[1])), "test")
Path(sys.argv[2]).write_text(contract.render(document), encoding="utf-8")
`;

/** The contract document the generator writes for a spec (YAML text), as the kit loads it: its path. */
export function contractOf(spec: string): string {
  const dir = mkdtempSync(join(tmpdir(), "twinapi-contract-"));
  writeFileSync(join(dir, "openapi.yaml"), spec);
  const python = join(REPO_ROOT, ".venv", "bin", "python");
  const done = spawnSync(python, ["-c", WRITE_CONTRACT, join(dir, "openapi.yaml"), join(dir, "contract.json")], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (done.status !== 0) throw new Error(`the generator refused the spec: ${done.stderr || String(done.error)}`);
  return join(dir, "contract.json");
}

export async function startApp(config: Config = testConfig()): Promise<FastifyInstance> {
  const app = await createApp(config);
  await app.ready();
  return app;
}

export function json(response: LightMyRequestResponse): Record<string, unknown> {
  return response.json<Record<string, unknown>>();
}

let accounts = 0;

/** Registers a fresh account and returns its bearer token and id. */
export async function account(app: FastifyInstance): Promise<{ token: string; id: string; email: string }> {
  accounts += 1;
  const email = `user${accounts}@example.com`;
  const password = "correct-horse-42";
  const registered = await app.inject({ method: "POST", url: "/users", payload: { email, password, displayName: "User" } });
  const login = await app.inject({ method: "POST", url: "/auth/login", payload: { email, password } });
  return { token: String(json(login)["accessToken"]), id: String(json(registered)["id"]), email };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function createTask(app: FastifyInstance, token: string, payload: object = { title: "Write tests" }) {
  const response = await app.inject({ method: "POST", url: "/tasks", headers: bearer(token), payload });
  return { response, task: json(response) };
}

function base64url(value: object | string): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** A JWT signed with HMAC-SHA256/512 (or unsigned for alg none), to forge what the server must refuse. */
export function forgeToken(header: object, claims: object, secret = JWT_SECRET, hash: "sha256" | "sha512" = "sha256"): string {
  const input = `${base64url(header)}.${base64url(claims)}`;
  const signature = createHmac(hash, secret).update(input).digest("base64url");
  return `${input}.${signature}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Another process's connection to an app's database, in effect: statements (`?` parameters) that bypass the app.
 * Its lock waits are short, so that a statement the app's transaction blocks fails at once instead of hanging.
 */
export function otherConnection(database: Config["database"]): {
  run(sql: string, ...params: string[]): Promise<void>;
  close(): Promise<void>;
} {
  if ("path" in database) {
    const db = new Database(database.path, { timeout: 50 });
    return {
      run: async (text, ...params) => void db.prepare(text).run(...params),
      close: async () => {
        db.close();
      },
    };
  }
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  return {
    run: async (text, ...params) => {
      let n = 0;
      await sql.begin(async (tx) => {
        await tx.unsafe("SET LOCAL lock_timeout = '100ms'");
        await tx.unsafe(
          text.replace(/\?/g, () => `$${++n}`),
          params,
        );
      });
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
