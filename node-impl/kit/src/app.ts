/**
 * The kit as a Fastify plugin: registered on the user's own instance, it serves any OpenAPI 3.1 contract from its
 * generated contract document and module, a service object (one method per operation) and security handlers (one per
 * scheme). Every API route comes from fastify-openapi-glue; the kit adds what the glue leaves out: authentication
 * before validation, the contract's request validation and body rules, problem+json for every error, 405 with Allow,
 * request ids and access logs. The contract's routes live in a scope of their own (parsers, error and not-found
 * handlers), so the user's own routes keep Fastify's defaults, and the user's plugins registered before the kit
 * (CORS, rate limits, security headers) see the contract's routes like any other.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, preValidationHookHandler } from "fastify";
import fp from "fastify-plugin";
import openapiGlue from "fastify-openapi-glue";

import { bodyDrop, bodyGate, declaredMediaTypes, registerBodyParsers } from "./body.js";
import { type Contract, ContractError, type FormatDefinition, type OperationInfo } from "./contract.js";
import { docs } from "./docs.js";
import { errorHandler } from "./errors.js";
import { DEFAULT_LIMITS, type Limits } from "./env.js";
import { limitOptions, requestLimits } from "./limits.js";
import { invalid, sendProblem } from "./problem.js";
import { type TrustedProxies, trustedProxiesFromEnv } from "./proxies.js";
import { AccessLog, type LogLevel, loggerOptions, requestId, requestLogger } from "./request-context.js";
import { routeMiss } from "./route-miss.js";
import { pathShape, routePath } from "./route-path.js";
import { authenticator, buildSchemes } from "./security.js";
import { type Answers, type Hook, type Refusal, answersOf } from "./refusals.js";
import { forGlue, isObject, loadContract, pointer } from "./spec.js";
import { RequestValidators } from "./validation.js";
import { type ResponsePlans, Visibility, omit } from "./visibility.js";

/** The largest request body of a contract operation, in bytes, unless the plugin's `limits` say otherwise. */
export const BODY_LIMIT = DEFAULT_LIMITS.maxBodyBytes;
/** The longest path parameter the router takes; Fastify's default (100) refuses long values before the contract can. */
export const MAX_PARAM_LENGTH = 8192;
/**
 * How long the plugin may take to start, in ms. Its start compiles every validator and serialiser of the contract;
 * a spec of a few hundred schemas on a busy machine takes longer than Fastify's default of 10 s, which then refuses
 * to start ("Plugin did not start in time") though nothing is wrong.
 */
export const PLUGIN_TIMEOUT = 60_000;

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

/** A generated method's own parameter types are narrower than any the kit could name; `never` accepts them all. */
type Method = (...args: never[]) => Promise<unknown>;
type HandlerName<C extends Contract> = C["operations"][number]["handler"];
type SchemeHandlerName<C extends Contract> = C["securitySchemes"][keyof C["securitySchemes"]]["handler"];
type ErrorBodyName<C extends Contract> = C extends { readonly errorBodies: infer E } ? E[keyof E] : never;

/**
 * An object with a method for every operation of the contract (what the generated `Service<P>` declares). A contract
 * typed `as const` (the generated one) names them, so a missing one fails the type check; otherwise any object
 * passes here and the start-time check names what is missing.
 */
export type ServiceOf<C extends Contract> = string extends HandlerName<C> ? object : { readonly [K in HandlerName<C>]: Method };

/** An object with a method for every security scheme (the generated `SecurityHandlers<P>`), each resolving to a P. */
export type SecurityHandlersOf<C extends Contract, P> =
  string extends SchemeHandlerName<C>
    ? object
    : { readonly [K in SchemeHandlerName<C>]: (credential: string, request: FastifyRequest) => Promise<P> };

/** An object with a method for every error shape of the contract (the generated `ErrorBodies`). */
export type ErrorBodiesOf<C extends Contract> =
  string extends ErrorBodyName<C> ? object : { readonly [K in ErrorBodyName<C>]: (refusal: Refusal) => unknown };

