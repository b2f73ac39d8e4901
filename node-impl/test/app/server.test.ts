import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { JWT_SECRET, startApp } from "../helpers.js";

const SERVER = ["--import", "tsx", "src/app/server.ts"];

function serve(env: Record<string, string>): ChildProcess {
  const db = join(mkdtempSync(join(tmpdir(), "twinapi-node-")), "app.db");
  return spawn(process.execPath, SERVER, {
    env: { PATH: process.env["PATH"] ?? "", JWT_SECRET, BCRYPT_ROUNDS: "4", PORT: "0", DATABASE_URL: `sqlite:///${db}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** The port from the "Server listening at http://127.0.0.1:PORT" log line. */
async function listening(child: ChildProcess): Promise<number> {
  let seen = "";
  for await (const chunk of child.stdout ?? []) {
    seen += String(chunk);
    const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(seen)?.[1];
    if (port !== undefined) return Number(port);
  }
  throw new Error(`the server did not start:\n${seen}`);
}

describe("the server", () => {
  it("answers over a real socket on 127.0.0.1, port 0", async () => {
    const app = await startApp();
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as { port: number };
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    const trace = await fetch(`http://127.0.0.1:${port}/tasks`, { method: "PUT" });
    await app.close();
    assert.equal(health.status, 200);
    assert.match(health.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.deepEqual(await health.json(), { status: "ok", implementation: "node", version: "1.0.0" });
    assert.equal(trace.status, 405);
    assert.equal(trace.headers.get("allow"), "GET, POST");
  });

  it("exits 0 on SIGTERM after serving", async () => {
    const child = serve({});
    const port = await listening(child);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    const done = output(child);
    child.kill("SIGTERM");
    assert.equal((await done).code, 0);
  });

  it("refuses a bad setting with one line naming the variable", async () => {
    const { code, stderr } = await output(serve({ BCRYPT_ROUNDS: "99" }));
    assert.equal(code, 1);
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /BCRYPT_ROUNDS/);
  });
});
