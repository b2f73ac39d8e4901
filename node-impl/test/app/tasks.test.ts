import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { account, bearer, createTask, json, startApp } from "../helpers.js";

describe("tasks", () => {
  let app: FastifyInstance;
  let token: string;
  before(async () => {
    app = await startApp();
    ({ token } = await account(app));
  });
  after(() => app.close());

  it('creates a task: 201, Location, ETag "1", defaults filled in', async () => {
    const { response, task } = await createTask(app, token, { title: "Write the contract tests", dueDate: "2024-02-29" });
    assert.equal(response.statusCode, 201);
    assert.equal(response.headers.location, `/tasks/${String(task["id"])}`);
    assert.equal(response.headers.etag, '"1"');
    assert.equal(task["priority"], "normal");
    assert.equal(task["status"], "open");
    assert.equal(task["notes"], null);
    assert.equal(task["dueDate"], "2024-02-29");
    assert.equal(task["createdAt"], task["updatedAt"]);
  });

  it("reads a task by id in any case, with its ETag", async () => {
    const { task } = await createTask(app, token);
    const response = await app.inject({ url: `/tasks/${String(task["id"]).toUpperCase()}`, headers: bearer(token) });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers.etag, '"1"');
    assert.deepEqual(json(response), task);
  });

  it("hides another user's task behind 404", async () => {
    const { task } = await createTask(app, token);
    const other = await account(app);
    for (const method of ["GET", "DELETE"] as const) {
      const response = await app.inject({ method, url: `/tasks/${String(task["id"])}`, headers: bearer(other.token) });
      assert.equal(response.statusCode, 404);
      assert.equal(json(response)["detail"], "No task with this id.");
    }
  });

  it("patches the fields sent, clears notes with null, bumps the version", async () => {
    const { task } = await createTask(app, token, { title: "t", notes: "n", priority: "high" });
    const url = `/tasks/${String(task["id"])}`;
    const response = await app.inject({
      method: "PATCH",
      url,
      headers: { ...bearer(token), "if-match": '"1"' },
      payload: { notes: null, status: "done" },
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers.etag, '"2"');
    const patched = json(response);
    assert.equal(patched["notes"], null);
    assert.equal(patched["status"], "done");
    assert.equal(patched["priority"], "high");
    assert.equal(patched["title"], "t");
    assert.notEqual(patched["updatedAt"], undefined);
  });

  it("answers 412 to a stale, weak or unparsable If-Match and accepts * and lists", async () => {
    const { task } = await createTask(app, token);
    const url = `/tasks/${String(task["id"])}`;
    const patch = (ifMatch: string) =>
      app.inject({ method: "PATCH", url, headers: { ...bearer(token), "if-match": ifMatch }, payload: { title: "x" } });
    for (const stale of ['"2"', 'W/"1"', "1", '"1" junk']) {
      const response = await patch(stale);
      assert.equal(response.statusCode, 412, stale);
      assert.equal(json(response)["detail"], "The task has changed since it was read.");
    }
    assert.equal((await patch('"7", "1"')).statusCode, 200);
    assert.equal((await patch("*")).statusCode, 200);
    assert.equal((await patch('"3"')).statusCode, 200);
  });

  it("refuses an empty patch and unknown fields", async () => {
    const { task } = await createTask(app, token);
    const url = `/tasks/${String(task["id"])}`;
    for (const payload of [{}, { colour: "red" }, { title: null }]) {
      const response = await app.inject({ method: "PATCH", url, headers: bearer(token), payload });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
    }
  });

  it("of two updates with the same ETag exactly one wins", async () => {
    const { task } = await createTask(app, token);
    const url = `/tasks/${String(task["id"])}`;
    const headers = { ...bearer(token), "if-match": '"1"' };
    const statuses = (
      await Promise.all([
        app.inject({ method: "PATCH", url, headers, payload: { title: "first" } }),
        app.inject({ method: "PATCH", url, headers, payload: { title: "second" } }),
      ])
    ).map((response) => response.statusCode);
    assert.deepEqual(statuses.sort(), [200, 412]);
  });

  it("deletes a task: 204 without a body, then 404; a stale If-Match is 412 and 404 wins over 412", async () => {
    const { task } = await createTask(app, token);
    const url = `/tasks/${String(task["id"])}`;
    assert.equal((await app.inject({ method: "DELETE", url, headers: { ...bearer(token), "if-match": '"9"' } })).statusCode, 412);
    const deleted = await app.inject({ method: "DELETE", url, headers: { ...bearer(token), "if-match": '"1"' } });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, "");
    assert.equal((await app.inject({ method: "DELETE", url, headers: { ...bearer(token), "if-match": '"9"' } })).statusCode, 404);
    assert.equal((await app.inject({ url, headers: bearer(token) })).statusCode, 404);
  });

  it("ignores a body sent to an operation that declares none", async () => {
    const { task } = await createTask(app, token);
    const response = await app.inject({
      method: "DELETE",
      url: `/tasks/${String(task["id"])}`,
      headers: { ...bearer(token), "content-type": "text/plain" },
      payload: "ignored",
    });
    assert.equal(response.statusCode, 204);
  });

  it("answers 400 at path/taskId for an id that is not a uuid", async () => {
    const response = await app.inject({ url: "/tasks/not-a-uuid", headers: bearer(token) });
    assert.equal(response.statusCode, 400);
    assert.equal((json(response)["errors"] as { location: string }[])[0]?.location, "path/taskId");
  });

  it("keeps an encoded slash inside its path parameter", async () => {
    const response = await app.inject({ url: "/tasks/a%2Fb", headers: bearer(token) });
    assert.equal(response.statusCode, 400);
    assert.equal((json(response)["errors"] as { location: string }[])[0]?.location, "path/taskId");
  });
});

