/** Shared set-up: an app on a fresh temporary database, accounts and tokens, and raw JWTs for the attack tests. */
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { FastifyInstance, LightMyRequestResponse } from "fastify";

import { createApp } from "../src/app/app.js";
import { type Config, REPO_ROOT, loadConfig } from "../src/app/config.js";

export const JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long";

export function testConfig(env: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), "twinapi-node-"));
  return loadConfig({
    JWT_SECRET,
    BCRYPT_ROUNDS: "4",
    LOG_LEVEL: "error",
    DATABASE_URL: `sqlite:///${join(dir, "app.db")}`,
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
