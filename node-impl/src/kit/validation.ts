/**
 * Request validation exactly as the contract states it, the same rules as the Python runtime: Ajv 2020-12 in
 * strict mode with the shared formats, no coercion of bodies, no removal of extra properties, every error reported.
 * Parameters arrive as strings and are converted by the conventions' small rule set before their schema sees them.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { FastifyRequest } from "fastify";

import type { FormatDefinition, OperationInfo } from "./contract.js";
import { type FieldError, invalid } from "./problem.js";
import { type Json, type JsonObject, extensionKeys, isObject, pointer, resolve } from "./spec.js";

const SPEC_ID = "urn:twinapi:spec";
const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
/** OpenAPI's own schema keywords: annotations for validation, declared so that strict mode stays on. */
const OPENAPI_KEYWORDS = ["example", "xml", "discriminator", "externalDocs"];

type ParamLocation = "path" | "query" | "header";
type ScalarKind = "integer" | "number" | "boolean" | null;

interface Param {
  readonly name: string;
  readonly in: ParamLocation;
  /** Where Fastify keeps the value: the name, lowercased for headers. */
  readonly key: string;
  readonly location: string;
  readonly required: boolean;
  readonly array: boolean;
  readonly explode: boolean;
  readonly kind: ScalarKind;
  readonly default: { readonly value: Json } | null;
  readonly validate: ValidateFunction;
}

export interface BodyRules {
  readonly required: boolean;
  readonly mediaTypes: readonly string[];
  readonly validate: ValidateFunction | null;
}

export type RequestCheck = (request: FastifyRequest) => void;

function calendarCheck({ pattern, calendar }: FormatDefinition): (value: string) => boolean {
  return (value) => {
    const match = pattern.exec(value);
    if (match === null) return false;
    if (calendar === null) return true;
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

export function isJsonMedia(mediaType: string): boolean {
  const base = mediaType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return base === "application/json" || base.endsWith("+json");
}

function coerce(value: string, kind: ScalarKind): Json {
  if (kind === "integer" && INTEGER.test(value)) return Number(value);
  if (kind === "number" && NUMBER.test(value)) return Number(value);
  if (kind === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}

function scalarKind(schema: Json | undefined): ScalarKind {
  if (!isObject(schema)) return null;
  let type = schema["type"];
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    type = types.length === 1 ? (types[0] ?? null) : null;
  }
  return type === "integer" || type === "number" || type === "boolean" ? type : null;
}

function errorsOf(validate: ValidateFunction, location: string): FieldError[] {
  return (validate.errors ?? []).map((error: ErrorObject) => ({
    location: location + error.instancePath,
    message: error.message ?? `fails ${error.keyword}`,
  }));
}

/** Compiles, once at start, the validators of every operation's parameters and body from the spec itself. */
export class RequestValidators {
  private readonly ajv: Ajv2020;
  private readonly spec: JsonObject;

  constructor(spec: JsonObject, formats: Readonly<Record<string, FormatDefinition>>) {
    this.spec = spec;
    this.ajv = new Ajv2020({
      strict: true,
      allErrors: true,
      coerceTypes: false,
      removeAdditional: false,
      // Body defaults are applied so that request bodies have the shape openapi-typescript's types promise.
      useDefaults: true,
      // `type: [string, "null"]` is how OpenAPI 3.1 spells nullable.
      allowUnionTypes: true,
      keywords: [...OPENAPI_KEYWORDS, ...extensionKeys(spec)],
    });
    for (const [name, definition] of Object.entries(formats)) {
      this.ajv.addFormat(name, { type: "string", validate: calendarCheck(definition) });
    }
    // The document sits under $defs with its own $id, so `#/components/...` refs resolve inside it while only
    // the schemas actually referenced get compiled (and checked by strict mode).
    this.ajv.addSchema({ $id: `${SPEC_ID}:holder`, $defs: { document: { ...spec, $id: SPEC_ID } } });
  }

  private compile(schemaPointer: string): ValidateFunction {
    return this.ajv.compile({ $ref: `${SPEC_ID}#${encodeURI(schemaPointer)}` });
  }

  /** The check an operation's requests go through after their body is parsed. */
  forOperation(operation: OperationInfo): { check: RequestCheck; body: BodyRules | null } {
    const base = pointer("paths", operation.path);
    const item = resolve(this.spec, this.spec["paths"] !== undefined && isObject(this.spec["paths"]) ? this.spec["paths"][operation.path] : undefined, base);
    if (!isObject(item.node)) throw new Error(`${operation.method} ${operation.path} is not in the spec: run \`make generate\``);
    const method = operation.method.toLowerCase();
    const op = resolve(this.spec, item.node[method], item.where + pointer(method));
    if (!isObject(op.node)) throw new Error(`${operation.method} ${operation.path} is not in the spec: run \`make generate\``);
    const params = this.params(item.node, item.where, op.node, op.where);
    const body = this.body(op.node["requestBody"], op.where + pointer("requestBody"));
    return { check: buildCheck(params, body), body };
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
          merged.set(`${location}:${name}`, { param: node, name, location, where: at });
        }
      });
    }
    return [...merged.values()].map(({ param, name, location, where }) => this.param(param, name, location, where));
  }

  private param(param: JsonObject, name: string, location: string, where: string): Param {
    if (location !== "path" && location !== "query" && location !== "header") {
      throw new Error(`${where}: ${location} parameters are not supported`);
    }
    const schema = resolve(this.spec, param["schema"] ?? {}, where + "/schema").node;
    const style = param["style"] ?? (location === "query" ? "form" : "simple");
    if ((isObject(schema) && schema["type"] === "object") || style === "deepObject") {
      throw new Error(`${where}: object parameters are not supported`);
    }
    const array = isObject(schema) && schema["type"] === "array";
    return {
      name,
      in: location,
      key: location === "header" ? name.toLowerCase() : name,
      location: `${location}/${name}`,
      required: param["required"] === true || location === "path",
      array,
      explode: location === "query" && (param["explode"] ?? style === "form") === true,
      kind: scalarKind(resolve(this.spec, array && isObject(schema) ? schema["items"] : schema, "").node),
      default: isObject(schema) && "default" in schema ? { value: schema["default"] ?? null } : null,
      validate: this.compile(where + "/schema"),
    };
  }

  private body(raw: Json | undefined, where: string): BodyRules | null {
    const { node, where: at } = resolve(this.spec, raw, where);
    if (!isObject(node)) return null;
    const content = isObject(node["content"]) ? node["content"] : {};
    const mediaTypes = Object.keys(content);
    const json = mediaTypes.find(isJsonMedia);
    const schema = json === undefined ? undefined : content[json];
    return {
      required: node["required"] === true,
      mediaTypes: mediaTypes.map((media) => media.split(";", 1)[0]?.trim().toLowerCase() ?? media),
      validate: json !== undefined && isObject(schema) && "schema" in schema ? this.compile(at + pointer("content", json, "schema")) : null,
    };
  }
}

