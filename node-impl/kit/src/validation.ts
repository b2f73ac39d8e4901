/**
 * Request validation exactly as the contract states it, the same rules as the Python runtime: Ajv 2020-12 in
 * strict mode with the shared formats, no coercion of bodies, no removal of extra properties, every error reported.
 * Parameters arrive as strings and are converted by the conventions' small rule set before their schema sees them;
 * a urlencoded form body is converted the same way and validated as the object its schema describes.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { FastifyRequest } from "fastify";

import { ContractError, type FormatDefinition, type OperationInfo } from "./contract.js";
import { cookiesOf } from "./cookies.js";
import { type FieldError, invalid } from "./problem.js";
import { type Json, type JsonObject, extensionKeys, isObject, pointer, resolve } from "./spec.js";
import { type Plan, Visibility, omit } from "./visibility.js";

const SPEC_ID = "urn:twinapi:spec";
const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
/** OpenAPI's own schema keywords: annotations for validation, declared so that strict mode stays on. */
const OPENAPI_KEYWORDS = ["example", "xml", "discriminator", "externalDocs"];
/** What a URI fragment may hold as is (the Python runtime's set); the rest of a JSON pointer is percent-encoded. */
const NOT_FRAGMENT_SAFE = /[^A-Za-z0-9/~\-._!$&'()*+,;=:@]/gu;
const FORM = "application/x-www-form-urlencoded";
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

type ParamLocation = "path" | "query" | "header" | "cookie";
type ScalarKind = "integer" | "number" | "boolean" | null;

interface Param {
  readonly name: string;
  readonly in: ParamLocation;
  readonly location: string;
  readonly required: boolean;
  readonly style: string;
  readonly array: boolean;
  readonly explode: boolean;
  /** The scalar kind of the value, or of each item of an array. */
  readonly kind: ScalarKind;
  /** An object parameter's properties and their scalar kinds; null for every other parameter. */
  readonly fields: ReadonlyMap<string, ScalarKind> | null;
  readonly default: { readonly value: Json } | null;
  readonly validate: ValidateFunction;
}

/** How one declared media type of a request body is read: parsed JSON, a converted form, or raw bytes. */
export interface MediaRules {
  readonly kind: "json" | "form" | "raw";
  /** Null when the spec gives no schema to check. */
  readonly validate: ValidateFunction | null;
  /** Fills in the schema's defaults (as openapi-typescript's types promise), run on a body that passed validation. */
  readonly fill: ValidateFunction | null;
  /** Form fields: their scalar kind, for the shared string conversion. */
  readonly fields: ReadonlyMap<string, ScalarKind>;
  /** Form fields that are arrays. */
  readonly arrays: ReadonlySet<string>;
  /** readOnly properties, removed from a JSON or form body once it is validated; null when there are none. */
  readonly omit: Plan | null;
}

export interface BodyRules {
  readonly required: boolean;
  /** Lower-case media types without parameters, wildcards (`image/*`, `*\/*`) included. */
  readonly mediaTypes: readonly string[];
  readonly media: ReadonlyMap<string, MediaRules>;
}

/** The rules of the media type a request declares: exact, then `type/*`, then `*\/*`. */
function mediaRules(body: BodyRules, mediaType: string): MediaRules | undefined {
  if (mediaType === "") return undefined;
  return body.media.get(mediaType) ?? body.media.get(`${mediaType.split("/", 1)[0] ?? ""}/*`) ?? body.media.get("*/*");
}

/** The rules for a Content-Type header: its media type without parameters, in any case. */
export function mediaRulesFor(body: BodyRules, header: string | undefined): MediaRules | undefined {
  return mediaRules(body, header?.split(";", 1)[0]?.trim().toLowerCase() ?? "");
}

export type RequestCheck = (request: FastifyRequest) => void;

function calendarCheck({ pattern, calendar }: FormatDefinition): (value: string) => boolean {
  // A pattern alone is a test, which builds no match array.
  if (calendar === null) return (value) => pattern.test(value);
  return (value) => {
    const match = pattern.exec(value);
    if (match === null) return false;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const monthLength = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (month < 1 || month > 12 || day < 1 || day > monthLength) return false;
    if (calendar === "date-time") {
      if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6]) > 60) return false;
      if (match[7] !== undefined && (Number(match[7]) > 23 || Number(match[8]) > 59)) return false;
    }
    return true;
  };
}

