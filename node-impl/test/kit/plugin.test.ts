/**
 * The kit as a Fastify plugin on the user's own instance: the user's plugins (registered before it, as Fastify has
 * them) apply to the contract's routes, the user's Fastify options hold, the user's hooks run beside the kit's, and
 * the user's own routes keep Fastify's defaults.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";

import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";

import { ContractError, PLUGIN_TIMEOUT, type TwinapiOptions, fastifyOptions, twinapi } from "../../kit/src/app.js";
import type { Contract } from "../../kit/src/contract.js";
import { DEFAULT_LIMITS } from "../../kit/src/env.js";
import { Problem, invalidCredentials } from "../../kit/src/problem.js";
import { RequestLogger } from "../../kit/src/request-context.js";
import { contractOf } from "../helpers.js";

const SPEC = `
openapi: 3.1.0
info: {title: Plugins, version: "1"}
paths:
  /health:
    get:
      operationId: getHealth
      responses:
        "200":
          description: Up.
          content: {application/json: {schema: {type: object, required: [ip], properties: {ip: {type: string}}}}}
  /items:
    post:
      operationId: createItem
      security: [{key: []}]
      requestBody:
        required: true
        content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}
      responses:
        "201":
          description: Created.
          content: {application/json: {schema: {type: object, properties: {name: {type: string}, by: {type: string}}}}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
`;

const contract = {
  title: "Plugins",
  version: "1",
  securitySchemes: { key: { handler: "key", type: "apiKey", scheme: null, in: "header", param: "X-Key" } },
  operations: [
    { id: "getHealth", handler: "getHealth", method: "GET", path: "/health", security: [], body: null },
    {
      id: "createItem",
      handler: "createItem",
      method: "POST",
      path: "/items",
      security: [["key"]],
      body: { required: true, mediaTypes: ["application/json"] },
    },
  ],
} as const satisfies Contract;

const contractPath = contractOf(SPEC);

/** The kit's options, typed as a user types them: tsc names a missing method or a principal of another type. */
const options: TwinapiOptions<string, typeof contract> = {
  contractPath,
  contract,
  formats: {},
  service: {
    async getHealth(request: FastifyRequest) {
      return { ip: request.ip };
    },
    async createItem(request: FastifyRequest<{ Body: { name: string } }> & { principal: string }, reply: FastifyReply) {
      return reply.code(201).send({ name: request.body.name, by: request.principal });
    },
  },
  securityHandlers: {
    async key(credential) {
      if (credential !== "secret") throw invalidCredentials("The key is not valid.");
      return "owner";
    },
  },
  errorBodies: {},
};

/** Problem answers carry the media type the contract fixes. */
const PROBLEM = "application/problem+json; charset=utf-8";

async function started(app: FastifyInstance, kit: typeof options = options): Promise<FastifyInstance> {
  await app.register(twinapi, kit);
  await app.ready();
  return app;
}

