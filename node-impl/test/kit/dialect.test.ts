/** OpenAPI's `nullable` and boolean bounds in 2020-12 terms, the same rules as the Python runtime's upgrade. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Ajv2020 } from "ajv/dist/2020.js";

import { type JsonObject } from "../../kit/src/spec.js";
import { discriminated, forGlue, uniqueEnums, upgrade } from "../../kit/src/dialect.js";

describe("upgrade", () => {
  it("makes nullable a null type and enum member", () => {
    assert.deepEqual(upgrade({ type: "string", enum: ["a"], nullable: true }), { type: ["string", "null"], enum: ["a", null] });
  });

  it("adds a null branch beside a reference", () => {
    assert.deepEqual(upgrade({ $ref: "#/components/schemas/Task", nullable: true }), {
      anyOf: [{ $ref: "#/components/schemas/Task" }, { type: "null" }],
    });
  });

  it("widens a list of types once", () => {
    assert.deepEqual(upgrade({ type: ["string", "null"], nullable: true }), { type: ["string", "null"] });
  });

  it("makes boolean bounds numeric", () => {
    assert.deepEqual(upgrade({ maximum: 5, exclusiveMaximum: true, minimum: 1, exclusiveMinimum: false }), {
      exclusiveMaximum: 5,
      minimum: 1,
    });
  });

  it("keeps a property named nullable", () => {
    assert.deepEqual(upgrade({ type: "object", properties: { nullable: { type: "string", nullable: false } } }), {
      type: "object",
      properties: { nullable: { type: "string" } },
    });
  });
});

describe("discriminated", () => {
  const spec: JsonObject = {
    components: {
      schemas: {
        One: { type: "object", properties: { kind: { type: "string" }, a: { type: "number" } } },
        Two: { type: "object", properties: { kind: { type: "string" }, b: { type: "string" } } },
        Body: {
          oneOf: [{ $ref: "#/components/schemas/One" }, { $ref: "#/components/schemas/Two" }],
          discriminator: { propertyName: "kind", mapping: { one: "One", gone: "#/components/schemas/X" } },
        },
      },
    },
  };
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema(discriminated(spec), "spec");
  const valid = ajv.compile({ $ref: "spec#/components/schemas/Body" });

  it("selects the branch a known tag names, even when both branches accept", () => {
    assert.equal(valid({ kind: "one" }), true);
    assert.equal(valid({ kind: "Two", b: "x" }), true);
  });

  it("holds the value to the branch its tag names", () => {
    assert.equal(valid({ kind: "one", a: "not a number", b: 1 }), false);
  });

  it("holds a value without a known tag to exactly one branch", () => {
    assert.equal(valid({ kind: "other", a: "x" }), true);
    assert.equal(valid({ kind: "other" }), false);
    assert.equal(valid({ kind: "gone" }), false);
  });
});

describe("uniqueEnums", () => {
  it("keeps each value once, in order, at any depth", () => {
    assert.deepEqual(uniqueEnums({ items: { enum: ["a", "b", "a", 1, 1] } }), { items: { enum: ["a", "b", 1] } });
  });
});

describe("forGlue", () => {
  it("gives an operation without responses a default one, and leaves the original alone", () => {
    const spec: JsonObject = { paths: { "/a": { delete: { responses: {} }, get: { responses: { "204": { description: "x" } } } } } };
    const copy = forGlue(spec);
    assert.deepEqual((copy["paths"] as JsonObject)["/a"], {
      delete: { responses: { default: { description: "Not documented." } } },
      get: { responses: { "204": { description: "x" } } },
    });
    assert.deepEqual(spec, { paths: { "/a": { delete: { responses: {} }, get: { responses: { "204": { description: "x" } } } } } });
  });
});