/**
 * Patterns are ECMA-262 regexes. Ajv compiles them with the `u` flag, under which some valid ones are errors
 * (identity escapes such as `\_` or `\-`); those are compiled without it, as any ECMA-262 engine would.
 */
const ecmaRegExp = Object.assign(
  (pattern: string, flags: string): RegExp => {
    try {
      return new RegExp(pattern, flags);
    } catch (error) {
      if (!flags.includes("u")) throw error;
      return new RegExp(pattern, flags.replace("u", ""));
    }
  },
  { code: "new RegExp" },
);

export function isJsonMedia(mediaType: string): boolean {
  const base = mediaType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return base === "application/json" || base.endsWith("+json");
}

export function coerce(value: string, kind: ScalarKind): Json {
  if (kind === "integer" && INTEGER.test(value)) return Number(value);
  if (kind === "number" && NUMBER.test(value)) return Number(value);
  if (kind === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}

function errorsOf(validate: ValidateFunction, location: string): FieldError[] {
  return (validate.errors ?? []).map((error: ErrorObject) => ({
    location: location + error.instancePath,
    message: error.message ?? `fails ${error.keyword}`,
  }));
}

/** Every string value of a `format` keyword: formats the kit does not define are annotations, as in the Python runtime. */
function formatsUsed(node: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) formatsUsed(item, found);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "format" && typeof value === "string") found.add(value);
      else formatsUsed(value, found);
    }
  }
  return found;
}

/** Compiles, once at start, the validators of every operation's parameters and body from the spec itself. */
export class RequestValidators {
  private readonly ajv: Ajv2020;
  /** Fills in body defaults once a body passed validation, which saw it as sent (a default may be invalid: `default: null`). */
  private readonly filler: Ajv2020;
  private readonly spec: JsonObject;

  /**
   * `spec` is the contract document's validation form: its schemas are JSON Schema 2020-12 already; `visibility`
   * says what leaves request bodies once validated.
   */
  constructor(
    spec: JsonObject,
    formats: Readonly<Record<string, FormatDefinition>>,
    private readonly visibility = new Visibility(undefined),
  ) {
    this.spec = spec;
    this.ajv = this.ajvFor(formats, false);
    this.filler = this.ajvFor(formats, true);
  }

  private ajvFor(formats: Readonly<Record<string, FormatDefinition>>, useDefaults: boolean): Ajv2020 {
    const ajv = new Ajv2020({
      // The filler only fills in defaults, and strict mode would refuse those it cannot place (under `oneOf`, ...).
      strict: !useDefaults,
      logger: useDefaults ? false : undefined,
      // Strict mode's lints of valid schemas (`properties` without `type: object`, a `required` name without a
      // property, `items` without `minItems`) would refuse documents that are correct; unknown keywords stay errors.
      strictTypes: false,
      strictRequired: false,
      strictTuples: false,
      allErrors: true,
      coerceTypes: false,
      removeAdditional: false,
      useDefaults,
      // `type: [string, "null"]` is how OpenAPI 3.1 spells nullable.
      allowUnionTypes: true,
      keywords: [...OPENAPI_KEYWORDS, ...extensionKeys(this.spec)],
      code: { regExp: ecmaRegExp },
    });
    for (const [name, definition] of Object.entries(formats)) {
      ajv.addFormat(name, { type: "string", validate: calendarCheck(definition) });
    }
    for (const name of formatsUsed(this.spec)) {
      if (!Object.hasOwn(formats, name)) ajv.addFormat(name, true);
    }
    // The document sits under $defs with its own $id, so `#/components/...` refs resolve inside it while only
    // the schemas actually referenced get compiled (and checked by strict mode).
    ajv.addSchema({ $id: `${SPEC_ID}:holder`, $defs: { document: { ...this.spec, $id: SPEC_ID } } });
    return ajv;
  }