function lineCollector(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

describe("the user's plugins on the contract's routes", () => {
  it("@fastify/cors: CORS headers on a contract route, its problems and its preflight", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    await app.register(cors, { origin: "https://app.example", exposedHeaders: ["x-request-id"] });
    await started(app);
    const origin = { origin: "https://app.example" };

    const health = await app.inject({ url: "/health", headers: origin });
    assert.equal(health.statusCode, 200);
    assert.equal(health.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(health.headers["access-control-expose-headers"], "x-request-id");

    const unauthorised = await app.inject({ method: "POST", url: "/items", headers: origin, payload: { name: "x" } });
    assert.equal(unauthorised.statusCode, 401);
    assert.equal(unauthorised.headers["content-type"], PROBLEM);
    assert.equal(unauthorised.headers["access-control-allow-origin"], "https://app.example");

    const preflight = await app.inject({
      method: "OPTIONS",
      url: "/items",
      headers: { ...origin, "access-control-request-method": "POST", "access-control-request-headers": "x-key" },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(preflight.headers["access-control-allow-headers"], "x-key");
    await app.close();
  });

  it("@fastify/rate-limit: a 429 problem after the limit, counted before the credentials are checked", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    await app.register(rateLimit, { max: 2, timeWindow: "1 minute" });
    await started(app);

    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await app.inject({ method: "POST", url: "/items", payload: { name: "x" } }));
    assert.deepEqual(
      answers.map((answer) => answer.statusCode),
      [401, 401, 429],
    );
    assert.equal(answers[0]?.headers["x-ratelimit-limit"], "2");
    assert.equal(answers[1]?.headers["x-ratelimit-remaining"], "0");
    const limited = answers[2];
    assert.equal(limited?.headers["content-type"], PROBLEM);
    assert.equal(limited?.headers["retry-after"], "60");
    assert.match(String(limited?.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...limited?.json<Record<string, unknown>>(), detail: undefined },
      { type: "about:blank", title: "Too Many Requests", status: 429, detail: undefined, instance: "/items" },
    );
    // The plugin counts a client across routes, the contract's as any other.
    assert.equal((await app.inject("/health")).statusCode, 429);
    await app.close();
  });

  it("@fastify/helmet: its headers on contract answers, problems and the kit's 404 alike", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    await app.register(helmet);
    await started(app);
    for (const [url, status] of [
      ["/health", 200],
      ["/nowhere", 404],
    ] as const) {
      const response = await app.inject(url);
      assert.equal(response.statusCode, status, url);
      assert.equal(response.headers["x-content-type-options"], "nosniff", url);
      assert.equal(response.headers["x-frame-options"], "SAMEORIGIN", url);
      assert.match(String(response.headers["strict-transport-security"]), /max-age=\d+/, url);
    }
    await app.close();
  });
});

