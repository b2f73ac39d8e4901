/**
 * Authentication, run as the first hook of every secured route: before the body is read or anything validated, so
 * an unauthenticated request gets 401 whatever else is wrong with it (the glue's own security runs too late).
 */
import type { FastifyRequest } from "fastify";

import { type Contract, ContractError, type OperationInfo } from "./contract.js";
import { cookiesOf } from "./cookies.js";
import { Problem } from "./problem.js";

export const MISSING_CREDENTIALS = "A valid bearer token is required.";

/** Resolves a credential to the principal or throws a Problem; generated `SecurityHandlers<P>` methods fit. */
export type SecurityHandler = (credential: string, request: FastifyRequest) => Promise<unknown>;

interface Scheme {
  /** opaque: a credential the kit cannot read (mutualTLS, or a name the spec never declares); the handler decides. */
  readonly kind: "bearer" | "basic" | "header" | "query" | "cookie" | "opaque";
  readonly param: string;
  readonly check: SecurityHandler;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function credentialOf(scheme: Scheme, request: FastifyRequest): string | null {
  // Always "present": the handler is called with "" and decides from the request, so access never opens by default.
  if (scheme.kind === "opaque") return "";
  // The raw value, whatever it holds (`Token <jwt>` too): reading it is the handler's job. An empty one is none.
  if (scheme.kind === "header") return request.headers[scheme.param.toLowerCase()]?.toString() || null;
  if (scheme.kind === "query") {
    // A repeated key counts once, its last value (as Starlette's query_params.get reads it).
    const value: unknown = (request.query as Record<string, unknown>)[scheme.param];
    const last: unknown = Array.isArray(value) ? value.at(-1) : value;
    return typeof last === "string" && last !== "" ? last : null;
  }
  if (scheme.kind === "cookie") return cookiesOf(request).get(scheme.param) || null;
  // `<scheme> <credential>`: the scheme name in any case, exactly one space, a non-empty credential.
  const parts = (request.headers.authorization ?? "").split(" ");
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== scheme.kind || !parts[1]) return null;
  if (scheme.kind === "bearer") return parts[1];
  if (!BASE64.test(parts[1])) return null;
  try {
    return strictUtf8.decode(Buffer.from(parts[1], "base64"));
  } catch {
    return null;
  }
}

/** Whether the request carries anything where a scheme looks, usable or not. */
function sent(scheme: Scheme, request: FastifyRequest): boolean {
  // Nothing to look at: an opaque scheme's handler is called whatever is sent.
  if (scheme.kind === "opaque") return false;
  if (scheme.kind === "bearer" || scheme.kind === "basic") return (request.headers.authorization ?? "") !== "";
  return credentialOf(scheme, request) !== null;
}

export function buildSchemes(contract: Contract, handlers: object): Map<string, Scheme> {
  const schemes = new Map<string, Scheme>();
  for (const [name, info] of Object.entries(contract.securitySchemes)) {
    // A null type: the spec names the scheme in a requirement without declaring it.
    const kind =
      info.type === "http"
        ? info.scheme
        : info.type === "apiKey"
          ? info.in
          : info.type === "oauth2" || info.type === "openIdConnect"
            ? "bearer"
            : info.type === "mutualTLS" || info.type === null
              ? "opaque"
              : null;
    if (kind !== "bearer" && kind !== "basic" && kind !== "header" && kind !== "query" && kind !== "cookie" && kind !== "opaque") {
      throw new ContractError(
        `/components/securitySchemes/${name}: ${[info.type, info.scheme ?? info.in].filter(Boolean).join(" ")} is not supported`,
      );
    }
    // The caller has made sure that every handler exists (see missingMethods).
    const check = Reflect.get(handlers, info.handler) as SecurityHandler;
    schemes.set(name, { kind, param: info.param ?? "", check: check.bind(handlers) });
  }
  return schemes;
}

/** The onRequest hook of an operation, or null when it needs no authentication. */
export function authenticator(operation: OperationInfo, schemes: ReadonlyMap<string, Scheme>) {
  if (operation.security.length === 0) return null;
  const requirements = operation.security.map((requirement) =>
    requirement.map((name) => {
      const scheme = schemes.get(name);
      if (scheme === undefined) throw new ContractError(`${operation.id}: no handler for security scheme ${name}`);
      return scheme;
    }),
  );
  const optional = requirements.some((requirement) => requirement.length === 0);
  const used = [...new Set(requirements.flat())];
  const challenge = requirements.flat().every((scheme) => scheme.kind === "basic" || scheme.kind === "opaque") ? "Basic" : "Bearer";

  return async function authenticate(request: FastifyRequest): Promise<void> {
    for (const requirement of requirements) {
      const credentials = requirement.map((scheme) => credentialOf(scheme, request));
      if (requirement.length === 0 || credentials.includes(null)) continue;
      let principal: unknown = null;
      for (const [index, scheme] of requirement.entries()) {
        const checked = await scheme.check(credentials[index] ?? "", request);
        principal ??= checked;
      }
      request.principal = principal;
      return;
    }
    // Anonymous only when nothing was sent: credentials that are there but unusable fail like bad ones.
    if (!optional || used.some((scheme) => sent(scheme, request)))
      throw new Problem(401, MISSING_CREDENTIALS, { headers: { "www-authenticate": challenge } });
  };
}
