/**
 * The kit on a spec full of real-world trouble (codegen/tests/data has one fixture per class; this one spec holds
 * those the fixtures only reach with 501s): what the handler receives, and what the kit refuses, with its reason.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { formats } from "../../src/generated/formats.js";
import { ContractError } from "../../kit/src/app.js";
import type { Contract, OperationInfo } from "../../kit/src/contract.js";
import { invalidCredentials } from "../../kit/src/problem.js";
import { kitApp } from "./kit-app.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.0.3
info: {title: Trouble, version: "1"}
paths:
  /v1/jobs/{name}:cancel:
    post:
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: Cancelled.}}
  /v1/jobs/{job-id}:
    parameters: [{name: job-id, in: path, required: true, schema: {type: integer}}]
    get: {responses: {"200": {description: The job.}}}
    head: {responses: {"200": {description: It exists.}}}
  /v1/jobs/{jobId}/logs:
    get:
      parameters: [{name: jobId, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema: {properties: {since: {type: integer, format: int64}, limit: {type: integer, default: 10}, tag: {type: string, default: null}}}
      responses: {"200": {description: Logs.}}
  /v1/items#all:
    get: {responses: {"200": {description: A path with a hash in it.}}}
  /files/*.txt:
    get: {responses: {"200": {description: An asterisk and not a wildcard.}}}
  /search:
    get:
      parameters:
        - {name: filter, in: query, style: deepObject, schema: {type: object, properties: {color: {type: string}, size: {type: integer}}}}
        - {name: point, in: query, explode: false, schema: {type: object, properties: {x: {type: number}, y: {type: number}}}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: slug, in: query, schema: {type: string, pattern: "^[\\\\w.\\\\_]+$"}}
        - {name: session, in: cookie, schema: {type: integer}}
        - {name: X-Trace, in: header, schema: {type: integer}}
      responses: {"200": {description: Found.}}
  /forms:
    post:
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties: {name: {type: string}, count: {type: integer}, tags: {type: array, items: {type: integer}}}
          application/octet-stream: {}
      responses: {"200": {description: Stored.}}
  /readings:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [value]
              properties:
                value: {type: number, minimum: 0, maximum: 100, exclusiveMaximum: true}
                note: {nullable: true}
                label: {type: string, nullable: true}
      responses:
        "200":
          description: A tree, to serialise a recursive schema.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Node"}
  /trace:
    trace: {responses: {"200": {description: Traced.}}}
  /secret:
    get:
      security: [{cookieKey: []}]
      responses: {"200": {description: The secret.}}
components:
  securitySchemes:
    cookieKey: {type: apiKey, in: cookie, name: sid}
  schemas:
    Node:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: "#/components/schemas/Node"}}
`;

function operation(
  method: OperationInfo["method"],
  path: string,
  body: OperationInfo["body"] = null,
  security: string[][] = [],
): OperationInfo {
  return { id: `${method} ${path}`, handler: `${method} ${path}`, method, path, security, body };
}

const contract: Contract = {
  title: "Trouble",
  version: "1",
  securitySchemes: { cookieKey: { handler: "cookieKey", type: "apiKey", scheme: null, in: "cookie", param: "sid" } },
  operations: [
    operation("POST", "/v1/jobs/{name}:cancel"),
    operation("GET", "/v1/jobs/{job-id}"),
    operation("HEAD", "/v1/jobs/{job-id}"),
    operation("GET", "/v1/jobs/{jobId}/logs", { required: false, mediaTypes: ["application/json"] }),
    operation("GET", "/v1/items#all"),
    operation("GET", "/files/*.txt"),
    operation("GET", "/search"),
    operation("POST", "/forms", { required: true, mediaTypes: ["application/x-www-form-urlencoded", "application/octet-stream"] }),
    operation("POST", "/readings", { required: true, mediaTypes: ["application/json"] }),
    operation("TRACE", "/trace"),
    operation("GET", "/secret", null, [["cookieKey"]]),
  ],
};

/** Answers with what the kit handed over: the spec's parameter names and converted values, the body, the principal. */
async function echo(request: FastifyRequest, reply: FastifyReply) {
  const body: unknown = request.body;
  return reply.code(200).send({
    params: request.params,
    query: request.query,
    trace: request.headers["x-trace"] ?? null,
    principal: request.principal,
    body: Buffer.isBuffer(body) ? `bytes:${body.toString()}` : (body ?? null),
  });
}