  private compile(schemaPointer: string, ajv = this.ajv): ValidateFunction {
    const fragment = schemaPointer.replace(NOT_FRAGMENT_SAFE, (char) => encodeURIComponent(char));
    try {
      return ajv.compile({ $ref: `${SPEC_ID}#${fragment}` });
    } catch (error) {
      throw new ContractError(`${schemaPointer}: the schema cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The check an operation's requests go through after their body is parsed (null when it has no parameters and no
   * body: nothing to check) and its body rules; `pathNames` maps router names to the spec's.
   */
  forOperation(operation: OperationInfo, pathNames: ReadonlyMap<string, string>): { check: RequestCheck | null; body: BodyRules | null } {
    const paths = this.spec["paths"];
    const item = resolve(this.spec, isObject(paths) ? paths[operation.path] : undefined, pointer("paths", operation.path));
    if (!isObject(item.node)) throw new ContractError(`${operation.method} ${operation.path} is not in the spec: run \`make generate\``);
    const method = operation.method.toLowerCase();
    const op = resolve(this.spec, item.node[method], item.where + pointer(method));
    if (!isObject(op.node)) throw new ContractError(`${operation.method} ${operation.path} is not in the spec: run \`make generate\``);
    const params = this.params(item.node, item.where, op.node, op.where);
    const omitted = (mediaType: string): Plan | null => this.visibility.request(operation.path, operation.method, mediaType);
    const body = this.body(op.node["requestBody"], op.where + pointer("requestBody"), omitted);
    return { check: buildCheck(params, body, pathNames), body };
  }

  private params(item: JsonObject, itemWhere: string, op: JsonObject, opWhere: string): Param[] {
    // Operation parameters override path-item ones with the same name and location, keeping their position.
    const merged = new Map<string, { param: JsonObject; name: string; location: string; where: string }>();
    for (const [group, where] of [
      [item["parameters"], itemWhere + "/parameters"],
      [op["parameters"], opWhere + "/parameters"],
    ] as const) {
      if (!Array.isArray(group)) continue;
      group.forEach((raw, index) => {
        const { node, where: at } = resolve(this.spec, raw, `${where}/${index}`);
        const { name, in: location } = isObject(node) ? node : {};
        if (isObject(node) && typeof name === "string" && typeof location === "string") {
          // HTTP header names are case-insensitive: an operation's X-Id overrides its path's x-id.
          const key = location === "header" ? name.toLowerCase() : name;
          merged.set(`${location}:${key}`, { param: node, name, location, where: at });
        }
      });
    }
    return [...merged.values()].map(({ param, name, location, where }) => this.param(param, name, location, where));
  }

  private scalarKind(raw: Json | undefined): ScalarKind {
    const schema = resolve(this.spec, raw, "").node;
    if (!isObject(schema)) return null;
    let type = schema["type"];
    if (Array.isArray(type)) {
      const types = type.filter((t) => t !== "null");
      type = types.length === 1 ? (types[0] ?? null) : null;
    }
    return type === "integer" || type === "number" || type === "boolean" ? type : null;
  }

  private param(param: JsonObject, name: string, location: string, where: string): Param {
    if (location !== "path" && location !== "query" && location !== "header" && location !== "cookie") {
      throw new ContractError(`${where}: parameters in ${JSON.stringify(location)} are not supported`);
    }
    const resolved = resolve(this.spec, param["schema"], where + "/schema");
    const schema = isObject(resolved.node) ? resolved.node : {};
    const style = typeof param["style"] === "string" ? param["style"] : location === "query" || location === "cookie" ? "form" : "simple";
    // The Python runtime's reading of `explode`, so that both split the same strings the same way.
    let explode = (param["explode"] ?? style === "form") === true && (location === "query" || location === "cookie");
    if ((location === "path" || location === "header") && "explode" in param) explode = param["explode"] === true;
    const array = schema["type"] === "array";
    const properties = isObject(schema["properties"]) ? schema["properties"] : {};
    const object = schema["type"] === "object" || style === "deepObject";
    return {
      name,
      in: location,
      location: `${location}/${name}`,
      required: param["required"] === true || location === "path",
      style,
      array,
      explode,
      kind: this.scalarKind(array ? schema["items"] : schema),
      fields: object ? new Map(Object.entries(properties).map(([field, value]) => [field, this.scalarKind(value)])) : null,
      default: "default" in schema ? { value: schema["default"] ?? null } : null,
      // A parameter described by `content` instead of `schema` is taken as it is.
      validate: "schema" in param ? this.compile(where + "/schema") : this.ajv.compile(true),
    };
  }

  private bodyChecks(schemaPointer: string | null): Pick<MediaRules, "validate" | "fill"> {
    if (schemaPointer === null) return { validate: null, fill: null };
    return { validate: this.compile(schemaPointer), fill: this.compile(schemaPointer, this.filler) };
  }

  private body(raw: Json | undefined, where: string, omitted: (mediaType: string) => Plan | null): BodyRules | null {
    const { node, where: at } = resolve(this.spec, raw, where);
    if (!isObject(node)) return null;
    const content = isObject(node["content"]) ? node["content"] : {};
    const media = new Map<string, MediaRules>();
    for (const [mediaType, entry] of Object.entries(content)) {
      const key = mediaType.split(";", 1)[0]?.trim().toLowerCase() ?? mediaType;
      const hasSchema = isObject(entry) && "schema" in entry;
      const schemaPointer = at + pointer("content", mediaType, "schema");
      const schema = isObject(entry) && "schema" in entry ? resolve(this.spec, entry["schema"], schemaPointer).node : undefined;
      if (isJsonMedia(key)) {
        const checks = this.bodyChecks(hasSchema ? schemaPointer : null);
        media.set(key, { kind: "json", ...checks, fields: new Map(), arrays: new Set(), omit: omitted(key) });
      } else if (key === FORM && mayBeObject(schema)) {
        const properties = isObject(schema) && isObject(schema["properties"]) ? schema["properties"] : {};
        const arrays = new Set<string>();
        const fields = new Map<string, ScalarKind>();
        for (const [field, value] of Object.entries(properties)) {
          const property = resolve(this.spec, value, "").node;
          const isArray = isObject(property) && property["type"] === "array";
          if (isArray) arrays.add(field);
          fields.set(field, this.scalarKind(isArray && isObject(property) ? property["items"] : value));
        }
        media.set(key, { kind: "form", ...this.bodyChecks(schemaPointer), fields, arrays, omit: omitted(key) });
      } else {
        media.set(key, { kind: "raw", ...this.bodyChecks(null), fields: new Map(), arrays: new Set(), omit: null });
      }
    }
    return { required: node["required"] === true, mediaTypes: [...media.keys()], media };
  }
}

/** A urlencoded form as the object its schema describes, converted like parameters; delivered so to the handler. */
export function readForm(bytes: Buffer, media: MediaRules): Record<string, Json> {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw invalid([{ location: "body", message: "is not UTF-8" }]);
  }
  const form: Record<string, Json> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const converted = coerce(value, media.fields.get(name) ?? null);
    const list = form[name];
    if (!media.arrays.has(name)) form[name] = converted;
    else if (Array.isArray(list)) list.push(converted);
    else form[name] = [converted];
  }
  return form;
}

