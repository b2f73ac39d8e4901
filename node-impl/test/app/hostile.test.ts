/** What a hostile or broken client tries at the application's level: deep JSON, racing writes, guessing passwords. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Repository } from "../../src/app/repository.js";
import { account, bearer, createTask, json, otherConnection, startApp, testConfig } from "../helpers.js";

const JSON_HEADERS = { "content-type": "application/json" };
const THROTTLED = "Too many failed logins; try again later.";

describe("hostile clients", () => {
  it("answers JSON nested deeper than the limit 400, before any recursion", async () => {
    const app = await startApp();
    for (const payload of [
      "[".repeat(1000) + "]".repeat(1000),
      `${"[".repeat(32_000)}"e100"${"]".repeat(32_000)}`,
      `${"[".repeat(32_000)}1e400${"]".repeat(32_000)}`,
      `${"[".repeat(32_000)}"\\ud800"${"]".repeat(32_000)}`,
    ]) {
      const response = await app.inject({ method: "POST", url: "/users", headers: JSON_HEADERS, payload });
      assert.equal(response.statusCode, 400);
      assert.equal(json(response)["detail"], "The request body is not valid JSON.");
      assert.deepEqual(json(response)["errors"], [{ location: "body", message: "nests arrays and objects deeper than 64 levels" }]);
    }
    const text = JSON.stringify({
      email: "a@example.com",
      password: "[".repeat(65) + "x".repeat(7),
      displayName: "{".repeat(65) + "]".repeat(15),
    });
    assert.equal((await app.inject({ method: "POST", url: "/users", headers: JSON_HEADERS, payload: text })).statusCode, 201);
    await app.close();
  });

  it("never answers 412 to a PATCH without If-Match while another process writes the same task", async () => {
    const config = testConfig();
    const [one, two] = [await startApp(config), await startApp(config)];
    const { token } = await account(one);
    const { task } = await createTask(one, token);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? one : two).inject({
          method: "PATCH",
          url: `/tasks/${String(task["id"])}`,
          headers: bearer(token),
          payload: { title: `t${i}` },
        }),
      ),
    );
    assert.deepEqual([...new Set(answers.map((answer) => answer.statusCode))], [200]);
    const read = await one.inject({ method: "GET", url: `/tasks/${String(task["id"])}`, headers: bearer(token) });
    assert.equal(read.headers["etag"], '"41"');
    await one.close();
    await two.close();
  });

  it("redoes a write another process beat between its read and its write, answering as a transaction would", async () => {
    const config = testConfig();
    const app = await startApp(config);
    const { token } = await account(app);
    const other = otherConnection(config.database);
    const read = Object.getOwnPropertyDescriptor(Repository.prototype, "task")?.value as Repository["task"];
    let interfere: string | undefined;
    // The other implementation bumping the task's version right after this one has read it, once.
    Repository.prototype.task = async function (this: Repository, ...args: Parameters<Repository["task"]>) {
      const row = await read.apply(this, args);
      if (interfere !== undefined) {
        const id = interfere;
        interfere = undefined;
        await other.run("UPDATE tasks SET version = version + 1 WHERE id = ?", id);
      }
      return row;
    };
    // [method, If-Match, answer]: the task was read at version 1 and is at 2 when the write is tried.
    const cases: ["PATCH" | "DELETE", string | undefined, number][] = [
      ["PATCH", undefined, 200],
      ["PATCH", '"1"', 412],
      ["PATCH", '"1", "2"', 200],
      ["PATCH", "*", 200],
      ["DELETE", undefined, 204],
      ["DELETE", '"1"', 412],
    ];
    try {
      for (const [method, ifMatch, status] of cases) {
        const { task } = await createTask(app, token);
        const url = `/tasks/${String(task["id"])}`;
        const headers = { ...bearer(token), ...(ifMatch === undefined ? {} : { "if-match": ifMatch }) };
        interfere = String(task["id"]);
        const answer = await app.inject({ method, url, headers, ...(method === "PATCH" ? { payload: { title: "mine" } } : {}) });
        const label = `${method} If-Match ${String(ifMatch)}`;
        assert.equal(answer.statusCode, status, `${label}: ${answer.body}`);
        assert.equal(interfere, undefined, `${label}: the other process did not write`);
        const after = await app.inject({ url, headers: bearer(token) });
        if (status === 204) assert.equal(after.statusCode, 404, label);
        else assert.equal(after.headers.etag, status === 200 ? '"3"' : '"2"', label);
        if (status === 200) assert.equal(json(after)["title"], "mine", label);
      }
    } finally {
      Repository.prototype.task = read;
      await other.close();
      await app.close();
    }
  });

  it("throttles failed logins per account with Retry-After, and never slows another account", async () => {
    const app = await startApp();
    const ada = await account(app);
    const bob = await account(app);
    for (let i = 0; i < 10; i++) {
      const wrong = await app.inject({ method: "POST", url: "/auth/login", payload: { email: ada.email, password: "wrong-password" } });
      assert.equal(wrong.statusCode, 401);
    }
    for (const password of ["wrong-password", "correct-horse-42"]) {
      const refused = await app.inject({ method: "POST", url: "/auth/login", payload: { email: ada.email.toUpperCase(), password } });
      assert.equal(refused.statusCode, 429);
      assert.equal(json(refused)["detail"], THROTTLED);
      const wait = Number(refused.headers["retry-after"]);
      assert.ok(wait >= 1 && wait <= 900);
    }
    const started = Date.now();
    const ok = await app.inject({ method: "POST", url: "/auth/login", payload: { email: bob.email, password: "correct-horse-42" } });
    assert.equal(ok.statusCode, 200);
    assert.ok(Date.now() - started < 1000);
    await app.close();
  });

  it("behind a trusted proxy counts failed logins against the forwarded address, as the Python server does", async () => {
    // TRUSTED_PROXIES names the balancer (127.0.0.1, the injected requests' peer): each forwarded client has its own count.
    // Without it (the default), X-Forwarded-For changes nothing: a client cannot choose the address it is counted at.
    for (const [trusted, expected] of [
      ["127.0.0.1", [401, 429, 401, 429]],
      ["", [401, 429, 429, 429]],
    ] as const) {
      const app = await startApp(testConfig({ LOGIN_MAX_ADDRESS_FAILURES: "1", TRUSTED_PROXIES: trusted }));
      const statuses = [];
      for (let n = 0; n < 4; n++) {
        const answer = await app.inject({
          method: "POST",
          url: "/auth/login",
          remoteAddress: "127.0.0.1",
          headers: { "x-forwarded-for": `203.0.113.${Math.floor(n / 2)}` },
          payload: { email: `nobody${n}@example.com`, password: "wrong-password" },
        });
        statuses.push(answer.statusCode);
      }
      assert.deepEqual(statuses, expected, `TRUSTED_PROXIES=${trusted}`);
      await app.close();
    }
  });

  it("throttles per client address, counting unknown emails too, through the shared database", async () => {
    const config = testConfig({ LOGIN_MAX_ADDRESS_FAILURES: "5" });
    const [one, two] = [await startApp(config), await startApp(config)];
    const ada = await account(one);
    for (let i = 0; i < 5; i++) {
      const wrong = await one.inject({
        method: "POST",
        url: "/auth/login",
        payload: { email: `nobody${i}@example.com`, password: "wrong-password" },
      });
      assert.equal(wrong.statusCode, 401);
    }
    const refused = await two.inject({ method: "POST", url: "/auth/login", payload: { email: ada.email, password: "correct-horse-42" } });
    assert.equal(refused.statusCode, 429);
    await one.close();
    await two.close();
  });
});
