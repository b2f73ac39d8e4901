/**
 * OpenAPI's own schema keywords in the JSON Schema 2020-12 terms Ajv speaks. 3.0 documents need it; 3.1 documents
 * converted from 3.0 keep `nullable` and boolean bounds often enough that they are read the same way (as Schemathesis
 * and the Python runtime read them): `nullable: true` always means null is allowed.
 */
import { type Json, type JsonObject, at, isObject } from "./spec.js";

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

/**
 * `oneOf` with a `discriminator`: a value whose tag names a branch is checked against that branch alone. Plain `oneOf`
 * refuses a value that two branches accept, which tagged branches sharing optional properties often do. A value
 * without a known tag is still held to exactly one branch, so nothing JSON Schema accepts is refused.
 */
export function discriminated(spec: JsonObject): JsonObject {
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const out: JsonObject = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value)]));
    const branches = out["oneOf"];
    const tagging = out["discriminator"];
    if (!Array.isArray(branches) || !isObject(tagging)) return out;
    const name = tagging["propertyName"];
    const tags = [...tagsOf(branches, tagging["mapping"])].filter(([, ref]) => exists(spec, ref));
    if (typeof name !== "string" || tags.length === 0) return out;
    const byTag: JsonObject = {
      type: "object",
      required: [name],
      properties: { [name]: { enum: tags.map(([tag]) => tag) } },
      allOf: tags.map(([tag, ref]) => ({ if: { properties: { [name]: { const: tag } } }, then: { $ref: ref } })),
    };
    delete out["oneOf"];
    const allOf = Array.isArray(out["allOf"]) ? out["allOf"] : [];
    out["allOf"] = [...allOf, { anyOf: [{ oneOf: branches }, byTag] }];
    return out;
  };
  return walk(spec) as JsonObject;
}

/** Tag to schema reference: the explicit mapping first, then each referenced branch by its schema name. */
function tagsOf(branches: Json[], mapping: Json | undefined): Map<string, string> {
  const tags = new Map<string, string>();
  for (const [tag, target] of Object.entries(isObject(mapping) ? mapping : {})) {
    if (typeof target === "string") tags.set(tag, target.includes("/") ? target : `#/components/schemas/${target}`);
  }
  for (const branch of branches) {
    const ref = isObject(branch) ? branch["$ref"] : undefined;
    if (typeof ref !== "string" || !ref.startsWith("#/components/schemas/")) continue;
    const tag = ref.split("/").at(-1)!.replaceAll("~1", "/").replaceAll("~0", "~");
    if (!tags.has(tag)) tags.set(tag, ref);
  }
  return tags;
}

/** Whether a local reference names a node of the document (a mapping may name one that is not there). */
function exists(spec: JsonObject, ref: string): boolean {
  return ref.startsWith("#/") && at(spec, ref.slice(1)) !== undefined;
}

/** Enums without repeated values: fast-json-stringify's schema check refuses them, validation does not mind. */
export function uniqueEnums(node: Json): Json {
  if (Array.isArray(node)) return node.map(uniqueEnums);
  if (!isObject(node)) return node;
  const out: JsonObject = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, uniqueEnums(value)]));
  const choices = node["enum"];
  if (Array.isArray(choices)) {
    const seen = new Set<string>();
    out["enum"] = choices.filter((choice) => !seen.has(JSON.stringify(choice)) && seen.add(JSON.stringify(choice)));
  }
  return out;
}

/**
 * The document as fastify-openapi-glue reads it: it checks the document against OpenAPI's own schema, which wants at
 * least one response per operation; an operation that documents none may answer anything, as `default` says.
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

/** The document as the validators read it. */
export function validationView(spec: JsonObject): JsonObject {
  return discriminated(upgrade(spec) as JsonObject);
}
