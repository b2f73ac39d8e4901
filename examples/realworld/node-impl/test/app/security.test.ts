import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";

import bcrypt from "bcrypt";

import { Passwords, Tokens } from "../../src/app/security.js";
import { JWT_SECRET } from "../helpers.js";

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** A JWT signed with HS256 (or any header) over the given claims. */
function jwt(claims: object, header: object = { alg: "HS256", typ: "JWT" }, secret = JWT_SECRET): string {
  const signed = `${base64url(header)}.${base64url(claims)}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe("tokens", () => {
  const tokens = new Tokens(JWT_SECRET, 86400);

  it("issue HS256 tokens naming the user, with iat and exp = iat + ttl", () => {
    const token = tokens.issue(42);
    const [header, claims] = token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()) as Record<string, unknown>);
    assert.deepEqual(header, { alg: "HS256", typ: "JWT" });
    assert.equal(claims?.["sub"], "42");
    assert.equal(Number(claims?.["exp"]) - Number(claims?.["iat"]), 86400);
    assert.equal(tokens.userId(`Token ${token}`), 42);
  });

  it("read the Token scheme word as written, one space, the token", () => {
    const token = tokens.issue(7);
    assert.equal(tokens.userId(`Token ${token}`), 7);
    assert.equal(tokens.userId(`token ${token}`), null);
    assert.equal(tokens.userId(`Bearer ${token}`), null);
    assert.equal(tokens.userId(token), null);
    assert.equal(tokens.userId(`Token  ${token}`), null);
    assert.equal(tokens.userId(`Token ${token} extra`), null);
  });

  it("refuse what is not a valid token of this server", () => {
    const iat = nowSeconds();
    const valid = { sub: "1", iat, exp: iat + 60 };
    assert.equal(tokens.userId(`Token ${jwt(valid)}`), 1);
    const refused = {
      "another secret": jwt(valid, undefined, "another-secret-that-is-32-bytes-long!"),
      "alg none": `${base64url({ alg: "none", typ: "JWT" })}.${base64url(valid)}.`,
      "alg HS512": jwt(valid, { alg: "HS512", typ: "JWT" }),
      expired: jwt({ sub: "1", iat: iat - 120, exp: iat - 60 }),
      "expiring this second": jwt({ sub: "1", iat: iat - 60, exp: iat }),
      "exp not an integer": jwt({ sub: "1", iat, exp: iat + 60.5 }),
      "iat not an integer": jwt({ sub: "1", iat: iat + 0.5, exp: iat + 60 }),
      "sub past 2^53": jwt({ sub: "9007199254740993", iat, exp: iat + 60 }),
      "no exp": jwt({ sub: "1", iat }),
      "no iat": jwt({ sub: "1", exp: iat + 60 }),
      "no sub": jwt({ iat, exp: iat + 60 }),
      "sub a number": jwt({ sub: 1, iat, exp: iat + 60 }),
      "sub not decimal": jwt({ sub: "0x1", iat, exp: iat + 60 }),
      "sub zero": jwt({ sub: "0", iat, exp: iat + 60 }),
      "not a JWT": "garbage",
    };
    for (const [why, token] of Object.entries(refused)) assert.equal(tokens.userId(`Token ${token}`), null, why);
  });
});

describe("passwords", () => {
  it("are bcrypt $2b$ hashes of the first 72 UTF-8 bytes, at the configured cost", async () => {
    const passwords = await Passwords.create(4);
    const long = "é".repeat(36); // 72 bytes
    const hash = await passwords.hash(long + "ignored");
    assert.match(hash, /^\$2b\$04\$/);
    assert.equal(await passwords.verify(long, hash), true);
    assert.equal(await passwords.verify("é".repeat(35), hash), false);
    // What another implementation wrote from the same bytes verifies here.
    assert.equal(await passwords.verify("secret", await bcrypt.hash("secret", 4)), true);
  });

  it("never match when there is no stored hash", async () => {
    const passwords = await Passwords.create(4);
    assert.equal(await passwords.verify("no account has this password", undefined), false);
  });
});
