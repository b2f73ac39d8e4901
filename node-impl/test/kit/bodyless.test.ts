/**
 * Operations that declare no request body, called the way real clients call them: `Content-Type: application/json`
 * with nothing after it (Fastify's own parser answers that with 400 FST_ERR_CTP_EMPTY_JSON_BODY), or a body anyway
 * (the RealWorld Postman suite sends both). The body is read, held to the size limit, and dropped: it is never parsed
 * or validated and never reaches the handler. The same cases as python-impl/tests/runtime/test_bodyless.py.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance, FastifyReply, FastifyRequest, InjectOptions } from "fastify";

import { formats } from "../../src/generated/formats.js";
import type { Contract, OperationInfo } from "../../kit/src/contract.js";
import { kitApp } from "./kit-app.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.1.0
info: {title: bodyless, version: "1"}
paths:
  /articles/{slug}/favorite:
    parameters: [{name: slug, in: path, required: true, schema: {type: string, maxLength: 8}}]
    post: {responses: {"200": {description: ok}}}
    delete: {responses: {"200": {description: ok}}}
  /tags:
    get: {responses: {"200": {description: ok}}}
  /notes:
    post:
      requestBody:
        required: true
        content:
          application/json: {schema: {type: object}}
          text/plain: {schema: {type: string}}
      responses: {"200": {description: ok}}
`;
const LIMIT = 65536;
const FAVORITE = "/articles/a/favorite";

function operation(method: OperationInfo["method"], path: string, body: OperationInfo["body"] = null): OperationInfo {
  return { id: `${method} ${path}`, handler: `${method} ${path}`, method, path, security: [], body };
}

const contract: Contract = {
  title: "bodyless",
  version: "1",
  securitySchemes: {},
  operations: [
    operation("POST", "/articles/{slug}/favorite"),
    operation("DELETE", "/articles/{slug}/favorite"),
    operation("GET", "/tags"),
    operation("POST", "/notes", { required: true, mediaTypes: ["application/json", "text/plain"] }),
  ],
};

async function echo(request: FastifyRequest, reply: FastifyReply) {
  const body: unknown = request.body;
  return reply.send({ params: request.params, body: Buffer.isBuffer(body) ? `bytes:${body.toString()}` : (body ?? null) });
}

const JSON_TYPE = { "content-type": "application/json" };
const SENT: [name: string, headers: Record<string, string>, payload: string][] = [
  ["application/json and no body", JSON_TYPE, ""],
  ["a JSON body", JSON_TYPE, '{"user": {"email": "a@example.com"}}'],
  ["malformed JSON", JSON_TYPE, '{"user": '],
  ["another operation's media type", { "content-type": "text/plain" }, "on"],
  ["an undeclared media type", { "content-type": "application/xml" }, "<a/>"],
  ["no Content-Type", {}, "anything"],
  ["exactly the size limit", JSON_TYPE, "a".repeat(LIMIT)],
];

describe("a body sent to an operation that declares none", () => {
  let app: FastifyInstance;
  before(async () => {
    const service = Object.fromEntries(contract.operations.map((op) => [op.handler, echo]));
    app = await kitApp({ contractPath: contractOf(SPEC), contract, formats, service, securityHandlers: {}, errorBodies: {} });
    await app.ready();
  });
  after(() => app.close());

  const send = (options: InjectOptions) => app.inject(options);

  for (const [method, url] of [
    ["POST", FAVORITE],
    ["DELETE", FAVORITE],
    ["GET", "/tags"],
  ] as const) {
    for (const [name, headers, payload] of SENT) {
      it(`${method} ${url}, ${name}: dropped`, async () => {
        const response = await send({ method, url, headers, payload });
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.json<{ body: unknown }>().body, null);
      });
    }
  }

  it("a chunked body is dropped too", async () => {
    const payload = Readable.from([Buffer.from('{"a":'), Buffer.from(" 1}")]);
    const response = await send({ method: "POST", url: FAVORITE, headers: { ...JSON_TYPE, "transfer-encoding": "chunked" }, payload });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json<{ body: unknown }>().body, null);
  });

  for (const method of ["POST", "DELETE"] as const) {
    for (const headers of [JSON_TYPE, { "content-type": "application/xml" }, {}] as Record<string, string>[]) {
      it(`${method}: a dropped body is held to the size limit (${headers["content-type"] ?? "no Content-Type"})`, async () => {
        const response = await send({ method, url: FAVORITE, headers, payload: "a".repeat(LIMIT + 1) });
        assert.equal(response.statusCode, 413);
        assert.match(String(response.headers["content-type"]), /^application\/problem\+json/);
        assert.equal(response.json<{ detail: string }>().detail, `The request body is larger than ${LIMIT} bytes.`);
      });
    }
  }

  it("parameters are validated whatever the body", async () => {
    const response = await send({ method: "POST", url: "/articles/far-too-long/favorite", headers: JSON_TYPE, payload: "{}" });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(
      response.json<{ errors: { location: string }[] }>().errors.map((error) => error.location),
      ["path/slug"],
    );
  });

  it("a declared JSON body stays required", async () => {
    const missing = await send({ method: "POST", url: "/notes", headers: JSON_TYPE, payload: "" });
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(missing.json<{ errors: unknown }>().errors, [{ location: "body", message: "is required" }]);
    const sent = await send({ method: "POST", url: "/notes", headers: JSON_TYPE, payload: '{"a": 1}' });
    assert.equal(sent.statusCode, 200);
    assert.deepEqual(sent.json<{ body: unknown }>().body, { a: 1 });
  });
});
