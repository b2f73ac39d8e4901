/** TRUSTED_PROXIES: whose X-Forwarded-For names the client. The same cases as python-impl/tests/runtime/test_proxies.py. */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import Fastify from "fastify";

import { fastifyOptions } from "../../kit/src/app.js";
import { ConfigError } from "../../kit/src/env.js";
import { parseTrustedProxies, trustedProxiesFromEnv } from "../../kit/src/proxies.js";

/** [TRUSTED_PROXIES, the connection's peer, X-Forwarded-For or null, the client's address] */
const CASES: readonly (readonly [string, string, string | null, string])[] = [
  ["", "127.0.0.1", "203.0.113.7", "127.0.0.1"], // the default trusts no one
  ["127.0.0.1", "127.0.0.1", "203.0.113.7", "203.0.113.7"],
  ["127.0.0.1", "198.51.100.9", "203.0.113.7", "198.51.100.9"], // from an untrusted peer the header is ignored
  ["127.0.0.1", "127.0.0.1", null, "127.0.0.1"],
  ["127.0.0.1, 10.0.0.0/8", "127.0.0.1", "198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"], // rightmost untrusted
  ["127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.0.0.2, 10.0.0.3", "10.0.0.2"], // all trusted: the leftmost
  ["10.1.2.3/8", "10.200.0.1", "203.0.113.7", "203.0.113.7"], // a network's host bits do not matter
  ["::1, 2001:db8::/32", "::1", "2001:db9::1, 2001:db8::5", "2001:db9::1"],
  ["127.0.0.1", "::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"], // an IPv4-mapped peer is its IPv4 address
  ["::ffff:127.0.0.1", "127.0.0.1", "203.0.113.7", "203.0.113.7"],
  ["127.0.0.1", "127.0.0.1", " 203.0.113.7 ,, ", "203.0.113.7"], // spaces and empty entries are no hops
  ["127.0.0.1", "127.0.0.1", "", "127.0.0.1"],
  ["127.0.0.1", "127.0.0.1", "not-an-address", "not-an-address"], // no trusted proxy: taken as written
  ["127.0.0.1", "127.0.0.1", "203.0.113.7, 127.0.0.1", "203.0.113.7"],
];

const BAD = [
  "nope",
  "10.0.0.0/33",
  "10.0.0.0/0",
  "::/0",
  "::1/129",
  "10.0.0.0/x",
  "10.0.0.0/",
  "127.0.0.1,,10.0.0.1",
  "127.0.0.1,",
  "300.0.0.1",
  "127.1",
];

/** A Fastify instance with the kit's options, answering request.ip, and the access lines it logged. */
function ipApp(trusted: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const app = Fastify(fastifyOptions({ logLevel: "info", logStream: stream, trustedProxies: parseTrustedProxies(trusted) }));
  app.get("/ip", async (request) => ({ ip: request.ip }));
  return { app, lines };
}

describe("trusted proxies", () => {
  for (const [trusted, peer, forwarded, client] of CASES) {
    it(`TRUSTED_PROXIES=${JSON.stringify(trusted)}, from ${peer}, X-Forwarded-For ${JSON.stringify(forwarded)}: ${client}`, async () => {
      const { app } = ipApp(trusted);
      const headers = forwarded === null ? {} : { "x-forwarded-for": forwarded };
      const response = await app.inject({ url: "/ip", remoteAddress: peer, headers });
      assert.deepEqual(response.json(), { ip: client });
      await app.close();
    });
  }

  for (const value of BAD) {
    it(`refuses TRUSTED_PROXIES=${JSON.stringify(value)} naming the variable`, () => {
      assert.throws(
        () => parseTrustedProxies(value),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith("TRUSTED_PROXIES: "),
      );
    });
  }

  it("unset or blank trusts no one, and fastifyOptions reads it from the environment by default", () => {
    assert.equal(trustedProxiesFromEnv({}).count, 0);
    assert.equal(trustedProxiesFromEnv({ TRUSTED_PROXIES: "  " }).count, 0);
    assert.equal(trustedProxiesFromEnv({ TRUSTED_PROXIES: "127.0.0.1" })("127.0.0.1"), true);
    assert.equal("trustProxy" in fastifyOptions({ trustedProxies: parseTrustedProxies("") }), false);
    const saved = process.env["TRUSTED_PROXIES"];
    try {
      process.env["TRUSTED_PROXIES"] = "10.0.0.0/8";
      assert.equal("trustProxy" in fastifyOptions(), true);
      process.env["TRUSTED_PROXIES"] = "10.0.0.0/0";
      assert.throws(() => fastifyOptions(), ConfigError);
    } finally {
      if (saved === undefined) delete process.env["TRUSTED_PROXIES"];
      else process.env["TRUSTED_PROXIES"] = saved;
    }
  });

  it("the access line names the forwarded client", async () => {
    for (const [trusted, client] of [
      ["127.0.0.1", "203.0.113.7"],
      ["", "127.0.0.1"],
      ["10.0.0.0/8", "127.0.0.1"],
    ] as const) {
      const { app, lines } = ipApp(trusted);
      await app.inject({ url: "/ip", remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": "203.0.113.7" } });
      assert.deepEqual(
        lines.filter((line) => line["msg"] === "request").map((line) => line["client"]),
        [client],
      );
      await app.close();
    }
  });
});
