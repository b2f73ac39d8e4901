/** The OpenAPI document as plain JSON data, and the few ways the kit reads it. */
import { readFileSync } from "node:fs";

import { parse } from "yaml";

import { ContractError } from "./contract.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function loadSpec(path: string): JsonObject {
  // The YAML 1.2 core schema has no timestamps or other non-JSON types, so the result is what JSON would hold.
  const document = parse(readFileSync(path, "utf8")) as Json;
  if (!isObject(document)) throw new ContractError(`${path} does not hold an OpenAPI document`);
  return document;
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
