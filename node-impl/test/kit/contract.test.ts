import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { formats } from "../../src/generated/formats.js";
import { Problems } from "../../src/app/errors.js";
import { CONTRACT_PATH, contract, operationIds } from "../../src/generated/service.js";
import { ContractError } from "../../kit/src/app.js";
import { loadContract } from "../../kit/src/spec.js";
import { kitApp } from "./kit-app.js";

class PartialService {
  async getHealth() {
    return { status: "ok", implementation: "node", version: "1.0.0" };
  }
}

describe("the contract", () => {
  it("has one generated operation per operationId, in spec order", () => {
    assert.deepEqual(
      contract.operations.map((op) => op.id),
      [...operationIds],
    );
  });

  it("refuses to start when the service lacks methods, naming every missing operation", async () => {
    await assert.rejects(
      kitApp({ contractPath: CONTRACT_PATH, contract, formats, service: new PartialService(), securityHandlers: {}, errorBodies: {} }),
      (error: unknown) => {
        assert.ok(error instanceof ContractError);
        for (const id of operationIds.filter((id) => id !== "getHealth")) assert.match(error.message, new RegExp(`\\b${id}\\b`));
        assert.match(error.message, /PartialService does not implement Service for: registerUser, /);
        assert.match(error.message, /SecurityHandlers for: bearerAuth/);
        assert.match(error.message, /ErrorBodies for: ValidationProblem, Problem/);
        return true;
      },
    );
  });

  it("refuses to start when the spec has an operation the generated contract lacks", async () => {
    const { operations } = contract;
    const stale = { ...contract, operations: operations.filter((op) => op.id !== "deleteTask") };
    const service = Object.fromEntries(operations.map((op) => [op.handler, async () => undefined]));
    await assert.rejects(
      kitApp({
        contractPath: CONTRACT_PATH,
        contract: stale,
        formats,
        service,
        securityHandlers: { bearerAuth: async () => null },
        errorBodies: new Problems(),
      }),
      /DELETE \/tasks\/\{taskId\} \(deleteTask\) is not in the generated contract: run `make generate`/,
    );
  });
});

describe("the contract document", () => {
  it("holds the spec as written and the served form", () => {
    const { spec, served } = loadContract(CONTRACT_PATH);
    assert.equal(spec["openapi"], "3.1.0");
    assert.deepEqual(Object.keys(served["paths"] ?? {}), Object.keys(spec["paths"] ?? {}));
  });

  for (const [content, message] of [
    [null, /cannot read the contract document/],
    ["openapi: 3.1.0\n", /cannot read the contract document/],
    [JSON.stringify({ openapi: "3.1.0" }), /is not a contract document of format 1/],
    [JSON.stringify({ "twinapi-contract": 2, spec: {}, served: {} }), /is not a contract document of format 1/],
    [JSON.stringify({ "twinapi-contract": 1, spec: {} }), /lacks its spec/],
  ] as const) {
    it(`refuses to start on ${content ?? "no document"}, naming the fix`, () => {
      const path = join(mkdtempSync(join(tmpdir(), "twinapi-contract-")), "contract.json");
      if (content !== null) writeFileSync(path, content);
      assert.throws(
        () => loadContract(path),
        (error: unknown) => error instanceof ContractError && message.test(error.message) && error.message.includes("make generate"),
      );
    });
  }
});