/** The options of `app.register(twinapi, options)`; P is what the security handlers return (request.principal). */
export interface TwinapiOptions<P = unknown, C extends Contract = Contract> {
  /** The contract document generated with the code (generated `CONTRACT_PATH`): all the kit reads of the spec. */
  readonly contractPath: string;
  /** The generated contract module's `contract`. */
  readonly contract: C;
  /** The generated `formats`. */
  readonly formats: Readonly<Record<string, FormatDefinition>>;
  /** One method per operation (generated `Service<P>`). */
  readonly service: ServiceOf<C>;
  /** One method per security scheme (generated `SecurityHandlers<P>`). */
  readonly securityHandlers: SecurityHandlersOf<C, P>;
  /** One method per error shape (generated `ErrorBodies`): the bodies of the kit's refusals, as the contract documents them. */
  readonly errorBodies: ErrorBodiesOf<C>;
  /** The HTTP layer's limits (serverSettings reads them from the environment); the defaults otherwise. */
  readonly limits?: Limits;
}

/** What the kit needs to know of its options, whatever their types say. */
interface Options {
  readonly contractPath: string;
  readonly contract: Contract;
  readonly formats: Readonly<Record<string, FormatDefinition>>;
  readonly service: object;
  readonly securityHandlers: object;
  readonly errorBodies: object;
  readonly limits?: Limits;
  readonly prefix?: string;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export { ContractError };

function missingMethods(owner: object, names: Iterable<[id: string, method: string]>): string[] {
  return [...names].filter(([, method]) => typeof Reflect.get(owner, method) !== "function").map(([id]) => id);
}

/** Refuses to serve a contract whose service or security handlers lack a method, naming every missing one. */
function requireImplemented(options: Options): void {
  const problems: string[] = [];
  const operations = missingMethods(
    options.service,
    options.contract.operations.map((op) => [op.id, op.handler]),
  );
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
  const shapes = missingMethods(options.errorBodies, Object.entries(options.contract.errorBodies ?? {}));
  if (shapes.length > 0) {
    problems.push(`${options.errorBodies.constructor.name} does not implement ErrorBodies for: ${shapes.join(", ")}`);
  }
  if (problems.length > 0) {
    throw new ContractError(`${problems.join("; ")}; add a method for each (run \`make generate\` after changing the spec)`);
  }
}

/**
 * Refuses the instance options under which Fastify's router would answer paths the contract does not have as its
 * operations (each is instance-wide, so the kit cannot scope it away), and a prefix, which would move the contract's
 * absolute paths. Every other option is the user's to choose.
 */
function requireContractRouting(config: FastifyInstance["initialConfig"], options: Options): void {
  const router = { ...config, ...config.routerOptions };
  const problems = [
    (config.ignoreTrailingSlash || router.ignoreTrailingSlash) && "ignoreTrailingSlash serves /a/ as /a",
    (config.ignoreDuplicateSlashes || router.ignoreDuplicateSlashes) && "ignoreDuplicateSlashes serves //a as /a",
    (config.caseSensitive === false || router.caseSensitive === false) && "caseSensitive: false serves /A as /a",
    (config.useSemicolonDelimiter || router.useSemicolonDelimiter) && "useSemicolonDelimiter serves /a;b as /a",
    options.prefix !== undefined && "a prefix moves the contract's paths (put a base path in the spec's paths instead)",
  ].filter((problem) => typeof problem === "string");
  if (problems.length > 0) {
    throw new ContractError(`fastify-twinapi serves the contract's paths as they are written: ${problems.join("; ")}`);
  }
}

/** A URL the router cannot decode (a bad percent escape): hooks have not run, so the request id is set here. */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header("x-request-id", request.id);
  sendProblem(request, reply, invalid([{ location: "path", message: error.message }]));
}

