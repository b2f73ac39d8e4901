import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { type Body, createArticle, errors, json, register, startApp } from "../helpers.js";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("comments", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp();
  });
  after(async () => {
    await app.close();
  });

  it("adds comments and lists them oldest first, with or without a token", async () => {
    const author = await register(app, "writer");
    const reader = await register(app, "reader");
    const { slug } = (await createArticle(app, author, { title: "Commented" })) as { slug: string };
    const url = `/articles/${slug}/comments`;
    const first = await app.inject({ method: "POST", url, headers: reader.headers, payload: { comment: { body: "First!" } } });
    assert.equal(first.statusCode, 200);
    const comment = json(first)["comment"] as Body;
    assert.equal(typeof comment["id"], "number");
    assert.equal(comment["body"], "First!");
    assert.match(String(comment["createdAt"]), ISO_MS);
    assert.equal(comment["createdAt"], comment["updatedAt"]);
    assert.deepEqual(comment["author"], { username: reader.username, bio: "", image: null, following: false });
    await app.inject({ method: "POST", url, headers: author.headers, payload: { comment: { body: "Thanks" } } });
    await app.inject({ method: "POST", url: `/profiles/${author.username}/follow`, headers: reader.headers });

    const anonymous = json(await app.inject({ method: "GET", url }))["comments"] as Body[];
    assert.deepEqual(
      anonymous.map((c) => c["body"]),
      ["First!", "Thanks"],
    );
    assert.equal((anonymous[1]?.["author"] as Body)["following"], false);
    const asReader = json(await app.inject({ method: "GET", url, headers: reader.headers }))["comments"] as Body[];
    assert.equal((asReader[1]?.["author"] as Body)["following"], true);
  });

  it("lets only the comment's author delete it", async () => {
    const author = await register(app, "owner");
    const other = await register(app, "stranger");
    const { slug } = (await createArticle(app, author, { title: "Guarded" })) as { slug: string };
    const created = await app.inject({
      method: "POST",
      url: `/articles/${slug}/comments`,
      headers: author.headers,
      payload: { comment: { body: "mine" } },
    });
    const id = Number((json(created)["comment"] as Body)["id"]);
    const url = `/articles/${slug}/comments/${id}`;
    const refused = await app.inject({ method: "DELETE", url, headers: other.headers });
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(json(refused), errors("only the author may delete this comment"));
    const deleted = await app.inject({ method: "DELETE", url, headers: author.headers });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, "");
    const again = await app.inject({ method: "DELETE", url, headers: author.headers });
    assert.equal(again.statusCode, 404);
    assert.deepEqual(json(again), errors("comment not found"));
  });

  it("answers 404 for a comment on another article, an unknown article, and an id no comment can have", async () => {
    const author = await register(app, "two");
    const one = (await createArticle(app, author, { title: "One" })) as { slug: string };
    const two = (await createArticle(app, author, { title: "Two" })) as { slug: string };
    const created = await app.inject({
      method: "POST",
      url: `/articles/${one.slug}/comments`,
      headers: author.headers,
      payload: { comment: { body: "on one" } },
    });
    const id = Number((json(created)["comment"] as Body)["id"]);
    const elsewhere = await app.inject({ method: "DELETE", url: `/articles/${two.slug}/comments/${id}`, headers: author.headers });
    assert.deepEqual(json(elsewhere), errors("comment not found"));
    const huge = await app.inject({
      method: "DELETE",
      url: `/articles/${one.slug}/comments/99999999999999999999`,
      headers: author.headers,
    });
    assert.equal(huge.statusCode, 404);
    assert.deepEqual(json(huge), errors("comment not found"));
    for (const [method, url] of [
      ["GET", "/articles/no-such-article/comments"],
      ["POST", "/articles/no-such-article/comments"],
      ["DELETE", `/articles/no-such-article/comments/${id}`],
    ] as const) {
      const payload = method === "POST" ? { comment: { body: "x" } } : undefined;
      const response = await app.inject({ method, url, headers: author.headers, ...(payload ? { payload } : {}) });
      assert.equal(response.statusCode, 404, `${method} ${url}`);
      assert.deepEqual(json(response), errors("article not found"));
    }
  });

  it("refuses a comment id that is not an integer with the spec's 422", async () => {
    const author = await register(app, "typed");
    const { slug } = (await createArticle(app, author, { title: "Typed" })) as { slug: string };
    const response = await app.inject({ method: "DELETE", url: `/articles/${slug}/comments/abc`, headers: author.headers });
    assert.equal(response.statusCode, 422);
    assert.ok(Array.isArray((json(response)["errors"] as Body)["body"]));
  });
});