/** The strings a request carries for a parameter (repeated query keys are several; header lines are one list). */
class Sources {
  private cookies: Map<string, string> | null = null;

  constructor(
    private readonly request: FastifyRequest,
    readonly path: Readonly<Record<string, string>>,
  ) {}

  get query(): Readonly<Record<string, string | string[] | undefined>> {
    return this.request.query as Record<string, string | string[] | undefined>;
  }

  values(param: Param): string[] {
    if (param.in === "query") {
      const found = this.query[param.name];
      return found === undefined ? [] : Array.isArray(found) ? found : [found];
    }
    if (param.in === "path") {
      const found = this.path[param.name];
      return found === undefined ? [] : [found];
    }
    if (param.in === "header") {
      const found = this.request.headers[param.name.toLowerCase()];
      return found === undefined ? [] : [Array.isArray(found) ? found.join(", ") : found];
    }
    this.cookies ??= cookiesOf(this.request);
    const found = this.cookies.get(param.name);
    return found === undefined ? [] : [found];
  }

  /** An object parameter in its OpenAPI serialisation (deepObject, exploded form, or `k,v` pairs), or null when absent. */
  object(param: Param, fields: ReadonlyMap<string, ScalarKind>): Record<string, Json> | null {
    const kind = (key: string): ScalarKind => fields.get(key) ?? null;
    const last = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.at(-1) : value);
    const found: Record<string, Json> = {};
    if (param.in === "query" && param.style === "deepObject") {
      const prefix = `${param.name}[`;
      for (const [key, value] of Object.entries(this.query)) {
        const text = last(value);
        if (key.startsWith(prefix) && key.endsWith("]") && text !== undefined) {
          const field = key.slice(prefix.length, -1);
          found[field] = coerce(text, kind(field));
        }
      }
      return Object.keys(found).length > 0 || param.required ? found : null;
    }
    if (param.in === "query" && param.explode) {
      for (const field of fields.keys()) {
        const text = last(this.query[field]);
        if (text !== undefined) found[field] = coerce(text, kind(field));
      }
      // {} serialises to nothing in both styles: for a required parameter, nothing is that value.
      return Object.keys(found).length > 0 || param.required ? found : null;
    }
    const raw = this.values(param)[0];
    if (raw === undefined) return null;
    const items = raw.split(",");
    const pairs: [string, string][] = param.explode
      ? items.map((item) => {
          const at = item.indexOf("=");
          return at === -1 ? [item, ""] : [item.slice(0, at), item.slice(at + 1)];
        })
      : items.flatMap((key, index) =>
          index % 2 === 0 && index + 1 < items.length ? [[key, items[index + 1] ?? ""] as [string, string]] : [],
        );
    for (const [key, value] of pairs) found[key] = coerce(value, kind(key));
    return found;
  }
}

