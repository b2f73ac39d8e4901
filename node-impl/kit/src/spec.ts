/** The contract document twinapi-codegen generates, and the few ways the kit reads the OpenAPI documents in it. */
import { readFileSync } from "node:fs";

import { ContractError } from "./contract.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The format of the contract document this kit reads (twinapi-codegen's contract.py writes it). */
export const CONTRACT_FORMAT = 1;

/**
 * What the generator wrote for the kit: the spec as written (served at /openapi.json), the document routed and
 * serialised by, OpenAPI's dialect already in JSON Schema 2020-12 terms, that document with tagged `oneOf`s checked
 * by their tag, which requests are validated by, and what leaves request and response bodies (readOnly and writeOnly
 * properties; absent when no body carries any). The kit parses no YAML and upgrades nothing.
 */
export interface ContractDocument {
  readonly spec: JsonObject;
  readonly served: JsonObject;
  readonly validation: JsonObject;
  /** How the kit's refusals are answered, per operation and per path (see refusals). */
  readonly errors: JsonObject;
  readonly visibility?: Json;
}

export function loadContract(path: string): ContractDocument {
  let document: Json;
  try {
    document = JSON.parse(readFileSync(path, "utf8")) as Json;
  } catch (error) {
    throw new ContractError(
      `${path}: cannot read the contract document (${error instanceof Error ? error.message : String(error)}): run \`make generate\``,
    );
  }
  if (!isObject(document) || document["twinapi-contract"] !== CONTRACT_FORMAT) {
    throw new ContractError(
      `${path} is not a contract document of format ${CONTRACT_FORMAT}: run \`make generate\` with the twinapi-codegen that matches this kit`,
    );
  }
  const { spec, served } = document;
  const validation = document["validation"] ?? served; // written only where it differs from `served`
  const errors = document["errors"] ?? {};
  if (!isObject(spec) || !isObject(served) || !isObject(validation)) {
    throw new ContractError(`${path}: the contract document lacks its spec: run \`make generate\``);
  }
  if (!isObject(errors)) throw new ContractError(`${path}: the contract document's errors are not a table: run \`make generate\``);
  const visibility = document["visibility"];
  return visibility === undefined ? { spec, served, validation, errors } : { spec, served, validation, errors, visibility };
}

/**
 * The served document as fastify-openapi-glue takes it: the glue checks it against OpenAPI's own schema, which wants
 * at least one response per operation; an operation that documents none may answer anything, as `default` says.
 */
export function forGlue(spec: JsonObject): JsonObject {
  const copy = structuredClone(spec);
  const paths = copy["paths"];
  for (const item of isObject(paths) ? Object.values(paths) : []) {
    for (const op of isObject(item) ? Object.values(item) : []) {
      const responses = isObject(op) ? op["responses"] : undefined;
      if (isObject(op) && isObject(responses) && Object.keys(responses).length === 0) {
        op["responses"] = { default: { description: "Not documented." } };
      }
    }
  }
  return copy;
}

export function escapePointer(part: string): string {
  return part.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function pointer(...parts: string[]): string {
  return parts.map((part) => "/" + escapePointer(part)).join("");
}

/** The node at a local JSON pointer (`/components/schemas/Task`), or undefined. */
export function at(document: JsonObject, path: string): Json | undefined {
  let node: Json | undefined = document;
  for (const raw of path.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = Array.isArray(node) ? node[Number(key)] : isObject(node) ? node[key] : undefined;
  }
  return node;
}

/** Follows local `$ref`s; returns the object found and the pointer it sits at (the schemas inside are reached from it). */
export function resolve(document: JsonObject, node: Json | undefined, where: string): { node: Json | undefined; where: string } {
  const seen = new Set<string>();
  let current = { node, where };
  while (isObject(current.node) && typeof current.node["$ref"] === "string" && current.node["$ref"].startsWith("#/")) {
    const target = current.node["$ref"].slice(1);
    if (seen.has(target)) break;
    seen.add(target);
    current = { node: at(document, target), where: target };
  }
  return current;
}

/** Every `x-` extension key used anywhere: Ajv's strict mode must know them as annotation keywords. */
export function extensionKeys(node: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) extensionKeys(item, found);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith("x-")) found.add(key);
      extensionKeys(value, found);
    }
  }
  return found;
}
