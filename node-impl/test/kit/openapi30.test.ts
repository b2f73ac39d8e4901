/** OpenAPI's `nullable` and boolean bounds in 2020-12 terms, the same rules as the Python runtime's upgrade. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { upgrade } from "../../src/kit/openapi30.js";

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
