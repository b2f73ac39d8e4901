/**
 * Request bodies as the contract states them: read only for operations that declare one, in a declared media type
 * (415 otherwise), at most `bodyLimit` bytes (413), valid JSON (400); an absent required body is a 400 too.
 * The checks run in preParsing, after authentication and before Fastify reads a byte.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import sjson from "secure-json-parse";

import type { Contract } from "./contract.js";
import { Problem, invalid } from "./problem.js";
import type { BodyRules } from "./validation.js";
import { isJsonMedia } from "./validation.js";

const NOT_JSON = "The request body is not valid JSON.";
// What might hide a "__proto__" or "constructor.prototype" key; only such bodies pay for a scan.
const SUSPECT = /proto|\\u/;
const POISON_CHECK = { protoAction: "error", constructorAction: "error" } as const;

declare module "fastify" {
  interface FastifyContextConfig {
    /** The body rules of the operation a route serves; null when it declares no body (a sent one is ignored). */
    body?: BodyRules | null;
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function mediaTypeOf(request: FastifyRequest): string {
  return request.headers["content-type"]?.split(";", 1)[0]?.trim().toLowerCase() ?? "";
}

function accepts(mediaTypes: readonly string[], media: string): boolean {
  if (media === "") return false;
  return mediaTypes.includes(media) || mediaTypes.includes("*/*") || mediaTypes.includes(`${media.split("/", 1)[0] ?? ""}/*`);
}

export function unsupportedMediaType(mediaTypes: readonly string[]): Problem {
  return new Problem(415, `The request body must be ${[...mediaTypes].sort().join(" or ")}.`);
}

export function tooLarge(limit: number): Problem {
  return new Problem(413, `The request body is larger than ${limit} bytes.`);
}

/** The preParsing hook of an operation that declares a body. */
export function bodyGate(rules: BodyRules) {
  return async function gate(request: FastifyRequest): Promise<void> {
    if (!hasBody(request)) {
      if (rules.required) throw invalid([{ location: "body", message: "is required" }]);
      return;
    }
    if (!accepts(rules.mediaTypes, mediaTypeOf(request))) throw unsupportedMediaType(rules.mediaTypes);
  };
}

// Only texts that could hold a lone surrogate escape or an overflowing number pay for a walk over the value.
const ODD_ESCAPE = /\\u[dD][89a-fA-F]/;
const BIG_EXPONENT = /[eE][+]?\d{3}/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** I-JSON (RFC 7493), as the Python runtime reads it: no lone surrogates, no numbers beyond a double. */
function interoperable(value: unknown): boolean {
  if (typeof value === "string") return !LONE_SURROGATE.test(value);
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(interoperable);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).every(([key, item]) => !LONE_SURROGATE.test(key) && interoperable(item));
  }
  return true;
}

function parseJson(bytes: Buffer): unknown {
  let value: unknown;
  let text: string;
  try {
    text = UTF8.decode(bytes);
    value = JSON.parse(text);
  } catch (error) {
    throw invalid([{ location: "body", message: error instanceof Error ? error.message : String(error) }], NOT_JSON);
  }
  if ((ODD_ESCAPE.test(text) || BIG_EXPONENT.test(text)) && !interoperable(value)) {
    throw invalid([{ location: "body", message: "holds a lone surrogate or a number beyond a double" }], NOT_JSON);
  }
  if (SUSPECT.test(text) && typeof value === "object" && value !== null) {
    try {
      sjson.scan(value, POISON_CHECK);
    } catch {
      // Fastify's prototype-poisoning guard, kept; reported as the invalid data it is.
      throw invalid([{ location: "body", message: "must not have a __proto__ or constructor.prototype property" }]);
    }
  }
  return value;
}

/** Replaces Fastify's parsers: JSON for the JSON media types the contract declares, raw bytes for the others. */
export function registerBodyParsers(app: FastifyInstance, contract: Contract): void {
  app.removeAllContentTypeParsers();
  const declared = new Set(contract.operations.flatMap((operation) => operation.body?.mediaTypes ?? []));
  for (const media of declared) {
    const json = isJsonMedia(media);
    app.addContentTypeParser(media, { parseAs: "buffer" }, async (request: FastifyRequest, body: Buffer) => {
      if (!request.routeOptions.config.body || body.length === 0) return undefined;
      return json ? parseJson(body) : body;
    });
  }
  // Anything else only reaches a parser on operations without a body (the gate answered 415 for the others).
  app.addContentTypeParser("*", async () => undefined);
}
