/** fastify-twinapi: serve an OpenAPI contract from Fastify with the code twinapi-codegen generates. */
export {
  BODY_LIMIT,
  ContractError,
  type ErrorBodiesOf,
  MAX_PARAM_LENGTH,
  PLUGIN_TIMEOUT,
  type SecurityHandlersOf,
  type ServiceOf,
  type TwinapiOptions,
  fastifyOptions,
  twinapi,
  twinapi as default,
} from "./app.js";
export type { Contract, FormatDefinition, HttpMethod, OperationInfo, SecuritySchemeInfo } from "./contract.js";
export {
  ConfigError,
  DEFAULT_LIMITS,
  type Env,
  LOG_LEVELS,
  type Limits,
  type ServerSettings,
  integer,
  limitsFromEnv,
  oneOf,
  serverSettings,
} from "./env.js";
export {
  type FieldError,
  INVALID_REQUEST,
  NotImplementedOperation,
  PROBLEM_JSON,
  Problem,
  type ProblemBody,
  invalid,
  invalidCredentials,
  problemBody,
  sendProblem,
} from "./problem.js";
export { TRUSTED_PROXIES, type TrustedProxies, parseTrustedProxies, trustedProxiesFromEnv } from "./proxies.js";
export { type Refusal, byLocation, fieldErrors, messages, problemJson, summary } from "./refusals.js";
export type { LogLevel } from "./request-context.js";
export { failStart, serve, serveFromEnv } from "./server.js";
export type { Json, JsonObject } from "./spec.js";
