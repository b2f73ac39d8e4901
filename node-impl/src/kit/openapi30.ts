/**
 * OpenAPI's own schema keywords in the JSON Schema 2020-12 terms Ajv speaks. 3.0 documents need it; 3.1 documents
 * converted from 3.0 keep `nullable` and boolean bounds often enough that they are read the same way (as Schemathesis
 * and the Python runtime read them): `nullable: true` always means null is allowed.
 */
import { type Json, type JsonObject, isObject } from "./spec.js";

/** `nullable` becomes a null type, enum member or branch; boolean `exclusiveMinimum/Maximum` become numeric ones. */
export function upgrade(node: Json): Json {
  if (Array.isArray(node)) return node.map(upgrade);
  if (!isObject(node)) return node;
  const out: JsonObject = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, upgrade(value)]));
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
  // Only the boolean keyword: a property that happens to be named `nullable` keeps its schema.
  const nullable = out["nullable"];
  if (typeof nullable !== "boolean") return out;
  delete out["nullable"];
  if (!nullable) return out;
  const type = out["type"];
  const choices = out["enum"];
  if (Array.isArray(choices) && !choices.includes(null)) out["enum"] = [...choices, null];
  if (typeof type === "string") out["type"] = [type, "null"];
  else if (Array.isArray(type)) out["type"] = type.includes("null") ? type : [...type, "null"];
  // No type to widen (`$ref` or `allOf` beside `nullable`): null is one more branch.
  else if (!Array.isArray(choices)) return { anyOf: [out, { type: "null" }] };
  return out;
}

/** The document as the validators and serialisers read it. */
export function validationView(spec: JsonObject): JsonObject {
  return upgrade(spec) as JsonObject;
}
