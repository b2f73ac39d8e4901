/** The HTTP layer's limits, timeouts and shutdown, against the real server process over raw sockets on 127.0.0.1. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { JWT_SECRET } from "../helpers.js";

const PROBLEM = "application/problem+json; charset=utf-8";
// Small limits so that every test runs in seconds; the defaults are the README's.
const FAST = { HEADER_TIMEOUT_SECONDS: "1", BODY_TIMEOUT_SECONDS: "1", SHUTDOWN_DRAIN_SECONDS: "2" };
const WAIT_MS = 30_000;

interface Server {
  child: ChildProcess;
  port: number;
  lines: string[];
  exit: Promise<number | null>;
}

async function start(env: Record<string, string> = {}): Promise<Server> {
  const db = join(mkdtempSync(join(tmpdir(), "twinapi-node-")), "app.db");
  const child = spawn(process.execPath, ["--import", "tsx", "src/app/server.ts"], {
    env: { PATH: process.env["PATH"] ?? "", JWT_SECRET, BCRYPT_ROUNDS: "4", PORT: "0", DATABASE_URL: `sqlite:///${db}`, ...FAST, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const exit = once(child, "exit").then(([code]) => code as number | null);
  const port = await new Promise<number>((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const parts = seen.split("\n");
      seen = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const found = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
        if (found !== undefined) resolve(Number(found));
      }
    });
    void exit.then(() => reject(new Error(`the server exited before listening:\n${lines.join("\n")}`)));
  });
  return { child, port, lines, exit };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode === null) server.child.kill("SIGKILL");
  await server.exit;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes the connection (or `ms` pass). */
function readAll(socket: Socket, ms = 5000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", done);
    socket.on("close", done);
  });
}

