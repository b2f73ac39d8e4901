import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { errors, json, register, startApp } from "../helpers.js";

describe("profiles", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp();
  });
  after(async () => {
    await app.close();
  });

  it("shows a profile with or without a token; following is for the caller", async () => {
    const me = await register(app, "fan");
    const celeb = await register(app, "celeb");
    const anonymous = await app.inject({ method: "GET", url: `/profiles/${celeb.username}` });
    assert.equal(anonymous.statusCode, 200);
    assert.deepEqual(json(anonymous), { profile: { username: celeb.username, bio: "", image: null, following: false } });
    const follow = await app.inject({ method: "POST", url: `/profiles/${celeb.username}/follow`, headers: me.headers });
    assert.equal(follow.statusCode, 200);
    assert.deepEqual(json(follow), { profile: { username: celeb.username, bio: "", image: null, following: true } });
    const seen = await app.inject({ method: "GET", url: `/profiles/${celeb.username}`, headers: me.headers });
    assert.equal((json(seen)["profile"] as { following: boolean }).following, true);
    const byOther = await app.inject({ method: "GET", url: `/profiles/${celeb.username}`, headers: celeb.headers });
    assert.equal((json(byOther)["profile"] as { following: boolean }).following, false);
  });

  it("follows idempotently and unfollows someone not followed with 200", async () => {
    const me = await register(app, "twice");
    const celeb = await register(app, "star");
    for (let i = 0; i < 2; i++) {
      const follow = await app.inject({ method: "POST", url: `/profiles/${celeb.username}/follow`, headers: me.headers });
      assert.equal((json(follow)["profile"] as { following: boolean }).following, true);
    }
    for (let i = 0; i < 2; i++) {
      const unfollow = await app.inject({ method: "DELETE", url: `/profiles/${celeb.username}/follow`, headers: me.headers });
      assert.equal(unfollow.statusCode, 200);
      assert.equal((json(unfollow)["profile"] as { following: boolean }).following, false);
    }
  });

  it("accepts the body the official suite sends to follow", async () => {
    const me = await register(app, "suite");
    const celeb = await register(app, "suitestar");
    const follow = await app.inject({
      method: "POST",
      url: `/profiles/${celeb.username}/follow`,
      headers: me.headers,
      payload: { user: { email: me.email } },
    });
    assert.equal(follow.statusCode, 200);
  });

  it("refuses to follow oneself, and unknown profiles with 404", async () => {
    const me = await register(app, "self");
    const self = await app.inject({ method: "POST", url: `/profiles/${me.username}/follow`, headers: me.headers });
    assert.equal(self.statusCode, 422);
    assert.deepEqual(json(self), errors("you cannot follow yourself"));
    for (const [method, url] of [
      ["GET", "/profiles/nobody-at-all"],
      ["POST", "/profiles/nobody-at-all/follow"],
      ["DELETE", "/profiles/nobody-at-all/follow"],
    ] as const) {
      const response = await app.inject({ method, url, headers: me.headers });
      assert.equal(response.statusCode, 404, `${method} ${url}`);
      assert.deepEqual(json(response), errors("profile not found"));
    }
  });

  it("needs a token to follow", async () => {
    const celeb = await register(app, "untouched");
    const response = await app.inject({ method: "POST", url: `/profiles/${celeb.username}/follow` });
    assert.equal(response.statusCode, 401);
  });
});
