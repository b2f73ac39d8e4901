/**
 * The kit's refusals in the shapes the contract documents, as contract.json's `errors` says (see refusals).
 * The same cases as python-impl/tests/runtime/test_refusals.py.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance, FastifyReply } from "fastify";

import { formats } from "../../src/generated/formats.js";
import { ContractError } from "../../kit/src/app.js";
import type { Contract } from "../../kit/src/contract.js";
import { NotImplementedOperation } from "../../kit/src/problem.js";
import { type Refusal, byLocation, messages, problemJson, summary } from "../../kit/src/refusals.js";
import { kitApp } from "./kit-app.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      parameters: [{name: limit, in: query, schema: {type: integer, maximum: 10}}]
      responses:
        "200": {description: ok}
    post:
      operationId: addItem
      security: [{key: []}]
      requestBody:
        required: true
        content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}
      responses:
        "204": {description: ok}
        "401": {description: No key., content: {}}
        "422":
          description: Invalid.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Errors"}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
  schemas:
    Errors:
      type: object
      required: [errors]
      properties: {errors: {type: object, required: [body], properties: {body: {type: array, items: {type: string}}}}}
`;

const contract: Contract = {
  title: "t",
  version: "1",
  securitySchemes: { key: { handler: "key", type: "apiKey", scheme: null, in: "header", param: "X-Key" } },
  errorBodies: { Errors: "errors" },
  operations: [
    { id: "listItems", handler: "listItems", method: "GET", path: "/items", security: [], body: null },
    {
      id: "addItem",
      handler: "addItem",
      method: "POST",
      path: "/items",
      security: [["key"]],
      body: { required: true, mediaTypes: ["application/json"] },
    },
  ],
};

const contractPath = contractOf(SPEC);
const service = {
  async listItems(_request: unknown, reply: FastifyReply) {
    return reply.code(200).send();
  },
  async addItem(_request: unknown, reply: FastifyReply) {
    return reply.code(204).send();
  },
};
const securityHandlers = { key: async (credential: string) => credential };

function build(errors: (refusal: Refusal) => unknown): Promise<FastifyInstance> {
  return kitApp({ contractPath, contract, formats, service, securityHandlers, errorBodies: { errors } });
}

const errorsBody = (refusal: Refusal) => ({ errors: { body: messages(refusal) } });
const PROBLEM = "application/problem+json; charset=utf-8";

describe("refusals in the documented shapes", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build(errorsBody);
  });
  after(async () => app.close());

  it("answers a validation failure with the documented 422, built by its hook", async () => {
    const answer = await app.inject({ method: "POST", url: "/items", payload: {}, headers: { "x-key": "k" } });
    assert.equal(answer.statusCode, 422);
    assert.equal(answer.headers["content-type"], "application/json; charset=utf-8");
    const body = answer.json<{ errors: { body: string[] } }>();
    assert.deepEqual(Object.keys(body), ["errors"]);
    assert.deepEqual(
      body.errors.body.map((message) => message.split(":", 1)[0]),
      ["body"],
    );
  });

  it("answers malformed JSON as a validation failure too", async () => {
    const answer = await app.inject({
      method: "POST",
      url: "/items",
      payload: "{",
      headers: { "x-key": "k", "content-type": "application/json" },
    });
    assert.equal(answer.statusCode, 422);
    assert.ok(answer.json<{ errors: { body: string[] } }>().errors.body[0]?.startsWith("body: "));
  });

  it("answers a documented response without content without a body, and keeps the challenge", async () => {
    const answer = await app.inject({ method: "POST", url: "/items", payload: {} });
    assert.deepEqual([answer.statusCode, answer.body], [401, ""]);
    assert.equal(answer.headers["content-type"], undefined);
    assert.equal(answer.headers["www-authenticate"], "Bearer");
  });

  it("keeps problem+json for what the operation does not document", async () => {
    const wrongType = await app.inject({
      method: "POST",
      url: "/items",
      payload: "x",
      headers: { "x-key": "k", "content-type": "text/plain" },
    });
    assert.deepEqual([wrongType.statusCode, wrongType.headers["content-type"]], [415, PROBLEM]);
    const badQuery = await app.inject({ method: "GET", url: "/items?limit=11" });
    assert.equal(badQuery.statusCode, 400);
    assert.equal(badQuery.json<{ errors: { location: string }[] }>().errors[0]?.location, "query/limit");
    const wrongMethod = await app.inject({ method: "DELETE", url: "/items" });
    assert.deepEqual(
      [wrongMethod.statusCode, wrongMethod.headers["allow"], wrongMethod.headers["content-type"]],
      [405, "GET, POST", PROBLEM],
    );
  });
});

describe("hooks that cannot answer", () => {
  it("answers the problem a hook refuses with", async () => {
    const app = await build(() => {
      throw new NotImplementedOperation();
    });
    const answer = await app.inject({ method: "POST", url: "/items", payload: {}, headers: { "x-key": "k" } });
    assert.deepEqual([answer.statusCode, answer.headers["content-type"]], [501, PROBLEM]);
    await app.close();
  });

  it("answers a hook that returns nothing with a 500 that leaks nothing", async () => {
    const app = await build(() => undefined);
    const answer = await app.inject({ method: "POST", url: "/items", payload: {}, headers: { "x-key": "k" } });
    assert.equal(answer.statusCode, 500);
    assert.equal(answer.json<{ detail: string }>().detail, "An unexpected error occurred.");
    await app.close();
  });

  it("refuses to start without a hook for a shape, naming it", async () => {
    await assert.rejects(
      kitApp({ contractPath, contract, formats, service, securityHandlers, errorBodies: {} }),
      (error: unknown) => error instanceof ContractError && /ErrorBodies for: Errors/.test(error.message),
    );
  });
});

describe("the helpers", () => {
  it("say the same as the Python runtime's", () => {
    const refusal: Refusal = {
      status: 422,
      title: "Unprocessable Content",
      detail: "Bad.",
      instance: "/x",
      errors: [{ location: "body/a", message: "is wrong" }],
    };
    assert.deepEqual(messages(refusal), ["body/a: is wrong"]);
    assert.equal(summary(refusal), "Bad. body/a: is wrong");
    assert.deepEqual(byLocation(refusal), { "body/a": ["is wrong"] });
    assert.deepEqual(problemJson(refusal), {
      type: "about:blank",
      title: "Unprocessable Content",
      status: 422,
      detail: "Bad.",
      instance: "/x",
      errors: [{ location: "body/a", message: "is wrong" }],
    });
    const bare: Refusal = { status: 401, title: "Unauthorized", detail: "No key.", instance: "/x", errors: [] };
    assert.deepEqual([messages(bare), summary(bare), byLocation(bare)], [["No key."], "No key.", { body: ["No key."] }]);
  });
});
