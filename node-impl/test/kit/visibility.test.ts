/**
 * readOnly and writeOnly: a readOnly property a client sends is validated, then removed before the handler sees it; a
 * writeOnly property is removed from every response the schema documents, whatever the handler returned.
 * The same cases as python-impl/tests/runtime/test_visibility.py.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, beforeEach, describe, it } from "node:test";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { formats } from "../../src/generated/formats.js";
import { ContractError } from "../../kit/src/app.js";
import type { Contract, OperationInfo } from "../../kit/src/contract.js";
import { kitApp } from "./kit-app.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.1.0
info: {title: visibility, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
      responses:
        "201": {description: Created., content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}}
  /accounts:
    get:
      responses:
        "200":
          description: Every account.
          content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Account"}}}}
    post:
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Account"}}}
      responses:
        "201": {description: Created., content: {application/json: {schema: {$ref: "#/components/schemas/Account"}}}}
        "4XX": {description: Refused., content: {application/json: {schema: {$ref: "#/components/schemas/Account"}}}}
        "204": {description: Nothing.}
components:
  schemas:
    Pet:
      type: object
      additionalProperties: false
      required: [id, name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        tags:
          type: array
          items:
            type: object
            properties: {id: {type: integer, readOnly: true}, label: {type: string}}
    Account:
      type: object
      additionalProperties: true
      required: [id, email, password]
      properties:
        id: {type: string, readOnly: true}
        email: {type: string}
        password: {type: string, writeOnly: true}
        keys:
          type: array
          prefixItems: [{type: object, properties: {secret: {type: string, writeOnly: true}}}]
`;

const SECRET_ACCOUNT = {
  id: "a1",
  email: "a@example.com",
  password: "hunter22",
  extra: { password: "not the schema's" },
  keys: [{ secret: "s", name: "first" }, { secret: "kept: past the prefix" }],
};
const SHOWN_ACCOUNT = {
  id: "a1",
  email: "a@example.com",
  extra: { password: "not the schema's" },
  keys: [{ name: "first" }, { secret: "kept: past the prefix" }],
};

function operation(id: string, method: "GET" | "POST", path: string): OperationInfo {
  return {
    id,
    handler: id,
    method,
    path,
    security: [],
    body: method === "POST" ? { required: true, mediaTypes: ["application/json"] } : null,
  };
}

const contract: Contract = {
  title: "visibility",
  version: "1",
  securitySchemes: {},
  // The spec's 4XX is an Account: the kit's own refusals answer in that shape.
  errorBodies: { Account: "account" },
  operations: [
    operation("createPet", "POST", "/pets"),
    operation("createAccount", "POST", "/accounts"),
    operation("listAccounts", "GET", "/accounts"),
  ],
};

const bodies: unknown[] = [];
let status = 201;

const service = {
  async createPet(request: FastifyRequest, reply: FastifyReply) {
    bodies.push(request.body);
    return reply.code(201).send({ id: "p1", ...(request.body as object) });
  },
  async createAccount(request: FastifyRequest, reply: FastifyReply) {
    bodies.push(request.body);
    if (status === 204) return reply.code(204).send();
    return reply.code(status).send(SECRET_ACCOUNT);
  },
  async listAccounts(_request: FastifyRequest, reply: FastifyReply) {
    return reply.code(200).send([SECRET_ACCOUNT, SECRET_ACCOUNT]);
  },
};

function refusedAccount(): unknown {
  return { email: "refused@example.com" };
}

function build(contractPath: string): Promise<FastifyInstance> {
  return kitApp({ contractPath, contract, formats, service, securityHandlers: {}, errorBodies: { account: refusedAccount } });
}

describe("readOnly and writeOnly", () => {
  let app: FastifyInstance;
  const contractPath = contractOf(SPEC);
  before(async () => {
    app = await build(contractPath);
    await app.ready();
  });
  after(() => app.close());
  beforeEach(() => {
    bodies.length = 0;
    status = 201;
  });

  it("a readOnly property is not required in a request", async () => {
    const answer = await app.inject({ method: "POST", url: "/pets", payload: { name: "Rex" } });
    assert.equal(answer.statusCode, 201, answer.body);
    assert.deepEqual(bodies, [{ name: "Rex" }]);
  });

  it("one sent anyway is removed before the handler, at every depth", async () => {
    const echoed = {
      id: "p1",
      name: "Rex",
      tags: [
        { id: 1, label: "good" },
        { label: "calm", id: 2 },
      ],
    };
    const answer = await app.inject({ method: "POST", url: "/pets", payload: echoed });
    assert.equal(answer.statusCode, 201, answer.body);
    assert.deepEqual(bodies, [{ name: "Rex", tags: [{ label: "good" }, { label: "calm" }] }]);
  });

  it("one sent anyway is still checked", async () => {
    const answer = await app.inject({ method: "POST", url: "/pets", payload: { id: 7, name: "Rex" } });
    assert.equal(answer.statusCode, 400);
    assert.deepEqual(
      answer.json<{ errors: { location: string }[] }>().errors.map((e) => e.location),
      ["body/id"],
    );
    assert.deepEqual(bodies, []);
  });

  it("a writeOnly property is required in a request", async () => {
    const answer = await app.inject({ method: "POST", url: "/accounts", payload: { email: "a@example.com" } });
    assert.equal(answer.statusCode, 400);
    assert.match(answer.json<{ errors: { message: string }[] }>().errors[0]?.message ?? "", /password/);
    const accepted = await app.inject({ method: "POST", url: "/accounts", payload: { email: "a@example.com", password: "hunter22" } });
    assert.equal(accepted.statusCode, 201, accepted.body);
    assert.deepEqual(bodies, [{ email: "a@example.com", password: "hunter22" }]);
  });

  for (const code of [201, 409]) {
    it(`a writeOnly property never leaves in a ${code} response (its status or class); another schema's stays`, async () => {
      status = code;
      const answer = await app.inject({ method: "POST", url: "/accounts", payload: { email: "a@example.com", password: "hunter22" } });
      assert.equal(answer.statusCode, code);
      assert.deepEqual(answer.json(), SHOWN_ACCOUNT);
      assert.equal(answer.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(SECRET_ACCOUNT.password, "hunter22", "the handler's own object is not changed");
    });
  }

  it("nor in the items of an array", async () => {
    const answer = await app.inject({ method: "GET", url: "/accounts" });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.json(), [SHOWN_ACCOUNT, SHOWN_ACCOUNT]);
  });

  it("a bodiless answer stays so", async () => {
    status = 204;
    const answer = await app.inject({ method: "POST", url: "/accounts", payload: { email: "a@example.com", password: "hunter22" } });
    assert.equal(answer.statusCode, 204);
    assert.equal(answer.body, "");
  });

  it("a malformed visibility section stops the start", async () => {
    const document = JSON.parse(readFileSync(contractPath, "utf8")) as {
      visibility: { requests: Record<string, Record<string, Record<string, number>>> };
    };
    const pets = document.visibility.requests["/pets"]?.["post"];
    assert.ok(pets);
    pets["application/json"] = 99;
    const broken = contractPath.replace(/contract\.json$/, "broken.json");
    writeFileSync(broken, JSON.stringify(document));
    await assert.rejects(build(broken), (error: unknown) => error instanceof ContractError && /names no plan/.test(error.message));
  });
});