describe("the user's Fastify options", () => {
  it("bodyLimit: the instance's governs the user's routes, the kit's (or its limits option) the contract's", async () => {
    const app = Fastify({ ...fastifyOptions({ logLevel: "error" }), bodyLimit: 100 });
    app.post("/echo", async (request) => request.body);
    await started(app);
    const big = { name: "x".repeat(200) };
    assert.equal((await app.inject({ method: "POST", url: "/echo", payload: big })).statusCode, 413);
    const created = await app.inject({ method: "POST", url: "/items", headers: { "x-key": "secret" }, payload: big });
    assert.equal(created.statusCode, 201);
    await app.close();

    const strict = await started(Fastify(fastifyOptions({ logLevel: "error" })), {
      ...options,
      limits: { ...DEFAULT_LIMITS, maxBodyBytes: 50 },
    });
    const refused = await strict.inject({ method: "POST", url: "/items", headers: { "x-key": "secret" }, payload: big });
    assert.equal(refused.statusCode, 413);
    assert.equal(refused.headers["content-type"], PROBLEM);
    assert.equal(refused.json<Record<string, unknown>>()["detail"], "The request body is larger than 50 bytes.");
    await strict.close();
  });

  it("logger: the user's own logger takes the kit's access lines and the handlers' logs", async () => {
    const { stream, lines } = lineCollector();
    const app = Fastify({ ...fastifyOptions(), logger: { level: "info", stream } });
    await started(app);
    const response = await app.inject({ url: "/health", headers: { "x-request-id": "trace-1" } });
    assert.equal(response.headers["x-request-id"], "trace-1");
    const access = lines.find((line) => line["msg"] === "request");
    // Pino's own defaults (numeric levels, pid and hostname), not the kit's format: the logger is the user's.
    assert.equal(access?.["level"], 30);
    assert.equal(typeof access?.["pid"], "number");
    assert.equal(access?.["request_id"], "trace-1");
    assert.equal(access?.["path"], "/health");
    assert.equal(access?.["status"], 200);
    await app.close();
  });

  it("logger: a request's logger becomes the app logger's child only for a line the level lets through", async () => {
    const { stream, lines } = lineCollector();
    const app = Fastify(fastifyOptions({ logLevel: "warn", logStream: stream }));
    let made = 0;
    const parent = Object.create(app.log, {
      child: {
        value: (bindings: Record<string, unknown>, options?: Record<string, unknown>) => {
          made += 1;
          return app.log.child(bindings, options);
        },
      },
    }) as FastifyBaseLogger;
    const log = new RequestLogger(parent, { request_id: "r-1" }, {});
    log.info("dropped");
    log.debug("dropped too");
    assert.equal(made, 0);
    assert.equal(log.level, "warn");
    log.warn({ extra: 1 }, "kept");
    log.error("kept too");
    assert.equal(made, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      lines.map((line) => [line["msg"], line["request_id"], line["level"]]),
      [
        ["kept", "r-1", "warning"],
        ["kept too", "r-1", "error"],
      ],
    );
    assert.equal(lines[0]?.["extra"], 1);
    // A route's own log level is the child's at once, as Fastify makes it.
    assert.equal(new RequestLogger(parent, { request_id: "r-2" }, { level: "debug" }).level, "debug");
    assert.equal(made, 2);
    await app.close();
  });

  it("trustProxy: request.ip in a contract handler is the client the proxy names", async () => {
    for (const [trustProxy, ip] of [
      [true, "203.0.113.7"],
      [false, "127.0.0.1"],
    ] as const) {
      const app = await started(Fastify({ ...fastifyOptions({ logLevel: "error" }), trustProxy }));
      const response = await app.inject({ url: "/health", headers: { "x-forwarded-for": "203.0.113.7" } });
      assert.deepEqual(response.json(), { ip }, `trustProxy ${trustProxy}`);
      await app.close();
    }
  });

  it("pluginTimeout: a plugin start slower than Fastify's 10 s default is waited for, and the user's value wins", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    assert.equal(app.initialConfig.pluginTimeout, PLUGIN_TIMEOUT);
    assert.ok(PLUGIN_TIMEOUT > 10_000);
    const own = Fastify({ ...fastifyOptions({ logLevel: "error" }), pluginTimeout: 5_000 });
    assert.equal(own.initialConfig.pluginTimeout, 5_000);
    await Promise.all([app.close(), own.close()]);
  });

  it("plain Fastify() without the kit's recommended options still serves the contract as written", async () => {
    const app = await started(Fastify());
    const response = await app.inject({ method: "HEAD", url: "/health" });
    // Fastify's exposeHeadRoutes would answer HEAD from GET; the contract documents no HEAD, so it is a 405.
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers["allow"], "GET");
    const miss = await app.inject("/nowhere");
    assert.equal(miss.headers["content-type"], PROBLEM);
    assert.match(String(miss.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    await app.close();
  });

  for (const [name, config, message] of [
    ["ignoreTrailingSlash", { ignoreTrailingSlash: true }, /ignoreTrailingSlash serves \/a\/ as \/a/],
    ["routerOptions.ignoreDuplicateSlashes", { routerOptions: { ignoreDuplicateSlashes: true } }, /ignoreDuplicateSlashes/],
    ["routerOptions.caseSensitive", { routerOptions: { caseSensitive: false } }, /caseSensitive: false serves \/A as \/a/],
    ["routerOptions.useSemicolonDelimiter", { routerOptions: { useSemicolonDelimiter: true } }, /useSemicolonDelimiter/],
  ] as const) {
    it(`refuses to start with ${name}, which would serve paths the contract does not have`, async () => {
      const app = Fastify({ ...fastifyOptions({ logLevel: "error" }), ...(config as FastifyServerOptions) });
      await assert.rejects(started(app), (error: unknown) => {
        assert.ok(error instanceof ContractError);
        assert.match(error.message, /^fastify-twinapi serves the contract's paths as they are written: /);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it("refuses a prefix, which would move the contract's paths", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    await assert.rejects(async () => app.register(twinapi, { ...options, prefix: "/api" }), /a prefix moves the contract's paths/);
  });
});

describe("the kit's hooks on the contract's routes", () => {
  it("validates only operations that have parameters or a body: the others get no validation hook", async () => {
    const app = await started(Fastify(fastifyOptions({ logLevel: "error" })));
    // GET /health has neither; POST /items has a body.
    const bare = app.printRoutes({ method: "GET", includeHooks: true, commonPrefix: false });
    const withBody = app.printRoutes({ method: "POST", includeHooks: true, commonPrefix: false });
    assert.match(bare, /\/health \(GET\)/);
    assert.doesNotMatch(bare, /preValidation/);
    assert.match(withBody, /\/items \(POST\)/);
    assert.match(withBody, /\(preValidation\) \["validate\(\)"\]/);
    // Without the hook nothing about the request changes: the handler still answers.
    const health = await app.inject({ method: "GET", url: "/health?unrelated=1" });
    assert.equal(health.statusCode, 200);
    await app.close();
  });
});

describe("the user's hooks and routes beside the kit's", () => {
  it("instance hooks and route hooks that plugins add run, and the kit still authenticates and validates", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    const seen: string[] = [];
    app.addHook("onRequest", async (request) => {
      seen.push(`onRequest ${request.url}`);
    });
    app.addHook("preHandler", async (request) => {
      seen.push(`preHandler principal=${String(request.principal)}`);
    });
    app.addHook("onSend", async (_request, reply, payload) => {
      reply.header("x-served-by", "user");
      return payload;
    });
    // What a plugin such as @fastify/rate-limit does: it adds to each route's own hooks from an onRoute hook.
    app.addHook("onRoute", (route) => {
      const mine = async (request: FastifyRequest) => {
        seen.push(`route ${request.routeOptions.url ?? ""}`);
      };
      route.preValidation = [...(Array.isArray(route.preValidation) ? route.preValidation : []), mine];
    });
    await started(app);

    const missing = await app.inject({ method: "POST", url: "/items", payload: { name: "x" } });
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.headers["x-served-by"], "user");
    const invalid = await app.inject({ method: "POST", url: "/items", headers: { "x-key": "secret" }, payload: { name: 1 } });
    assert.equal(invalid.statusCode, 400);
    assert.deepEqual(invalid.json<{ errors: unknown }>().errors, [{ location: "body/name", message: "must be string" }]);
    seen.length = 0;
    const created = await app.inject({ method: "POST", url: "/items", headers: { "x-key": "secret" }, payload: { name: "x" } });
    assert.equal(created.statusCode, 201);
    assert.deepEqual(created.json(), { name: "x", by: "owner" });
    assert.equal(created.headers["x-served-by"], "user");
    assert.deepEqual(seen, ["onRequest /items", "route /items", "preHandler principal=owner"]);
    await app.close();
  });

  it("the user's own routes keep Fastify's parsers, validation, error handler and HEAD routes", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    app.setErrorHandler(async (error: Error & { statusCode?: number }, _request, reply) =>
      reply.code(error.statusCode ?? 500).send({ mine: error.message }),
    );
    const route = [] as string[];
    app.post(
      "/extra",
      {
        schema: { body: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } },
        onRequest: async () => {
          route.push("onRequest");
        },
      },
      async (request) => ({ got: request.body, principal: request.principal }),
    );
    app.get("/extra", async () => ({ ok: true }));
    app.get("/fails", async () => {
      throw new Problem(418, "not the kit's");
    });
    await started(app);

    const posted = await app.inject({ method: "POST", url: "/extra", payload: { n: 2 } });
    assert.equal(posted.statusCode, 200);
    assert.deepEqual(posted.json(), { got: { n: 2 }, principal: null });
    assert.deepEqual(route, ["onRequest"]);
    const invalid = await app.inject({ method: "POST", url: "/extra", payload: { n: "two" } });
    assert.equal(invalid.statusCode, 400);
    assert.deepEqual(invalid.json(), { mine: "body/n must be integer" });
    assert.equal((await app.inject({ method: "HEAD", url: "/extra" })).statusCode, 200);
    assert.deepEqual((await app.inject("/fails")).json(), { mine: "not the kit's" });
    // Beside them the contract is served as before, and paths nobody routes are the kit's 404.
    assert.equal((await app.inject("/health")).statusCode, 200);
    const miss = await app.inject({ method: "DELETE", url: "/extra/1" });
    assert.equal(miss.statusCode, 404);
    assert.equal(miss.headers["content-type"], PROBLEM);
    await app.close();
  });

  it("refuses to start, naming every missing method, when the options are not typed", async () => {
    const app = Fastify(fastifyOptions({ logLevel: "error" }));
    await assert.rejects(
      async () => app.register(twinapi, { contractPath, contract, formats: {}, service: {}, securityHandlers: {}, errorBodies: {} }),
      (error: unknown) => {
        assert.ok(error instanceof ContractError);
        assert.match(error.message, /does not implement Service for: getHealth, createItem; .*SecurityHandlers for: key/);
        return true;
      },
    );
  });
});
