/**
 * Request bodies as the contract states them: parsed only for operations that declare one, in a declared media type
 * (415 otherwise), at most `bodyLimit` bytes (413), valid JSON (400); an absent required body is a 400 too.
 * A body sent to an operation that declares none is read up to the same limit (413 beyond) and dropped: whatever its
 * media type or syntax, the handler never gets it. The checks run in preParsing, after authentication and before
 * Fastify reads a byte.
 */
import { Readable } from "node:stream";

import type { FastifyInstance, FastifyRequest } from "fastify";
import sjson from "secure-json-parse";

import type { Limits } from "./env.js";
import { Problem, invalid } from "./problem.js";
import { type Json, type JsonObject, isObject, resolve } from "./spec.js";
import { type BodyRules, POISONED, mediaRulesFor, readForm } from "./validation.js";

const NOT_JSON = "The request body is not valid JSON.";
// What might hide a "__proto__" or "constructor.prototype" key; only such bodies pay for a scan.
const SUSPECT = /proto|\\u/;
const POISON_CHECK = { protoAction: "error", constructorAction: "error" } as const;

declare module "fastify" {
  interface FastifyContextConfig {
    /** The body rules of the operation a route serves; null when it declares no body (a sent one is dropped). */
    body?: BodyRules | null;
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

export function unsupportedMediaType(mediaTypes: readonly string[]): Problem {
  return new Problem(415, `The request body must be ${[...mediaTypes].sort().join(" or ")}.`);
}

export function tooLarge(limit: number): Problem {
  return new Problem(413, `The request body is larger than ${limit} bytes.`);
}

/** A request stream, with the byte count Fastify compares with Content-Length when a hook replaces the stream. */
type Payload = Readable & { receivedEncodedLength?: number };

/** Fastify's callback for a body parser: an error, or the parsed body. */
type ParserDone = (error: Error | null, body?: unknown) => void;

/** Fastify's callback for a preParsing hook: an error, or the stream its parser reads. */
type PayloadDone = (error: Error | null, payload?: Payload) => void;

/**
 * The preParsing hook of an operation that declares a body. Callback hooks here and in `bodyDrop`: every request
 * passes one of them, and an async hook costs Fastify a promise and a microtask turn each time (a throw is
 * Fastify's error either way).
 */
export function bodyGate(rules: BodyRules, limits: Pick<Limits, "maxBodyBytes">) {
  return function gate(request: FastifyRequest, _reply: unknown, payload: Payload, done: PayloadDone): void {
    const media = mediaRulesFor(rules, request.headers["content-type"]);
    if (!hasBody(request)) {
      // Zero bytes are a value of text, binary and form bodies (an empty form is {}); no JSON value is empty.
      if (rules.required && (media === undefined || media.kind === "json")) {
        throw invalid([{ location: "body", message: "is required" }]);
      }
      done(null, payload);
      return;
    }
    if (media === undefined) throw unsupportedMediaType(rules.mediaTypes);
    // Refused here, before Fastify's reader would (which asks to close the connection on a client still writing).
    const length = Number(request.headers["content-length"]);
    if (length > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes);
    done(null, payload);
  };
}

/** Reads a body to its end and counts it, refusing it past `limit` bytes. */
function drain(payload: Payload, limit: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let count = 0;
    const onData = (chunk: Buffer): void => {
      count += chunk.length;
      if (count > limit) finish(tooLarge(limit));
    };
    const onEnd = (): void => finish(null);
    // A client gone before the end: Fastify's own reader answers 400 too (and nobody is left to read it).
    const onError = (error: Error & { statusCode?: number }): void => finish(Object.assign(error, { statusCode: 400 }));
    const finish = (error: Error | null): void => {
      payload.removeListener("data", onData);
      payload.removeListener("end", onEnd);
      payload.removeListener("error", onError);
      if (error === null) resolve(count);
      else reject(error);
    };
    payload.on("data", onData);
    payload.on("end", onEnd);
    payload.on("error", onError);
    payload.resume();
  });
}

/**
 * The preParsing hook of an operation that declares no body. Real clients send `{}`, or Content-Type:
 * application/json and nothing, to such operations: the body is read (the size limit holds, as for any body) and
 * dropped, and Fastify's parsers get an empty stream in its place, so that no parser ever sees it (on every method,
 * GET and DELETE alike).
 */
