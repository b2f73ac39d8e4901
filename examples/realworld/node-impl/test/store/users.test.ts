import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { type Body, PASSWORD, errors, json, register, startApp, tokenHeader } from "../helpers.js";

describe("users", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp();
  });
  after(async () => {
    await app.close();
  });

  const post = (url: string, payload: object) => app.inject({ method: "POST", url, payload });

  it("registers: 201 with the user, an empty bio, no image and a token", async () => {
    const response = await post("/users", { user: { username: "Jacob", email: "Jake@Jake.jake", password: PASSWORD } });
    assert.equal(response.statusCode, 201);
    const user = json(response)["user"] as Body;
    assert.deepEqual(Object.keys(user).sort(), ["bio", "email", "image", "token", "username"]);
    assert.equal(user["username"], "Jacob");
    assert.equal(user["email"], "Jake@Jake.jake");
    assert.equal(user["bio"], "");
    assert.equal(user["image"], null);
    const current = await app.inject({ method: "GET", url: "/user", headers: tokenHeader(String(user["token"])) });
    assert.equal((json(current)["user"] as Body)["username"], "Jacob");
  });

  it("keeps emails unique by their ASCII-lowercased form and usernames as given", async () => {
    const taken = await register(app, "taken");
    const byEmail = await post("/users", { user: { username: "other", email: taken.email.toUpperCase(), password: PASSWORD } });
    assert.equal(byEmail.statusCode, 422);
    assert.deepEqual(json(byEmail), errors("email has already been taken"));
    const byName = await post("/users", { user: { username: taken.username, email: "fresh@example.com", password: PASSWORD } });
    assert.deepEqual(json(byName), errors("username has already been taken"));
    const both = await post("/users", { user: { username: taken.username, email: taken.email, password: PASSWORD } });
    assert.deepEqual(json(both), errors("email has already been taken", "username has already been taken"));
    // Another case is another username.
    const cased = await post("/users", {
      user: { username: taken.username.toUpperCase(), email: "cased@example.com", password: PASSWORD },
    });
    assert.equal(cased.statusCode, 201);
  });

  it("refuses a registration the spec does not allow with its 422 shape", async () => {
    const response = await post("/users", { user: { username: "nopassword", email: "np@example.com" } });
    assert.equal(response.statusCode, 422);
    const body = json(response) as { errors: { body: string[] } };
    assert.ok(body.errors.body.length > 0 && body.errors.body.every((text) => typeof text === "string"));
  });

  it("logs in by email in any ASCII case, with a fresh token", async () => {
    const account = await register(app, "login");
    const response = await post("/users/login", { user: { email: account.email.toUpperCase(), password: PASSWORD } });
    assert.equal(response.statusCode, 200);
    const user = json(response)["user"] as Body;
    assert.equal(user["username"], account.username);
    assert.equal(user["email"], account.email);
    assert.equal(typeof user["token"], "string");
  });

  it("answers a wrong password and an unknown email alike: 401 without a body", async () => {
    const account = await register(app, "wrong");
    for (const credentials of [
      { email: account.email, password: "not-it" },
      { email: "nobody@example.com", password: PASSWORD },
    ]) {
      const response = await post("/users/login", { user: credentials });
      assert.equal(response.statusCode, 401);
      assert.equal(response.body, "");
    }
  });

  it("answers GET /user only with a valid token", async () => {
    const account = await register(app, "current");
    const ok = await app.inject({ method: "GET", url: "/user", headers: account.headers });
    assert.equal(ok.statusCode, 200);
    assert.equal((json(ok)["user"] as Body)["email"], account.email);
    for (const authorization of [undefined, `Bearer ${account.token}`, "Token not-a-jwt", `Token ${account.token}x`]) {
      const refused = await app.inject({ method: "GET", url: "/user", headers: authorization === undefined ? {} : { authorization } });
      assert.equal(refused.statusCode, 401, String(authorization));
      assert.equal(refused.body, "");
    }
  });

  it("updates only the fields sent; image null clears it; a new password logs in", async () => {
    const account = await register(app, "update");
    const put = (user: object) => app.inject({ method: "PUT", url: "/user", headers: account.headers, payload: { user } });
    const set = json(await put({ bio: "I work at statefarm", image: "https://example.com/me.png" }))["user"] as Body;
    assert.equal(set["bio"], "I work at statefarm");
    assert.equal(set["image"], "https://example.com/me.png");
    assert.equal(set["username"], account.username);
    const cleared = json(await put({ image: null }))["user"] as Body;
    assert.equal(cleared["image"], null);
    assert.equal(cleared["bio"], "I work at statefarm");
    const renamed = await put({ username: `${account.username}-renamed`, email: `renamed-${account.email}`, password: "new-password" });
    assert.equal(renamed.statusCode, 200);
    const login = await post("/users/login", { user: { email: `renamed-${account.email}`, password: "new-password" } });
    assert.equal(login.statusCode, 200);
    assert.equal((json(login)["user"] as Body)["username"], `${account.username}-renamed`);
    const old = await post("/users/login", { user: { email: `renamed-${account.email}`, password: PASSWORD } });
    assert.equal(old.statusCode, 401);
  });

  it("refuses an email or username another user has, and accepts one's own", async () => {
    const account = await register(app, "mine");
    const other = await register(app, "theirs");
    const put = (user: object) => app.inject({ method: "PUT", url: "/user", headers: account.headers, payload: { user } });
    assert.deepEqual(json(await put({ email: other.email.toUpperCase() })), errors("email has already been taken"));
    assert.deepEqual(json(await put({ username: other.username })), errors("username has already been taken"));
    // The refused updates changed nothing (read before the update below writes the same values again).
    const current = json(await app.inject({ method: "GET", url: "/user", headers: account.headers }))["user"] as Body;
    assert.equal(current["email"], account.email);
    const own = await put({ email: account.email, username: account.username });
    assert.equal(own.statusCode, 200);
  });

  it("refuses a token whose user no longer exists", async () => {
    const account = await register(app, "gone");
    await app.db.write((q) => q.run("DELETE FROM users WHERE username = :username", { username: account.username }));
    const response = await app.inject({ method: "GET", url: "/user", headers: account.headers });
    assert.equal(response.statusCode, 401);
  });
});
