import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { MIGRATIONS_DIR, loadConfig } from "../../src/app/config.js";
import { openDatabase } from "../../src/app/db.js";
import { JWT_SECRET, databaseEnv } from "../helpers.js";

const SERVER = fileURLToPath(new URL("../../src/app/server.ts", import.meta.url));
const TIMEOUT_MS = 30_000;
const POOL = { size: 2, acquireTimeout: 2, connectTimeout: 2, statementTimeout: 10 };

interface Exit {
  code: number | null;
  stderr: string;
}

function start(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", SERVER], {
    env: { PATH: process.env["PATH"] ?? "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exited(child: ChildProcess): Promise<Exit> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not exit within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** The address the server logs once it listens. */
function listening(child: ChildProcess): Promise<string> {
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not listen within ${TIMEOUT_MS} ms: ${out}`)), TIMEOUT_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
}

describe("the server process", () => {
  it("serves on HOST:PORT and stops with 0 on SIGTERM", async () => {
    const child = start({ APP_ENV: "test", JWT_SECRET, ...databaseEnv() });
    const done = exited(child);
    const url = await listening(child);
    const tags = await fetch(`${url}/tags`);
    assert.equal(tags.status, 200);
    assert.deepEqual(await tags.json(), { tags: [] });
    child.kill("SIGTERM");
    assert.equal((await done).code, 0);
  });

  it("refuses a bad setting with one line and exit status 2", async () => {
    const { code, stderr } = await exited(start({ APP_ENV: "test" }));
    assert.equal(code, 2);
    assert.equal(stderr, "error: JWT_SECRET is required (at least 32 bytes) unless APP_ENV=development\n");
  });

  it("refuses a bad DATABASE_URL with one line that does not echo it, and exit status 2", async () => {
    const { code, stderr } = await exited(start({ APP_ENV: "test", JWT_SECRET, DATABASE_URL: "mysql://root:hunter2@db/conduit" }));
    assert.equal(code, 2);
    assert.match(stderr, /^error: DATABASE_URL must be sqlite:\/\/\/.*\n$/);
    assert.equal(stderr.includes("hunter2"), false);
  });

  it("refuses a database whose applied migration changed with one line naming it and exit status 1", async () => {
    const env = databaseEnv();
    const db = await openDatabase(loadConfig({ JWT_SECRET, ...env }).database, MIGRATIONS_DIR, POOL);
    // As if the file had been edited since: the recorded checksum no longer matches it.
    await db.write((q) =>
      q.run("UPDATE schema_migrations SET checksum = :checksum WHERE version = '0001_init'", { checksum: "0".repeat(64) }),
    );
    await db.close();
    const { code, stderr } = await exited(start({ APP_ENV: "test", JWT_SECRET, ...env }));
    assert.equal(code, 1);
    assert.match(stderr, /^error: database (\/.*conduit\.db|DATABASE_URL): migration 0001_init\.sql was changed after it was applied/);
    assert.equal(stderr.split("\n").length, 2);
  });

  it("refuses a PostgreSQL server it cannot reach with one line that does not echo the URL, and exit status 1", async () => {
    // Port 1: nothing listens there.
    const env = {
      APP_ENV: "test",
      JWT_SECRET,
      DATABASE_URL: "postgresql://conduit:hunter2@127.0.0.1:1/conduit",
      DATABASE_CONNECT_TIMEOUT_SECONDS: "2",
    };
    const { code, stderr } = await exited(start(env));
    assert.equal(code, 1);
    assert.match(stderr, /^error: database DATABASE_URL: \S/);
    assert.equal(stderr.split("\n").length, 2);
    assert.equal(stderr.includes("hunter2"), false);
  });
});
