/**
 * The kit: a Fastify app serving any OpenAPI 3.1 contract from the spec file, its generated contract module, a
 * service object (one method per operation) and security handlers (one per scheme). Every API route comes from
 * fastify-openapi-glue; the kit adds what the glue leaves out: authentication before validation, the contract's
 * request validation and body rules, problem+json for every error, 405 with Allow, request ids and access logs.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import openapiGlue from "fastify-openapi-glue";

import { bodyGate, declaredMediaTypes, registerBodyParsers } from "./body.js";
import { type Contract, ContractError, type FormatDefinition, type OperationInfo } from "./contract.js";
import { docs } from "./docs.js";
import { errorHandler } from "./errors.js";
import { DEFAULT_LIMITS, type Limits } from "./env.js";
import { limitOptions, requestLimits } from "./limits.js";
import { invalid, sendProblem } from "./problem.js";
import { AccessLog, type LogLevel, loggerOptions, requestId } from "./request-context.js";
import { routeMiss } from "./route-miss.js";
import { pathShape, routePath } from "./route-path.js";
import { authenticator, buildSchemes } from "./security.js";
import { forGlue, uniqueEnums, upgrade } from "./dialect.js";
import { type Json, loadSpec, pointer } from "./spec.js";
import { RequestValidators } from "./validation.js";

export const BODY_LIMIT = DEFAULT_LIMITS.maxBodyBytes;

declare module "fastify" {
  interface FastifyRequest {
    /** What the operation's security handler returned; the generated request types say its type. */
    principal: unknown;
  }
  interface FastifyContextConfig {
    /** The contract operation a route serves (absent on the kit's own routes). */
    operation?: OperationInfo;
  }
}

export interface KitOptions {
  /** The OpenAPI document the generated code was made from. */
  readonly specPath: string;
  readonly contract: Contract;
  readonly formats: Readonly<Record<string, FormatDefinition>>;
  /** An object with one method per operation (generated `Service<P>`). */
  readonly service: object;
  /** An object with one method per security scheme (generated `SecurityHandlers<P>`). */
  readonly securityHandlers: object;
  readonly logLevel?: LogLevel;
  /** Where log lines go; stdout by default. */
  readonly logStream?: NodeJS.WritableStream;
  /** The HTTP layer's limits (serverSettings reads them from the environment); the defaults otherwise. */
  readonly limits?: Limits;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export { ContractError };

function missingMethods(owner: object, names: Iterable<[id: string, method: string]>): string[] {
  return [...names].filter(([, method]) => typeof Reflect.get(owner, method) !== "function").map(([id]) => id);
}

/** Refuses to build an app whose service or security handlers lack a method, naming every missing one. */
function requireImplemented(options: KitOptions): void {
  const problems: string[] = [];
  const operations = missingMethods(options.service, options.contract.operations.map((op) => [op.id, op.handler]));
  if (operations.length > 0) {
    problems.push(`${options.service.constructor.name} does not implement Service for: ${operations.join(", ")}`);
  }
  const schemes = missingMethods(
    options.securityHandlers,
    Object.entries(options.contract.securitySchemes).map(([name, scheme]) => [name, scheme.handler]),
  );
  if (schemes.length > 0) {
    problems.push(`${options.securityHandlers.constructor.name} does not implement SecurityHandlers for: ${schemes.join(", ")}`);
  }
  if (problems.length > 0) {
    throw new ContractError(`${problems.join("; ")}; add a method for each (run \`make generate\` after changing the spec)`);
  }
}

/** A URL the router cannot decode (a bad percent escape): hooks have not run, so the request id is set here. */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header("x-request-id", request.id);
  sendProblem(request, reply, invalid([{ location: "path", message: error.message }]));
}