/** Reads until one whole response (head and Content-Length body) has arrived. */
function readResponse(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no whole response: ${data.toString()}`)), 5000);
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(data.subarray(0, end).toString())?.[1];
      if (end !== -1 && length !== undefined && data.length >= end + 4 + Number(length)) {
        clearTimeout(timer);
        socket.off("data", onData);
        resolve(data);
      }
    };
    socket.on("data", onData);
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parse(response: Buffer): Answer {
  const text = response.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 2)]),
  );
  return { status: Number(statusLine.split(" ")[1]), headers, body: text.slice(end + 4) };
}

async function exchange(port: number, request: string | Buffer): Promise<Answer> {
  const socket = await open(port);
  socket.write(request);
  const answer = parse(await readAll(socket));
  socket.destroy();
  return answer;
}

function assertProblem(answer: Answer, status: number, detail: string): void {
  assert.equal(answer.status, status, answer.body);
  assert.equal(answer.headers["content-type"], PROBLEM);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.deepEqual([body["type"], body["status"], body["detail"]], ["about:blank", status, detail]);
}

const get = (path = "/health", headers = "Host: a\r\n"): string => `GET ${path} HTTP/1.1\r\n${headers}\r\n`;
const postHead = (length: number): string =>
  `POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("the HTTP layer's limits", () => {
  let server: Server;
  before(async () => {
    server = await start();
  });
  after(async () => stop(server));

  it("answers a long URL 414 and large or many headers 431, in problem+json", async () => {
    const tooLong = "The request URL is longer than 8192 bytes.";
    assertProblem(await exchange(server.port, get(`/${"a".repeat(8200)}`)), 414, tooLong);
    assertProblem(await exchange(server.port, get(`/${"a".repeat(43_000)}`)), 414, tooLong);
    const big = `Host: a\r\nX-Big: ${"a".repeat(17_000)}\r\n`;
    assertProblem(await exchange(server.port, get("/health", big)), 431, "The request headers are larger than 16384 bytes.");
    const many = `Host: a\r\n${Array.from({ length: 100 }, (_, i) => `X-${i}: 1\r\n`).join("")}`;
    assertProblem(await exchange(server.port, get("/health", many)), 431, "The request has more than 100 headers.");
    const fits = `Host: a\r\n${Array.from({ length: 99 }, (_, i) => `X-${i}: 1\r\n`).join("")}`;
    assert.equal((await exchange(server.port, get(`/health?${"a".repeat(8000)}`, fits))).status, 200);
  });

  it("cuts off a huge header without reading it", async () => {
    const socket = await open(server.port);
    socket.on("error", () => {});
    const answer = readAll(socket);
    socket.write("GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ");
    const chunk = "a".repeat(65536);
    for (let i = 0; i < 1024 && !socket.destroyed && socket.writable; i++) {
      if (!socket.write(chunk)) await Promise.race([once(socket, "drain"), once(socket, "close")]);
    }
    const refused = await answer;
    assert.ok(refused.length === 0 || parse(refused).status === 431);
    assert.equal((await exchange(server.port, get())).status, 200);
  });

  it("wants exactly one Host header", async () => {
    const oneHost = "The request must have exactly one Host header.";
    assertProblem(await exchange(server.port, get("/health", "Host: a\r\nHost: b\r\n")), 400, oneHost);
    assertProblem(await exchange(server.port, get("/health", "")), 400, oneHost);
    assert.equal((await exchange(server.port, "GET /health HTTP/1.0\r\n\r\n")).status, 200);
  });

  for (const request of [
    Buffer.from("GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", "latin1"),
    Buffer.from("GET /health?q=\xff HTTP/1.1\r\nHost: a\r\n\r\n", "latin1"),
    "GET /health HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n",
    "POST /users HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "get /health HTTP/1.1\r\nHost: a\r\n\r\n",
    "BREW /health HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /health HTTP/9.9\r\nHost: a\r\n\r\n",
  ]) {
    it(`answers malformed HTTP in problem+json: ${JSON.stringify(request.toString("latin1").split("\r\n")[0])}`, async () => {
      assertProblem(await exchange(server.port, request), 400, "The request is not valid HTTP.");
    });
  }

  it("cuts slow headers and stalled bodies with 408", async () => {
    const started = Date.now();
    const [halfLine, halfHeaders, stalled] = await Promise.all([open(server.port), open(server.port), open(server.port)]);
    halfLine.write("GET /hea");
    halfHeaders.write("GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    stalled.write(`${postHead(50)}{`);
    const [a, b, c] = await Promise.all([readAll(halfLine), readAll(halfHeaders), readAll(stalled)]);
    assertProblem(parse(a), 408, "The request headers did not arrive within 1 s.");
    assertProblem(parse(b), 408, "The request headers did not arrive within 1 s.");
    assertProblem(parse(c), 408, "The request body stalled for 1 s.");
    assert.ok(Date.now() - started < 4000);
  });

  it("delivers 413 to a client that writes its whole body before reading", async () => {
    const socket = await open(server.port);
    const body = "x".repeat(4 * 1024 * 1024);
    const response = readResponse(socket);
    socket.write(postHead(body.length) + body);
    const answer = parse(await response);
    assert.equal(answer.status, 413);
    assert.equal(answer.headers["content-type"], PROBLEM);
    assert.equal((JSON.parse(answer.body) as { detail: string }).detail, "The request body is larger than 65536 bytes.");
    const next = readResponse(socket);
    socket.write(get()); // the body was read and discarded: the connection still serves
    assert.equal(parse(await next).status, 200);
    socket.destroy();
  });
});

describe("timeouts and shutdown", () => {
  it("closes an idle keep-alive connection after the keep-alive timeout", async () => {
    const server = await start({ KEEP_ALIVE_TIMEOUT_SECONDS: "1" });
    try {
      const socket = await open(server.port);
      const first = readResponse(socket);
      socket.write(get());
      assert.equal(parse(await first).status, 200);
      const began = Date.now();
      await once(socket, "close");
      const idle = Date.now() - began;
      assert.ok(idle > 500 && idle < 3000, `closed after ${idle} ms`);
    } finally {
      await stop(server);
    }
  });

  it("logs a client hanging up mid-body once, at info, as a client disconnect", async () => {
    const server = await start();
    for (let i = 0; i < 3; i++) {
      const socket = await open(server.port);
      socket.write(`${postHead(99)}{`);
      await sleep(100);
      socket.destroy();
    }
    await sleep(300);
    server.child.kill("SIGTERM");
    assert.equal(await server.exit, 0);
    const logged = server.lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
    const gone = logged.filter((line) => line["msg"] === "client disconnected");
    assert.equal(gone.length, 3);
    assert.ok(gone.every((line) => line["level"] === "info" && line["status"] === 499));
    assert.deepEqual(
      logged.filter((line) => line["level"] === "error" || line["status"] === 500 || "err" in line),
      [],
    );
  });

  it("drains on SIGTERM: in-flight and next requests are answered with Connection: close, then exit 0", async () => {
    const server = await start();
    const idle = await open(server.port);
    const first = readResponse(idle);
    idle.write(get());
    assert.equal(parse(await first).status, 200);
    const busy = await open(server.port);
    busy.write(postHead(120));
    await sleep(200);
    const began = Date.now();
    server.child.kill("SIGTERM");
    await sleep(200);
    const idleAnswer = readAll(idle);
    idle.write(get());
    const afterSignal = parse(await idleAnswer);
    assert.equal(afterSignal.status, 200);
    assert.equal(afterSignal.headers["connection"], "close");
    const busyAnswer = readAll(busy);
    busy.write(JSON.stringify({ email: "drain@example.com", password: "correct-horse-42", displayName: "D" }).padEnd(120));
    const created = parse(await busyAnswer);
    assert.equal(created.status, 201, created.body);
    assert.equal(created.headers["connection"], "close");
    await assert.rejects(open(server.port));
    assert.equal(await server.exit, 0);
    assert.ok(Date.now() - began < 2000);
  });

  it("cuts a stalled client at the drain limit and still exits 0", async () => {
    const server = await start({ SHUTDOWN_DRAIN_SECONDS: "1", BODY_TIMEOUT_SECONDS: "60" });
    const socket = await open(server.port);
    socket.on("error", () => {});
    socket.write(`${postHead(99)}{`);
    await sleep(200);
    const began = Date.now();
    server.child.kill("SIGTERM");
    assert.equal(await server.exit, 0);
    assert.ok(Date.now() - began < 3000);
  });

  it("resets no request under keep-alive load at SIGTERM", async () => {
    const server = await start();
    const answered = Array.from({ length: 8 }, () => 0);
    const errors: unknown[] = [];
    let stopping = false;
    const worker = async (n: number): Promise<void> => {
      const socket = await open(server.port);
      socket.on("error", (error) => errors.push(error));
      while (!stopping || answered[n] === 0) {
        const response = readResponse(socket);
        socket.write(get());
        let answer: Answer;
        try {
          answer = parse(await response);
        } catch (error) {
          errors.push(error);
          return;
        }
        answered[n] = (answered[n] ?? 0) + 1;
        if (answer.headers["connection"] === "close") return; // the server said so: stop using this connection
      }
    };
    const workers = answered.map((_, n) => worker(n));
    const deadline = Date.now() + WAIT_MS;
    while (Math.min(...answered) < 20 && Date.now() < deadline) await sleep(50);
    server.child.kill("SIGTERM");
    stopping = true;
    await Promise.all(workers);
    assert.equal(await server.exit, 0);
    assert.ok(Math.min(...answered) >= 20);
    assert.deepEqual(errors, []);
  });
});
