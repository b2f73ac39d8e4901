/**
 * Optional security (`security: [{}, {scheme: []}]`) and an API key in the Authorization header with a prefix
 * (RealWorld's Conduit: `Authorization: Token <jwt>`). Without any credential the handler gets no principal (null);
 * credentials that are sent but bad, or that no scheme of the operation can read, are 401 as on any secured operation.
 * The same cases as python-impl/tests/runtime/test_optional_security.py.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { formats } from "../../src/generated/formats.js";
import type { Contract, OperationInfo } from "../../kit/src/contract.js";
import { invalidCredentials } from "../../kit/src/problem.js";
import { kitApp } from "./kit-app.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.1.0
info: {title: optional, version: "1"}
paths:
  /articles:
    get:
      security: [{}, {Token: []}]
      responses: {"200": {description: ok}}
  /user:
    get:
      security: [{Token: []}]
      responses: {"200": {description: ok}}
  /search:
    get:
      security: [{bearer: []}, {}, {key: []}]
      responses: {"200": {description: ok}}
  /keyed:
    get:
      security: [{header: []}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    Token: {type: apiKey, in: header, name: Authorization, description: "Token <jwt>"}
    bearer: {type: http, scheme: bearer}
    key: {type: apiKey, in: query, name: api_key}
    header: {type: apiKey, in: header, name: X-Api-Key}
`;
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYWtlIn0.c2lnbmF0dXJl";

function operation(path: string, security: string[][]): OperationInfo {
  return { id: path, handler: path, method: "GET", path, security, body: null };
}

// What the generator writes for this spec (its requirements' scheme names sorted, empty ones kept).
const contract: Contract = {
  title: "optional",
  version: "1",
  securitySchemes: {
    Token: { handler: "token", type: "apiKey", scheme: null, in: "header", param: "Authorization" },
    bearer: { handler: "bearer", type: "http", scheme: "bearer", in: null, param: null },
    key: { handler: "key", type: "apiKey", scheme: null, in: "query", param: "api_key" },
    header: { handler: "header", type: "apiKey", scheme: null, in: "header", param: "X-Api-Key" },
  },
  operations: [
    operation("/articles", [[], ["Token"]]),
    operation("/user", [["Token"]]),
    operation("/search", [["bearer"], [], ["key"]]),
    operation("/keyed", [["header"]]),
  ],
};

const calls: [string, string][] = [];

/** Each accepts one credential and remembers what it was given. */
function accepting(name: string, good: string) {
  return async (credential: string): Promise<string> => {
    calls.push([name, credential]);
    if (credential !== good) throw invalidCredentials();
    return `${name}-user`;
  };
}

const handlers = {
  token: accepting("Token", `Token ${JWT}`),
  bearer: accepting("bearer", "good"),
  key: accepting("key", "k"),
  header: accepting("header", "k"),
};

async function principal(request: FastifyRequest, reply: FastifyReply) {
  return reply.send({ principal: request.principal });
}

describe("optional security and an API key with a prefix", () => {
  let app: FastifyInstance;
  before(async () => {
    const service = Object.fromEntries(contract.operations.map((op) => [op.handler, principal]));
    app = await kitApp({ contractPath: contractOf(SPEC), contract, formats, service, securityHandlers: handlers, errorBodies: {} });
    await app.ready();
  });
  after(() => app.close());
  beforeEach(() => {
    calls.length = 0;
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ url, headers });

  it("without credentials the handler gets no principal", async () => {
    for (const headers of [{}, { authorization: "" }] as Record<string, string>[]) {
      const response = await get("/articles", headers);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { principal: null });
    }
    // An empty value is no credential, wherever it is sent.
    assert.deepEqual((await get("/search?api_key=", { authorization: "" })).json(), { principal: null });
    assert.equal((await get("/keyed", { "x-api-key": "" })).statusCode, 401);
    assert.deepEqual(calls, []);
  });

  it("an API key with a prefix reaches its handler as the raw header", async () => {
    for (const url of ["/articles", "/user"]) {
      const response = await get(url, { Authorization: `Token ${JWT}` });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { principal: "Token-user" });
    }
    assert.deepEqual(calls, [
      ["Token", `Token ${JWT}`],
      ["Token", `Token ${JWT}`],
    ]);
  });

  for (const value of ["Token bad", `Bearer ${JWT}`, "Token", JWT]) {
    it(`bad credentials on an optional operation are 401: ${value.slice(0, 12)}`, async () => {
      const response = await get("/articles", { authorization: value });
      assert.equal(response.statusCode, 401);
      assert.match(String(response.headers["content-type"]), /^application\/problem\+json/);
      assert.deepEqual(calls, [["Token", value]]);
    });
  }

  it("a required scheme is still required", async () => {
    const response = await get("/user");
    assert.equal(response.statusCode, 401);
    assert.ok(response.headers["www-authenticate"]);
  });

  it("alternatives take the first requirement whose credentials are there", async () => {
    assert.deepEqual((await get("/search")).json(), { principal: null });
    assert.deepEqual((await get("/search", { authorization: "Bearer good" })).json(), { principal: "bearer-user" });
    assert.deepEqual((await get("/search?api_key=k")).json(), { principal: "key-user" });
    assert.deepEqual(calls, [
      ["bearer", "good"],
      ["key", "k"],
    ]);
  });

  for (const [name, url, headers] of [
    ["a bearer scheme without its token", "/search", { authorization: "Bearer" }],
    ["a prefix no scheme of the operation reads", "/search", { authorization: "Token t" }],
    ["another scheme's credentials", "/search", { authorization: "Basic dTpw" }],
    ["a bad token", "/search", { authorization: "Bearer bad" }],
  ] as const) {
    it(`credentials that are sent but unusable are 401, not anonymous: ${name}`, async () => {
      const response = await get(url, headers);
      assert.equal(response.statusCode, 401, response.body);
    });
  }

  it("a repeated API key header is its lines joined, as Node's HTTP layer reads it", async () => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const headers = ["Host", `127.0.0.1:${port}`, "X-Api-Key", "k", "X-Api-Key", "other"];
      httpRequest({ host: "127.0.0.1", port, path: "/keyed", headers }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
        .on("error", reject)
        .end();
    });
    assert.equal(status, 401);
    assert.deepEqual(calls, [["header", "k, other"]]);
  });
});
