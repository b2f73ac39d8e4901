import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { createApp } from "../../src/app/app.js";
import { account, bearer, json, testConfig } from "../helpers.js";

const PROBLEM_KEYS = ["type", "title", "status", "detail", "instance"];

describe("HTTP conventions of the kit", () => {
  let app: FastifyInstance;
  let token: string;
  const lines: Record<string, unknown>[] = [];
  before(async () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    app = await createApp(testConfig({ LOG_LEVEL: "info" }), { logStream });
    await app.ready();
    ({ token } = await account(app));
  });
  after(() => app.close());

  it("404 for an unknown path, as problem+json with the keys in order", async () => {
    const response = await app.inject("/nowhere?x=1");
    assert.equal(response.statusCode, 404);
    assert.equal(response.headers["content-type"], "application/problem+json; charset=utf-8");
    assert.deepEqual(Object.keys(json(response)), PROBLEM_KEYS);
    assert.deepEqual(json(response), {
      type: "about:blank",
      title: "Not Found",
      status: 404,
      detail: "No route matches this path.",
      instance: "/nowhere",
    });
  });

  it("405 with the documented methods in Allow for any other method on a known path (HEAD and TRACE too)", async () => {
    for (const [method, url, allow] of [
      ["PUT", "/tasks", "GET, POST"],
      ["HEAD", "/tasks", "GET, POST"],
      ["DELETE", "/health", "GET"],
      ["TRACE", "/tasks/6c1b8a46-3c2f-4f8e-9d5a-2b7f0e1d9c3a", "GET, DELETE, PATCH"],
      ["OPTIONS", "/users/me", "GET"],
    ] as const) {
      const response = await app.inject({ method, url });
      assert.equal(response.statusCode, 405, `${method} ${url}`);
      assert.equal(response.headers["allow"], allow);
      if (method !== "HEAD") assert.equal(json(response)["detail"], "This path does not accept this method.");
    }
  });

  it("405 for QUERY too, even without a Content-Type", async () => {
    const response = await app.inject({ method: "QUERY", url: "/tasks" });
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers["allow"], "GET, POST");
  });

  it("415 for an undeclared media type or a body without one; parameters like charset are fine", async () => {
    const post = (headers: Record<string, string>, payload: string) =>
      app.inject({ method: "POST", url: "/tasks", headers: { ...bearer(token), ...headers }, payload });
    for (const response of [await post({ "content-type": "text/plain" }, "{}"), await post({}, '{"title":"x"}')]) {
      assert.equal(response.statusCode, 415);
      assert.equal(json(response)["detail"], "The request body must be application/json.");
    }
    assert.equal((await post({ "content-type": "application/json; charset=utf-8" }, '{"title":"x"}')).statusCode, 201);
  });

  it("413 above 65536 bytes", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/tasks",
      headers: { ...bearer(token), "content-type": "application/json" },
      payload: `{"title":"${"x".repeat(65536)}"}`,
    });
    assert.equal(response.statusCode, 413);
    assert.equal(json(response)["detail"], "The request body is larger than 65536 bytes.");
    assert.equal(json(response)["title"], "Content Too Large");
  });

  it("400 for malformed JSON and for a missing or empty required body", async () => {
    const malformed = await app.inject({
      method: "POST",
      url: "/tasks",
      headers: { ...bearer(token), "content-type": "application/json" },
      payload: "{",
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(json(malformed)["detail"], "The request body is not valid JSON.");
    assert.equal((json(malformed)["errors"] as { location: string }[])[0]?.location, "body");
    assert.deepEqual(Object.keys(json(malformed)), [...PROBLEM_KEYS, "errors"]);
    for (const headers of [{}, { "content-type": "application/json" }]) {
      const response = await app.inject({ method: "POST", url: "/tasks", headers: { ...bearer(token), ...headers } });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(json(response)["errors"], [{ location: "body", message: "is required" }]);
    }
  });

  it("400 for JSON that is not I-JSON: lone surrogates, numbers beyond a double, bytes that are not UTF-8", async () => {
    const payloads = ['{"title":"\\ud800"}', '{"title":"x","notes":"\\udc00a"}', '{"title":1e400}', Buffer.from([0x7b, 0xff, 0x7d])];
    for (const payload of payloads) {
      const response = await app.inject({
        method: "POST",
        url: "/tasks",
        headers: { ...bearer(token), "content-type": "application/json" },
        payload,
      });
      assert.equal(response.statusCode, 400, String(payload));
      assert.equal(json(response)["detail"], "The request body is not valid JSON.");
    }
    const paired = await app.inject({
      method: "POST",
      url: "/tasks",
      headers: { ...bearer(token), "content-type": "application/json" },
      payload: '{"title":"\\ud83d\\ude00"}',
    });
    assert.equal(paired.statusCode, 201);
  });

  it("400 for bodies that do not match: no coercion, no removal of extra properties, every error", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/tasks",
      headers: bearer(token),
      payload: { title: 123, dueDate: "2023-02-29", extra: true },
    });
    assert.equal(response.statusCode, 400);
    const locations = (json(response)["errors"] as { location: string }[]).map((error) => error.location).sort();
    assert.deepEqual(locations, ["body", "body/dueDate", "body/title"]);
  });

  it("refuses prototype-poisoning keys as invalid data, after the schema reported its own errors", async () => {
    const post = (payload: string) =>
      app.inject({ method: "POST", url: "/tasks", headers: { ...bearer(token), "content-type": "application/json" }, payload });
    const response = await post('{"title":"x","__proto__":{"admin":true}}');
    assert.equal(response.statusCode, 400);
    assert.equal(json(response)["detail"], "The request does not match the contract.");
    const invalidToo = await post('{"title":7,"__proto__":{"admin":true}}');
    const locations = (json(invalidToo)["errors"] as { location: string }[]).map((error) => error.location).sort();
    assert.deepEqual(locations, ["body", "body/title"]);
  });

  it("400 at header/If-Match for a header over its maxLength", async () => {
    const response = await app.inject({
      method: "DELETE",
      url: "/tasks/6c1b8a46-3c2f-4f8e-9d5a-2b7f0e1d9c3a",
      headers: { ...bearer(token), "if-match": `"${"1".repeat(300)}"` },
    });
    assert.equal(response.statusCode, 400);
    assert.equal((json(response)["errors"] as { location: string }[])[0]?.location, "header/If-Match");
  });

  it("echoes a valid X-Request-ID, replaces an invalid one, and logs one access line per request", async () => {
    const echoed = await app.inject({ url: "/health", headers: { "x-request-id": "abc-123" } });
    assert.equal(echoed.headers["x-request-id"], "abc-123");
    const replaced = await app.inject({ url: "/nowhere", headers: { "x-request-id": "has space" } });
    assert.match(String(replaced.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    const access = lines.filter((line) => line["msg"] === "request" && line["request_id"] === "abc-123");
    assert.equal(access.length, 1);
    assert.equal(access[0]?.["level"], "info");
    assert.equal(access[0]?.["method"], "GET");
    assert.equal(access[0]?.["path"], "/health");
    assert.equal(access[0]?.["status"], 200);
    assert.equal(typeof access[0]?.["duration_ms"], "number");
  });

  it("serves the spec itself at /openapi.json and Swagger UI at /docs", async () => {
    const spec = await app.inject("/openapi.json");
    assert.equal(spec.statusCode, 200);
    assert.equal(json(spec)["openapi"], "3.1.0");
    assert.deepEqual(Object.keys(json(spec)["paths"] as object), [
      "/health",
      "/users",
      "/auth/login",
      "/users/me",
      "/tasks",
      "/tasks/{taskId}",
    ]);
    const docs = await app.inject("/docs/");
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });
});
