import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import { account, bearer, json, startApp } from "../helpers.js";

describe("accounts", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await startApp();
  });
  after(() => app.close());

  it("GET /health names the implementation and the contract version", async () => {
    const response = await app.inject("/health");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: "ok", implementation: "node", version: "1.0.0" });
  });

  it("registers an account: 201, Location, the user as registered", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/users",
      payload: { email: "Ada.Lovelace@Example.com", password: "correct-horse-42", displayName: "Ada Lovelace" },
    });
    assert.equal(response.statusCode, 201);
    assert.equal(response.headers.location, "/users/me");
    const user = json(response);
    assert.deepEqual(Object.keys(user), ["id", "email", "displayName", "createdAt"]);
    assert.match(String(user["id"]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(user["email"], "Ada.Lovelace@Example.com");
    assert.match(String(user["createdAt"]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it("refuses an email that differs only in ASCII case: 409", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/users",
      payload: { email: "ada.lovelace@EXAMPLE.com", password: "correct-horse-42", displayName: "Ada" },
    });
    assert.equal(response.statusCode, 409);
    assert.equal(json(response)["detail"], "This email is already registered.");
  });

  it("lowers only ASCII letters: a non-ASCII capital is another email", async () => {
    const first = await app.inject({
      method: "POST",
      url: "/users",
      payload: { email: "kelvin@example.com", password: "12345678", displayName: "K" },
    });
    // U+212A KELVIN SIGN lowercases to "k" under Unicode rules; ASCII lowering leaves it alone. The email format
    // refuses it, which is the point: it can never collide with kelvin@example.com.
    const second = await app.inject({
      method: "POST",
      url: "/users",
      payload: { email: "\u212Aelvin@example.com", password: "12345678", displayName: "K" },
    });
    assert.equal(first.statusCode, 201);
    assert.equal(second.statusCode, 400);
  });

  it("logs in with any ASCII case of the email and returns a token for GET /users/me", async () => {
    const login = await app.inject({
      method: "POST",
      url: "/auth/login",
      payload: { email: "ADA.LOVELACE@example.com", password: "correct-horse-42" },
    });
    assert.equal(login.statusCode, 200);
    const body = json(login);
    assert.equal(body["tokenType"], "Bearer");
    assert.equal(body["expiresIn"], 3600);
    const me = await app.inject({ url: "/users/me", headers: bearer(String(body["accessToken"])) });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(json(me), body["user"]);
  });

  it("refuses a wrong password and an unknown email alike: 401 with WWW-Authenticate: Bearer", async () => {
    for (const email of ["ada.lovelace@example.com", "nobody@example.com"]) {
      const response = await app.inject({ method: "POST", url: "/auth/login", payload: { email, password: "wrong-password" } });
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers["www-authenticate"], "Bearer");
      assert.equal(json(response)["detail"], "The email or password is wrong.");
    }
  });

  it("uses only the first 72 UTF-8 bytes of a password", async () => {
    const base = "é".repeat(36); // 72 bytes in 36 characters
    await app.inject({ method: "POST", url: "/users", payload: { email: "long@example.com", password: base + "a", displayName: "L" } });
    const login = await app.inject({ method: "POST", url: "/auth/login", payload: { email: "long@example.com", password: base + "b" } });
    assert.equal(login.statusCode, 200);
  });

  it("validates the registration body: 400 with every location", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/users",
      payload: { email: "not-an-email", password: "short", displayName: "" },
    });
    assert.equal(response.statusCode, 400);
    const locations = (json(response)["errors"] as { location: string }[]).map((error) => error.location).sort();
    assert.deepEqual(locations, ["body/displayName", "body/email", "body/password"]);
  });

  it("a second account sees its own user", async () => {
    const { token, id } = await account(app);
    const me = await app.inject({ url: "/users/me", headers: bearer(token) });
    assert.equal(json(me)["id"], id);
  });
});
