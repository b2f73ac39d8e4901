import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { openDatabase } from "../../src/app/db.js";
import { JWT_SECRET, tempDir } from "../helpers.js";

const SERVER = fileURLToPath(new URL("../../src/app/server.ts", import.meta.url));
const TIMEOUT_MS = 30_000;

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
    const child = start({ APP_ENV: "test", JWT_SECRET, DATABASE_PATH: join(tempDir(), "conduit.db") });
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

  it("refuses a database whose applied migration changed with one line naming it and exit status 1", async () => {
    const path = join(tempDir(), "conduit.db");
    const db = openDatabase(path, MIGRATIONS_DIR);
    // As if the file had been edited since: the recorded checksum no longer matches it.
    db.prepare("UPDATE schema_migrations SET checksum = ? WHERE version = '0001_init'").run("0".repeat(64));
    db.close();
    const { code, stderr } = await exited(start({ APP_ENV: "test", JWT_SECRET, DATABASE_PATH: path }));
    assert.equal(code, 1);
    assert.match(stderr, /^error: database .*conduit\.db: migration 0001_init\.sql was changed after it was applied/);
    assert.equal(stderr.split("\n").length, 2);
  });
});
