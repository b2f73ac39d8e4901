import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance } from "fastify";

import {
  JWT_SECRET,
  account,
  bearer,
  createTask,
  forgeToken,
  json,
  nowSeconds,
  otherConnection,
  startApp,
  testConfig,
} from "../helpers.js";

describe("bearer authentication", () => {
  let app: FastifyInstance;
  let userId: string;
  let token: string;
  before(async () => {
    app = await startApp();
    ({ id: userId, token } = await account(app));
  });
  after(() => app.close());

  const me = (authorization?: string) => app.inject({ url: "/users/me", headers: authorization === undefined ? {} : { authorization } });

  it("accepts its own token, with the scheme name in any case", async () => {
    assert.equal((await me(`Bearer ${token}`)).statusCode, 200);
    assert.equal((await me(`bEaReR ${token}`)).statusCode, 200);
  });

  it("issues HS256 tokens with sub, iat and exp = iat + JWT_TTL_SECONDS", () => {
    const [header, claims] = token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()) as Record<string, unknown>);
    assert.deepEqual(header, { alg: "HS256", typ: "JWT" });
    assert.equal(claims?.["sub"], userId);
    assert.equal(Number(claims?.["exp"]) - Number(claims?.["iat"]), 3600);
  });

  it("without credentials: 401, WWW-Authenticate: Bearer, no error attribute", async () => {
    for (const header of [undefined, "Basic dXNlcjpwYXNz", `Bearer  ${token}`, "Bearer", `Bearer ${token} extra`]) {
      const response = await me(header);
      assert.equal(response.statusCode, 401, String(header));
      assert.equal(response.headers["www-authenticate"], "Bearer", String(header));
      assert.equal(json(response)["detail"], "A valid bearer token is required.");
    }
  });

  const header = { alg: "HS256", typ: "JWT" };
  const attacks: Record<string, () => string> = {
    "alg none": () => {
      const [, claims] = token.split(".");
      return `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${claims ?? ""}.`;
    },
    "another algorithm (HS512)": () =>
      forgeToken({ alg: "HS512", typ: "JWT" }, { sub: userId, iat: nowSeconds(), exp: nowSeconds() + 60 }, JWT_SECRET, "sha512"),
    "a wrong signature": () =>
      forgeToken(header, { sub: userId, iat: nowSeconds(), exp: nowSeconds() + 60 }, "another-secret-that-is-at-least-32-bytes"),
    "an expired token": () => forgeToken(header, { sub: userId, iat: nowSeconds() - 120, exp: nowSeconds() - 60 }),
    "no exp": () => forgeToken(header, { sub: userId, iat: nowSeconds() }),
    "a fractional iat": () => forgeToken(header, { sub: userId, iat: nowSeconds() + 0.5, exp: nowSeconds() + 60 }),
    "no sub": () => forgeToken(header, { iat: nowSeconds(), exp: nowSeconds() + 60 }),
    "a numeric sub": () => forgeToken(header, { sub: 42, iat: nowSeconds(), exp: nowSeconds() + 60 }),
    "an unknown user": () => forgeToken(header, { sub: "00000000-0000-4000-8000-000000000000", iat: nowSeconds(), exp: nowSeconds() + 60 }),
    "a malformed header": () =>
      `${Buffer.from("{not json").toString("base64url")}.${token.split(".")[1] ?? ""}.${token.split(".")[2] ?? ""}`,
    "not a JWT at all": () => "garbage",
  };
  for (const [name, forge] of Object.entries(attacks)) {
    it(`refuses ${name}: 401 with error="invalid_token"`, async () => {
      const response = await me(`Bearer ${forge()}`);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers["www-authenticate"], 'Bearer error="invalid_token"');
      assert.equal(response.headers["content-type"], "application/problem+json; charset=utf-8");
      assert.equal(json(response)["detail"], "The bearer token is invalid or expired.");
    });
  }

  it("authenticates before anything else: no token and a bad body or a bad media type is still 401", async () => {
    for (const [headers, payload] of [
      [{ "content-type": "application/json" }, "{not json"],
      [{ "content-type": "text/plain" }, "hello"],
      [{ "content-type": "application/json" }, JSON.stringify({ title: 1 })],
      [{ "content-type": "application/json" }, "x".repeat(70_000)],
    ] as const) {
      const response = await app.inject({ method: "POST", url: "/tasks", headers, payload });
      assert.equal(response.statusCode, 401);
    }
    const badQuery = await app.inject({ url: "/tasks?limit=banana" });
    assert.equal(badQuery.statusCode, 401);
  });

  it("a deleted account's token is 401, never 500, even while the account is remembered", async () => {
    const config = testConfig();
    const own = await startApp(config);
    const { token } = await account(own);
    await createTask(own, token); // the account is now in the authentication cache
    const other = otherConnection(config.database);
    await other.run("DELETE FROM users");
    await other.close();
    const orphan = await own.inject({ method: "POST", url: "/tasks", headers: bearer(token), payload: { title: "Orphan" } });
    assert.equal(orphan.statusCode, 401, orphan.body);
    assert.equal(json(orphan)["detail"], "The bearer token is invalid or expired.");
    // Forgotten by the cache at once: every operation is 401 from now on.
    for (const [method, url] of [
      ["GET", "/tasks"],
      ["GET", "/users/me"],
      ["POST", "/tasks"],
    ] as const) {
      const answer = await own.inject({ method, url, headers: bearer(token), ...(method === "POST" ? { payload: { title: "x" } } : {}) });
      assert.equal(answer.statusCode, 401, `${method} ${url}`);
    }
    await own.close();
  });
});