/**
 * The instance-wide Fastify options the kit's conventions need, to spread into `Fastify({ ...fastifyOptions(), ... })`
 * before your own: JSON log lines with one access line per request, X-Request-ID ids, problem+json for bad URLs and
 * bad HTTP, long path parameters, requests in flight at shutdown served, the client's address from the trusted
 * proxies' X-Forwarded-For. The kit works without them; any of them can be overridden.
 */
export function fastifyOptions(
  options: {
    readonly logLevel?: LogLevel;
    readonly logStream?: NodeJS.WritableStream;
    readonly limits?: Limits;
    /** Whose X-Forwarded-For names the client (request.ip); default: TRUSTED_PROXIES from the environment. */
    readonly trustedProxies?: TrustedProxies;
  } = {},
) {
  const proxies = options.trustedProxies ?? trustedProxiesFromEnv(process.env);
  return {
    // Only with proxies to trust: otherwise request.ip is the peer, and Fastify's plain request is the faster one.
    ...(proxies.count > 0 ? { trustProxy: proxies } : {}),
    logger: loggerOptions(options.logLevel ?? "info", options.logStream),
    logController: new AccessLog(),
    childLoggerFactory: requestLogger,
    genReqId: requestId,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    pluginTimeout: PLUGIN_TIMEOUT,
    frameworkErrors: badUrl,
    // Node's HTTP layer under the limits: header size and timeouts, keep-alive, bad HTTP as a problem, the drain.
    ...limitOptions(options.limits ?? DEFAULT_LIMITS),
  } satisfies FastifyServerOptions;
}

/**
 * The preSerialization hook of an operation whose responses could carry writeOnly properties: they are removed from
 * what the handler returned before it is serialised (an answer sent as a string or a Buffer is no JSON of its schemas).
 */
function withoutWriteOnly(plans: ResponsePlans) {
  return async function prune(_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const type = reply.getHeader("content-type");
    const plan = plans.find(reply.statusCode, typeof type === "string" ? type : undefined);
    return plan === null ? payload : omit(plan, payload);
  };
}

/** Appends the kit's hook to a route's own (a function or a list of them), in the order Fastify runs them. */
function withHook<T>(own: T | readonly T[] | undefined, hook: T): T[] {
  if (own === undefined) return [hook];
  return [...(Array.isArray(own) ? (own as readonly T[]) : [own as T]), hook];
}