export function bodyDrop(limits: Pick<Limits, "maxBodyBytes">) {
  const limit = limits.maxBodyBytes;
  return function drop(request: FastifyRequest, _reply: unknown, payload: Payload, done: PayloadDone): void {
    if (!hasBody(request)) {
      done(null, payload);
      return;
    }
    if (Number(request.headers["content-length"]) > limit) throw tooLarge(limit);
    drain(payload, limit).then((received) => {
      const empty: Payload = Readable.from([]);
      empty.receivedEncodedLength = received;
      done(null, empty);
    }, done);
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

/**
 * Whether a JSON text nests arrays and objects deeper than `limit`, found by a scan (strings skipped) before the
 * recursive checks below walk the value. The Python runtime scans the same way.
 */
export function tooDeep(text: string, limit: number): boolean {
  let opened = 0;
  for (let i = 0; i < text.length && opened <= limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) opened++;
  }
  if (opened <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function parseJson(bytes: Buffer, depth: number): unknown {
  let value: unknown;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw invalid([{ location: "body", message: "is not UTF-8" }], NOT_JSON);
  }
  if (tooDeep(text, depth)) {
    throw invalid([{ location: "body", message: `nests arrays and objects deeper than ${depth} levels` }], NOT_JSON);
  }
  try {
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
      // Fastify's prototype-poisoning guard, kept, but refused only after the schema had its say, so that a body
      // that is invalid anyway gets the same errors as from the Python implementation.
      POISONED.add(value);
    }
  }
  return value;
}

/** Every media type of a request or response body in the spec (fastify-openapi-glue warns about any without a parser). */
export function declaredMediaTypes(spec: JsonObject): Set<string> {
  const found = new Set<string>();
  const add = (holder: Json | undefined): void => {
    const content = isObject(holder) ? holder["content"] : undefined;
    for (const media of isObject(content) ? Object.keys(content) : []) found.add(media.split(";", 1)[0]?.trim().toLowerCase() ?? media);
  };
  const paths = spec["paths"];
  for (const raw of isObject(paths) ? Object.values(paths) : []) {
    const item = resolve(spec, raw, "").node;
    for (const op of isObject(item) ? Object.values(item) : []) {
      if (!isObject(op)) continue;
      add(resolve(spec, op["requestBody"], "").node);
      const responses = op["responses"];
      for (const response of isObject(responses) ? Object.values(responses) : []) add(resolve(spec, response, "").node);
    }
  }
  return found;
}

const MEDIA_TYPE = /^[^\s/;]+\/[^\s/;]+$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Replaces Fastify's parsers with one that reads a body as the operation's rules for its media type say: JSON, a
 * urlencoded form (converted and validated as an object), or raw bytes (multipart, octet-stream, text, ...).
 */
export function registerBodyParsers(app: FastifyInstance, mediaTypes: Iterable<string>, limits: Pick<Limits, "maxJsonDepth">): void {
  app.removeAllContentTypeParsers();
  const read = (request: FastifyRequest, body: Buffer): unknown => {
    const rules = request.routeOptions.config.body;
    const media = rules ? mediaRulesFor(rules, request.headers["content-type"]) : undefined;
    if (media === undefined || (media.kind === "json" && body.length === 0)) return undefined;
    if (media.kind === "json") return parseJson(body, limits.maxJsonDepth);
    if (media.kind === "form") return readForm(body, media);
    return body;
  };
  // A callback parser: an async one costs Fastify a promise and two microtask turns on every request with a body.
  const parse = (request: FastifyRequest, body: Buffer, done: ParserDone): void => {
    let value: unknown;
    try {
      value = read(request, body);
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)), undefined);
      return;
    }
    done(null, value);
  };
  let anything = false;
  for (const media of mediaTypes) {
    // Fastify refuses to register what is not `type/subtype` (and answers 415 to a request sending one).
    if (!MEDIA_TYPE.test(media)) continue;
    if (media === "*/*") anything = true;
    else if (media.endsWith("/*"))
      app.addContentTypeParser(new RegExp(`^${escapeRegExp(media.slice(0, -1))}`), { parseAs: "buffer" }, parse);
    else app.addContentTypeParser(media, { parseAs: "buffer" }, parse);
  }
  // Other media types only reach a parser on operations without a body (the gate answered 415 for the others),
  // unless an operation takes any media type at all.
  if (anything) app.addContentTypeParser("*", { parseAs: "buffer" }, parse);
  else app.addContentTypeParser("*", (_request: FastifyRequest, _payload: unknown, done: ParserDone) => done(null, undefined));
}