/** A form encodes an object: a form body whose schema cannot be one (`type: string`) is taken as it arrives. */
function mayBeObject(schema: Json | undefined): boolean {
  if (!isObject(schema)) return false;
  const kind = schema["type"] ?? "object";
  return kind === "object" || (Array.isArray(kind) && kind.includes("object"));
}

/** Parsed JSON bodies holding a `__proto__` or `constructor.prototype` key: refused once they pass their schema. */
export const POISONED = new WeakSet<object>();

function buildCheck(params: readonly Param[], body: BodyRules | null, pathNames: ReadonlyMap<string, string>): RequestCheck | null {
  if (params.length === 0 && body === null && pathNames.size === 0) return null;
  return (request) => {
    if (body?.required === true && request.body === undefined) {
      throw invalid([{ location: "body", message: "is required" }]);
    }
    // The router's positional names become the spec's (the handler sees `request.params.<name>`).
    const routed = request.params as Record<string, string>;
    const path: Record<string, Json> = {};
    for (const [key, name] of pathNames) if (key in routed) path[name] = routed[key] ?? "";
    const sources = new Sources(request, path as Record<string, string>);
    const query = request.query as Record<string, Json>;
    const headers = request.headers as Record<string, Json>;
    const target = (param: Param): Record<string, Json> | null =>
      param.in === "path" ? path : param.in === "query" ? query : param.in === "header" ? headers : null;
    const store = (param: Param, value: Json): void => {
      const into = target(param);
      if (into !== null) into[param.in === "header" ? param.name.toLowerCase() : param.name] = value;
    };

    const errors: FieldError[] = [];
    for (const param of params) {
      let value: Json;
      if (param.fields !== null) {
        const found = sources.object(param, param.fields);
        if (found === null) {
          if (param.required) errors.push({ location: param.location, message: "is required" });
          continue;
        }
        value = found;
      } else {
        const raw = sources.values(param);
        if (raw.length === 0) {
          if (param.required) errors.push({ location: param.location, message: "is required" });
          else if (param.default !== null) store(param, structuredClone(param.default.value));
          continue;
        }
        if (param.array) {
          // Unexploded, the empty list is the empty string (`a=`), not a list of one empty string.
          const items = param.explode || raw.length > 1 ? raw : raw[0] ? raw[0].split(",") : [];
          value = items.map((item) => coerce(item, param.kind));
        } else if (raw.length > 1) {
          errors.push({ location: param.location, message: "must be given at most once" });
          continue;
        } else {
          value = coerce(raw[0] ?? "", param.kind);
        }
      }
      if (param.validate(value)) store(param, value);
      else errors.push(...errorsOf(param.validate, param.location));
    }
    const media = body && mediaRulesFor(body, request.headers["content-type"]);
    if (media?.validate && request.body !== undefined) {
      if (!media.validate(request.body)) errors.push(...errorsOf(media.validate, "body"));
      else media.fill?.(request.body);
    }
    if (errors.length > 0) throw invalid(errors);
    if (typeof request.body === "object" && request.body !== null && POISONED.has(request.body)) {
      throw invalid([{ location: "body", message: "must not have a __proto__ or constructor.prototype property" }]);
    }
    if (media?.omit && request.body !== undefined) request.body = omit(media.omit, request.body);
    request.params = path;
  };
}
