/** OpenAPI 3.0 schemas in the JSON Schema 2020-12 terms Ajv speaks (3.1 documents are already there, nearly). */
import { type Json, type JsonObject, isObject } from "./spec.js";

/** `nullable` becomes a null type (or enum member); boolean `exclusiveMinimum/Maximum` become numeric ones. */
export function upgrade(node: Json): Json {
  if (Array.isArray(node)) return node.map(upgrade);
  if (!isObject(node)) return node;
  const out: JsonObject = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, upgrade(value)]));
  // Only the boolean keyword: a property that happens to be named `nullable` keeps its schema.
  if (typeof out["nullable"] === "boolean") {
    const type = out["type"];
    const choices = out["enum"];
    if (out["nullable"] && typeof type === "string") out["type"] = [type, "null"];
    if (out["nullable"] && Array.isArray(choices) && !choices.includes(null)) out["enum"] = [...choices, null];
    delete out["nullable"];
  }
  for (const [bound, exclusive] of [
    ["maximum", "exclusiveMaximum"],
    ["minimum", "exclusiveMinimum"],
  ] as const) {
    const flag = out[exclusive];
    if (typeof flag !== "boolean") continue;
    delete out[exclusive];
    if (flag && bound in out) {
      out[exclusive] = out[bound] ?? null;
      delete out[bound];
    }
  }
  return out;
}

export function isOpenApi30(spec: JsonObject): boolean {
  const version = spec["openapi"];
  return typeof version === "string" && version.startsWith("3.0");
}

/** A 3.1 document's leftover boolean `nullable`s, which JSON Schema 2020-12 knows nothing of (Ajv does, as 3.0 means it). */
function withoutNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutNullable);
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => key !== "nullable" || typeof value !== "boolean")
      .map(([key, value]) => [key, withoutNullable(value)]),
  );
}

/**
 * The document as the validators read it: a 3.0 one upgraded; in a 3.1 one `nullable` is an annotation, as for the
 * Python runtime's validator (Ajv would make it allow null, or refuse it without a `type`).
 */
export function validationView(spec: JsonObject): JsonObject {
  return (isOpenApi30(spec) ? upgrade(spec) : withoutNullable(spec)) as JsonObject;
}
