/**
 * Schemes whose credential the kit cannot read (mutualTLS, a name no securitySchemes entry declares): the handler is
 * called with "" for every request that needs the scheme and decides from the request; access is never open.
 * The same cases as python-impl/tests/runtime/test_opaque_security.py.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { formats } from "../../src/generated/formats.js";
import { ContractError } from "../../kit/src/app.js";
import type { Contract, OperationInfo } from "../../kit/src/contract.js";
import { invalidCredentials } from "../../kit/src/problem.js";
import { kitApp } from "./kit-app.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.1.0
info: {title: opaque, version: "1"}
paths:
  /certificate:
    get:
      security: [{certificate: []}]
      responses: {"204": {description: ok}}
  /undeclared:
    get:
      security: [{api_key: []}]
      responses: {"204": {description: ok}}
  /either:
    get:
      security: [{bearer: []}, {certificate: []}]
      responses: {"204": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    certificate: {type: mutualTLS}
`;
const PROXY_HEADER = "x-client-cert-verified";

function operation(path: string, security: string[][]): OperationInfo {
  return { id: path, handler: path, method: "GET", path, security, body: null };
}

// What the generator writes for this spec: `api_key` is undeclared, so its type is null.
const contract: Contract = {
  title: "opaque",
  version: "1",
  securitySchemes: {
    bearer: { handler: "bearer", type: "http", scheme: "bearer", in: null, param: null },
    certificate: { handler: "certificate", type: "mutualTLS", scheme: null, in: null, param: null },
    api_key: { handler: "apiKey", type: null, scheme: null, in: null, param: null },
  },
  operations: [
    operation("/certificate", [["certificate"]]),
    operation("/undeclared", [["api_key"]]),
    operation("/either", [["bearer"], ["certificate"]]),
  ],
};

const calls: [string, string][] = [];

/** The hand-written side: the proxy that terminates TLS says whether the client certificate was verified. */
function fromProxy(name: string) {
  return async (credential: string, request: FastifyRequest): Promise<string> => {
    calls.push([name, credential]);
    if (request.headers[PROXY_HEADER] !== "yes") throw invalidCredentials("No verified client certificate.");
    return name;
  };
}

const handlers = {
  certificate: fromProxy("certificate"),
  apiKey: fromProxy("api_key"),
  async bearer(credential: string): Promise<string> {
    calls.push(["bearer", credential]);
    return "bearer";
  },
};

async function answer(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(204).header("x-principal", String(request.principal)).send();
}

function build(securityHandlers: object = handlers): Promise<FastifyInstance> {
  const service = Object.fromEntries(contract.operations.map((op) => [op.handler, answer]));
  return kitApp({ contractPath: contractOf(SPEC), contract, formats, service, securityHandlers, errorBodies: {} });
}

describe("schemes the kit cannot read", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build();
    await app.ready();
  });
  after(() => app.close());
  beforeEach(() => {
    calls.length = 0;
  });

  for (const [path, scheme] of [
    ["/certificate", "certificate"],
    ["/undeclared", "api_key"],
  ] as const) {
    it(`${path}: the handler is called with "" even when nothing is sent, and decides`, async () => {
      const refused = await app.inject(path);
      assert.equal(refused.statusCode, 401);
      assert.match(String(refused.headers["content-type"]), /^application\/problem\+json/);
      assert.equal(refused.json<{ detail: string }>().detail, "No verified client certificate.");
      const accepted = await app.inject({ url: path, headers: { [PROXY_HEADER]: "yes" } });
      assert.equal(accepted.statusCode, 204);
      assert.equal(accepted.headers["x-principal"], scheme);
      assert.deepEqual(calls, [
        [scheme, ""],
        [scheme, ""],
      ]);
    });
  }

  it("alternatives take the first requirement whose credentials are there", async () => {
    const withToken = await app.inject({ url: "/either", headers: { authorization: "Bearer t" } });
    assert.equal(withToken.statusCode, 204);
    assert.equal(withToken.headers["x-principal"], "bearer");
    assert.deepEqual(calls, [["bearer", "t"]]);
    calls.length = 0;
    // No token: the opaque alternative is tried, and its handler decides.
    assert.equal((await app.inject("/either")).statusCode, 401);
    const certified = await app.inject({ url: "/either", headers: { [PROXY_HEADER]: "yes" } });
    assert.equal(certified.statusCode, 204);
    assert.equal(certified.headers["x-principal"], "certificate");
    assert.deepEqual(calls, [
      ["certificate", ""],
      ["certificate", ""],
    ]);
  });

  it("a scheme without a handler stops the server from starting", async () => {
    const { apiKey: _apiKey, ...partial } = handlers;
    await assert.rejects(build(partial), (error: unknown) => error instanceof ContractError && /api_key/.test(error.message));
  });
});