describe("listing", () => {
  let app: FastifyInstance;
  let token: string;
  const titles = ["alpha", "Beta", "gamma", "delta", "EPSILON"];
  before(async () => {
    app = await startApp();
    ({ token } = await account(app));
    for (const title of titles) await createTask(app, token, { title, notes: title === "delta" ? "has Alpha inside" : undefined });
    const other = await account(app);
    await createTask(app, other.token, { title: "alpha of someone else" });
  });
  after(() => app.close());

  const list = (query: string) => app.inject({ url: `/tasks${query}`, headers: bearer(token) });

  it("lists the user's own tasks newest first, 20 by default", async () => {
    const page = json(await list(""));
    assert.deepEqual(
      (page["items"] as { title: string }[]).map((task) => task.title),
      [...titles].reverse(),
    );
    assert.equal(page["nextCursor"], null);
  });

  it("pages with a cursor until nextCursor is null, skipping and repeating nothing", async () => {
    const seen: string[] = [];
    const cursors: string[] = [];
    let cursor: string | null = null;
    do {
      const page = json(await list(`?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`));
      seen.push(...(page["items"] as { title: string }[]).map((task) => task.title));
      cursor = page["nextCursor"] as string | null;
      if (cursor !== null) cursors.push(cursor);
    } while (cursor !== null);
    assert.deepEqual(seen, [...titles].reverse());
    // base64url without padding of "v1:<seq>": the same bytes the Python implementation issues
    for (const issued of cursors) assert.match(Buffer.from(issued, "base64url").toString("ascii"), /^v1:[1-9][0-9]*$/);
    assert.ok(cursors.every((issued) => /^[A-Za-z0-9_-]+$/.test(issued)));
  });

  it("filters by status and by text in title or notes, ignoring ASCII case", async () => {
    const found = json(await list("?q=ALPHA"));
    assert.deepEqual(
      (found["items"] as { title: string }[]).map((task) => task.title),
      ["delta", "alpha"],
    );
    assert.equal((json(await list("?status=done"))["items"] as unknown[]).length, 0);
    assert.equal((json(await list("?q="))["items"] as unknown[]).length, titles.length);
  });

  it("refuses a cursor it did not issue: 400 at query/cursor", async () => {
    const padded = Buffer.from("v1:1").toString("base64");
    for (const cursor of [
      "djE6MDE",
      Buffer.from("v2:1").toString("base64url"),
      "@@@@",
      padded,
      Buffer.from("v1:99999999999999999999").toString("base64url"),
    ]) {
      const response = await list(`?cursor=${encodeURIComponent(cursor)}`);
      assert.equal(response.statusCode, 400, cursor);
      assert.deepEqual(json(response)["errors"], [{ location: "query/cursor", message: "is not a cursor this server issued" }]);
    }
  });

  it("converts and checks query parameters as the conventions say", async () => {
    for (const [query, location] of [
      ["?limit=0", "query/limit"],
      ["?limit=101", "query/limit"],
      ["?limit=1.0", "query/limit"],
      ["?limit=01", "query/limit"],
      ["?limit=1&limit=2", "query/limit"],
      ["?status=archived", "query/status"],
    ] as const) {
      const response = await list(query);
      assert.equal(response.statusCode, 400, query);
      assert.equal((json(response)["errors"] as { location: string }[])[0]?.location, location, query);
    }
    assert.equal((json(await list("?limit=1&unknown=x"))["items"] as unknown[]).length, 1);
  });
});