export async function buildApp(options: KitOptions): Promise<FastifyInstance> {
  requireImplemented(options);
  const { contract } = options;
  const spec = loadSpec(options.specPath);
  const validators = new RequestValidators(spec, options.formats);
  const schemes = buildSchemes(contract, options.securityHandlers);
  const byRoute = new Map(contract.operations.map((op) => [`${op.method} ${op.path}`, op]));
  const routes = new Map(contract.operations.map((op) => [op, routePath(op.path)]));
  const seen = new Map<string, OperationInfo>();
  for (const op of contract.operations) {
    const earlier = seen.get(`${op.method} ${pathShape(op.path)}`);
    if (earlier !== undefined) {
      throw new ContractError(
        `${pointer("paths", op.path, op.method.toLowerCase())}: the same route as ${pointer("paths", earlier.path, earlier.method.toLowerCase())} (path templates that differ only in parameter names are one path)`,
      );
    }
    seen.set(`${op.method} ${pathShape(op.path)}`, op);
  }
  const rules = new Map([...routes].map(([op, route]) => [op, validators.forOperation(op, route.names)]));
  const miss = routeMiss(contract);
  const limits = options.limits ?? DEFAULT_LIMITS;

  const app = Fastify({
    logger: loggerOptions(options.logLevel ?? "info", options.logStream),
    logController: new AccessLog(),
    genReqId: requestId,
    requestIdHeader: false,
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 8192 },
    frameworkErrors: badUrl,
    ...limitOptions(limits),
  });

  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onRequest", requestLimits(limits));
  app.setErrorHandler(errorHandler(limits.maxBodyBytes, miss));
  app.setNotFoundHandler(miss);
  registerBodyParsers(app, declaredMediaTypes(spec), limits);
  // A request body on GET (or HEAD, TRACE) is what the contract says: Fastify must read it there too.
  for (const method of new Set(contract.operations.filter((op) => op.body !== null).map((op) => op.method))) {
    if (["GET", "HEAD", "TRACE"].includes(method)) app.addHttpMethod(method, { hasBody: true, overrideExisting: true });
  }

  const routed = new Set<OperationInfo>();
  app.addHook("onRoute", (route) => {
    const operation = route.config?.operation;
    const rule = operation && rules.get(operation);
    if (!operation || !rule) return;
    routed.add(operation);
    const authenticate = authenticator(operation, schemes);
    // The kit validates requests itself (all locations, the conventions' coercion); Fastify must not do it again.
    if (route.schema) {
      const { params: _params, querystring: _querystring, headers: _headers, body: _body, ...rest } = route.schema;
      const { cookies: _cookies, ...kept } = rest as typeof rest & { cookies?: unknown };
      // Response serialisers (fast-json-stringify) read JSON Schema, not OpenAPI's `nullable` or boolean bounds.
      route.schema = "response" in kept ? { ...kept, response: uniqueEnums(upgrade(kept.response as Json)) } : kept;
    }
    route.onRequest = authenticate ? [authenticate] : [];
    route.preParsing = rule.body ? [bodyGate(rule.body, limits)] : [];
    route.preValidation = [async (request) => rule.check(request)];
  });

  const routeOptions = (operation: OperationInfo) => {
    // requireImplemented has made sure that the method exists.
    const handler = Reflect.get(options.service, operation.handler) as Handler;
    return {
      method: operation.method,
      url: routes.get(operation)?.url ?? operation.path,
      handler: handler.bind(options.service),
      config: { operation, body: rules.get(operation)?.body ?? null },
    };
  };
  await app.register(openapiGlue, {
    specification: forGlue(spec),
    // Cookie parameters are the kit's to read; this only keeps the glue from warning that Fastify does not.
    addCookieSchema: true,
    operationResolver: (operationId, method, path) => {
      const operation = byRoute.get(`${method} ${path}`);
      if (operation === undefined) {
        throw new ContractError(`${method} ${path} (${operationId}) is not in the generated contract: run \`make generate\``);
      }
      // Spread over the glue's own route options: the kit's URL and config replace the glue's.
      return routeOptions(operation);
    },
  });
  // What the glue does not route (TRACE, or an operation marked x-no-fastify-config) the kit routes itself.
  for (const operation of contract.operations.filter((op) => !routed.has(op))) app.route(routeOptions(operation));
  if (!byRoute.has("GET /openapi.json") && !byRoute.has("GET /docs")) await app.register(docs, { spec });
  return app;
}