function build(specText: string, spec: Contract = contract): Promise<FastifyInstance> {
  const service: Record<string, (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>> = Object.fromEntries(
    spec.operations.map((op) => [op.handler, echo]),
  );
  service["POST /readings"] = async () => ({ name: "root", children: [{ name: "leaf", children: [] }], dropped: true });
  const securityHandlers = {
    async cookieKey(credential: string) {
      if (credential !== "letmein") throw invalidCredentials();
      return credential;
    },
  };
  return kitApp({ contractPath: contractOf(specText), contract: spec, formats, service, securityHandlers, errorBodies: {} });
}

describe("the kit on real-world spec trouble", () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build(SPEC);
    await app.ready();
  });
  after(() => app.close());

  const body = (response: { json: () => unknown }) => response.json() as Record<string, unknown>;

  it("routes `:verb` suffixes and `#` in paths, with the spec's parameter names", async () => {
    const cancelled = await app.inject({ method: "POST", url: "/v1/jobs/a%3Ab:cancel" });
    assert.equal(cancelled.statusCode, 200);
    assert.deepEqual(body(cancelled)["params"], { name: "a:b" });
    assert.equal((await app.inject("/v1/items%23all")).statusCode, 200);
    assert.equal((await app.inject("/v1/items")).statusCode, 404);
    assert.equal((await app.inject("/files/*.txt")).statusCode, 200);
    assert.equal((await app.inject("/files/a.txt")).statusCode, 404);
  });

  it("serves one template with different parameter names, and HEAD beside GET without adding it to others", async () => {
    assert.deepEqual(body(await app.inject("/v1/jobs/42"))["params"], { "job-id": 42 });
    assert.deepEqual(body(await app.inject("/v1/jobs/x/logs"))["params"], { jobId: "x" });
    const head = await app.inject({ method: "HEAD", url: "/v1/jobs/42" });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, "");
    const wrong = await app.inject({ method: "DELETE", url: "/v1/jobs/42" });
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.headers["allow"], "GET, HEAD");
    assert.deepEqual(body(await app.inject("/v1/jobs/x"))["errors"], [{ location: "path/job-id", message: "must be integer" }]);
  });

  it("reads and validates a request body on GET, then fills in its defaults (valid or not)", async () => {
    const headers = { "content-type": "application/json" };
    const read = await app.inject({ method: "GET", url: "/v1/jobs/1/logs", headers, payload: '{"since":5}' });
    assert.deepEqual(body(read)["body"], { since: 5, limit: 10, tag: null });
    const bad = await app.inject({ method: "GET", url: "/v1/jobs/1/logs", headers, payload: '{"since":"x"}' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(body(bad)["errors"], [{ location: "body/since", message: "must be integer" }]);
  });

  it("reads deepObject, form object, array, cookie and header parameters, converted like every parameter", async () => {
    const response = await app.inject({
      url: "/search?filter[color]=red&filter[size]=3&point=x,1,y,2.5&tags=a&tags=b&slug=a_b.c",
      headers: { cookie: "other=1; session=7", "x-trace": "9" },
    });
    assert.equal(response.statusCode, 200, response.body);
    const query = body(response)["query"] as Record<string, unknown>;
    assert.deepEqual(query["filter"], { color: "red", size: 3 });
    assert.deepEqual(query["point"], { x: 1, y: 2.5 });
    assert.deepEqual(query["tags"], ["a", "b"]);
    assert.equal(body(response)["trace"], 9);
    const bad = await app.inject({ url: "/search?filter[size]=big&point=x,a&slug=a-b", headers: { cookie: "session=abc" } });
    assert.deepEqual(
      (body(bad)["errors"] as { location: string }[]).map((error) => error.location),
      ["query/filter/size", "query/point/x", "query/slug", "cookie/session"],
    );
  });

  it("validates a urlencoded form as the object its schema describes and hands that object over; other media raw", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const stored = await app.inject({ method: "POST", url: "/forms", headers: form, payload: "name=a+b&count=3&tags=1&tags=2" });
    assert.deepEqual(body(stored)["body"], { name: "a b", count: 3, tags: [1, 2] });
    const bad = await app.inject({ method: "POST", url: "/forms", headers: form, payload: "count=three" });
    assert.deepEqual(body(bad)["errors"], [{ location: "body/count", message: "must be integer" }]);
    const raw = await app.inject({
      method: "POST",
      url: "/forms",
      headers: { "content-type": "application/octet-stream" },
      payload: "\x01bytes",
    });
    assert.equal(body(raw)["body"], "bytes:\x01bytes");
    const text = await app.inject({ method: "POST", url: "/forms", headers: { "content-type": "text/plain" }, payload: "x" });
    assert.equal(text.statusCode, 415);
    assert.equal(body(text)["detail"], "The request body must be application/octet-stream or application/x-www-form-urlencoded.");
    // Read by its own media type's rules whatever the request before sent.
    const again = await app.inject({
      method: "POST",
      url: "/forms",
      headers: { "content-type": "Application/X-WWW-Form-Urlencoded; charset=utf-8" },
      payload: "count=4",
    });
    assert.deepEqual(body(again)["body"], { count: 4 });
    const rawAgain = await app.inject({
      method: "POST",
      url: "/forms",
      headers: { "content-type": "application/octet-stream" },
      payload: "count=4",
    });
    assert.equal(body(rawAgain)["body"], "bytes:count=4");
  });

  it("reads OpenAPI 3.0 schemas as 3.0 means them, and serialises a recursive response", async () => {
    const post = (payload: object) => app.inject({ method: "POST", url: "/readings", payload });
    assert.deepEqual(body(await post({ value: 100 }))["errors"], [{ location: "body/value", message: "must be < 100" }]);
    const ok = await post({ value: 99.5, note: null, label: null });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { name: "root", children: [{ name: "leaf", children: [] }] });
  });

  it("routes TRACE operations, which fastify-openapi-glue skips", async () => {
    assert.equal((await app.inject({ method: "TRACE", url: "/trace" })).statusCode, 200);
  });

  it("authenticates an API key sent in a cookie", async () => {
    assert.equal((await app.inject("/secret")).statusCode, 401);
    assert.equal((await app.inject({ url: "/secret", headers: { cookie: "sid=wrong" } })).statusCode, 401);
    assert.equal(body(await app.inject({ url: "/secret", headers: { cookie: 'sid="letmein"' } }))["principal"], "letmein");
  });

  it("refuses two operations on one route, naming both", async () => {
    const twice = { ...contract, operations: [...contract.operations, operation("GET", "/v1/jobs/{id}")] };
    await assert.rejects(
      build(SPEC, twice),
      new ContractError(
        "/paths/~1v1~1jobs~1{id}/get: the same route as /paths/~1v1~1jobs~1{job-id}/get (path templates that differ only in parameter names are one path)",
      ),
    );
  });

  it("refuses a schema it cannot use, naming where it is and why", async () => {
    const bad = SPEC.replace('pattern: "^[\\\\w.\\\\_]+$"', 'pattern: "(unclosed"');
    await assert.rejects(build(bad), (error: unknown) => {
      assert.ok(error instanceof ContractError);
      assert.match(error.message, /^\/paths\/~1search\/get\/parameters\/3\/schema: the schema cannot be used: Invalid regular expression/);
      return true;
    });
  });
});