function sourceOf(request: FastifyRequest, location: ParamLocation): Record<string, unknown> {
  if (location === "path") return request.params as Record<string, unknown>;
  if (location === "query") return request.query as Record<string, unknown>;
  return request.headers;
}

function buildCheck(params: readonly Param[], body: BodyRules | null): RequestCheck {
  return (request) => {
    if (body?.required === true && request.body === undefined) {
      throw invalid([{ location: "body", message: "is required" }]);
    }
    const errors: FieldError[] = [];
    for (const param of params) {
      const source = sourceOf(request, param.in);
      const found = source[param.key];
      // Fastify hands over strings, and arrays of them for repeated query parameters.
      const raw = (Array.isArray(found) ? found : [found]).filter((value): value is string => typeof value === "string");
      if (raw.length === 0) {
        if (param.required) errors.push({ location: param.location, message: "is required" });
        else if (param.default !== null) source[param.key] = structuredClone(param.default.value);
        continue;
      }
      let value: Json;
      if (param.array) {
        const items = param.explode || raw.length > 1 ? raw : (raw[0] ?? "").split(",");
        value = items.map((item) => coerce(item, param.kind));
      } else if (raw.length > 1) {
        errors.push({ location: param.location, message: "must be given at most once" });
        continue;
      } else {
        value = coerce(raw[0] ?? "", param.kind);
      }
      if (param.validate(value)) source[param.key] = value;
      else errors.push(...errorsOf(param.validate, param.location));
    }
    if (body?.validate && request.body !== undefined && !Buffer.isBuffer(request.body) && !body.validate(request.body)) {
      errors.push(...errorsOf(body.validate, "body"));
    }
    if (errors.length > 0) throw invalid(errors);
  };
}