async function twinapiPlugin(app: FastifyInstance, options: Options): Promise<void> {
  requireImplemented(options);
  requireContractRouting(app.initialConfig, options);
  const { contract } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const { spec, served, validation, errors, visibility: visible } = loadContract(options.contractPath);
  const visibility = new Visibility(visible);
  const validators = new RequestValidators(validation, options.formats, visibility);
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
  // requireImplemented has made sure that every hook exists.
  const hooks = new Map<string, Hook>(
    Object.entries(contract.errorBodies ?? {}).map(([shape, method]) => {
      const hook = Reflect.get(options.errorBodies, method) as Hook;
      return [shape, hook.bind(options.errorBodies)];
    }),
  );
  const table = (kind: string, key: string): Answers => {
    const section = errors[kind];
    return answersOf(isObject(section) ? section[key] : undefined, hooks, key);
  };
  const answers = new Map(contract.operations.map((op) => [op, table("operations", op.id)]));
  const miss = routeMiss(contract, (path) => table("paths", path));

  app.decorateRequest("principal", null);
  // A request body on GET (or HEAD, TRACE) is what the contract says: Fastify must read it there too.
  for (const method of new Set(contract.operations.filter((op) => op.body !== null).map((op) => op.method))) {
    if (["GET", "HEAD", "TRACE"].includes(method)) app.addHttpMethod(method, { hasBody: true, overrideExisting: true });
  }

  // The contract's own scope: what it changes (body parsers, error handling) stays out of the user's routes.
  await app.register(async (scope) => {
    scope.setGenReqId(requestId);
    const limit = requestLimits(limits);
    scope.addHook("onRequest", (request, reply, done) => {
      reply.header("x-request-id", request.id);
      limit(request, reply, done);
    });
    scope.setErrorHandler(
      errorHandler(limits.maxBodyBytes, miss, (request) => {
        const operation = request.routeOptions.config.operation;
        return operation && answers.get(operation);
      }),
    );
    try {
      // Requests no route takes, the user's paths included: 405 on the contract's paths, 404 elsewhere.
      scope.setNotFoundHandler(miss);
    } catch (error) {
      throw new ContractError(
        `fastify-twinapi answers the requests no route takes (404, 405 on the contract's paths), but a not-found handler is already set: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    registerBodyParsers(scope, declaredMediaTypes(served), limits);

    const routed = new Set<OperationInfo>();
    scope.addHook("onRoute", (route) => {
      const operation = route.config?.operation;
      const rule = operation && rules.get(operation);
      if (!operation || !rule) return;
      routed.add(operation);
      const authenticate = authenticator(operation, schemes);
      // The kit validates requests itself (all locations, the conventions' coercion); Fastify must not do it again.
      if (route.schema) {
        const { params: _params, querystring: _querystring, headers: _headers, body: _body, ...rest } = route.schema;
        const { cookies: _cookies, ...kept } = rest as typeof rest & { cookies?: unknown };
        // The response serialisers (fast-json-stringify) read the served document's schemas: JSON Schema already.
        route.schema = kept;
      }
      // Added after the route's own hooks (those of plugins such as @fastify/rate-limit among them), never instead.
      if (authenticate) route.onRequest = withHook(route.onRequest, authenticate);
      route.preParsing = withHook(route.preParsing, rule.body ? bodyGate(rule.body, limits) : bodyDrop(limits));
      const { check } = rule;
      // An operation without parameters or body has nothing to validate: no hook, and Fastify's lifecycle skips
      // the step.
      if (check !== null) {
        // A callback hook (a throw is Fastify's error too): an async one costs a promise and a microtask per request.
        const validate: preValidationHookHandler = (request, _reply, done) => {
          check(request);
          done();
        };
        // The route's own hooks may be async ones, which Fastify awaits: the lint sees only that they are not `void`.
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        route.preValidation = withHook(route.preValidation, validate);
      }
      const responses = visibility.responses(operation.path, operation.method);
      if (responses) route.preSerialization = withHook(route.preSerialization, withoutWriteOnly(responses));
    });

    const routeOptions = (operation: OperationInfo) => {
      // requireImplemented has made sure that the method exists.
      const handler = Reflect.get(options.service, operation.handler) as Handler;
      return {
        method: operation.method,
        url: routes.get(operation)?.url ?? operation.path,
        handler: handler.bind(options.service),
        bodyLimit: limits.maxBodyBytes,
        // HEAD is an operation of its own or a 405, as the contract says, whatever the instance's exposeHeadRoutes.
        exposeHeadRoute: false,
        config: { operation, body: rules.get(operation)?.body ?? null },
      };
    };
    await scope.register(openapiGlue, {
      specification: forGlue(served),
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
    for (const operation of contract.operations.filter((op) => !routed.has(op))) scope.route(routeOptions(operation));
    if (!byRoute.has("GET /openapi.json") && !byRoute.has("GET /docs")) await scope.register(docs, { spec });
  });
}

/**
 * The kit: `await app.register(twinapi, { contractPath, contract, formats, service, securityHandlers })` on your own
 * Fastify instance. It refuses to start, with a ContractError, when the service or security handlers lack a method
 * or the instance's router options would serve paths the contract does not have.
 */
export const twinapi = fp(twinapiPlugin, {
  fastify: "5.x",
  name: "fastify-twinapi",
}) as <P = unknown, C extends Contract = Contract>(app: FastifyInstance, options: TwinapiOptions<P, C>) => Promise<void>;
