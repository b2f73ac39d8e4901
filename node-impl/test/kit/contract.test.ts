import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formats } from "../../src/generated/formats.js";
import { CONTRACT_PATH, contract, operationIds } from "../../src/generated/service.js";
import { ContractError, buildApp } from "../../kit/src/app.js";

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
      buildApp({ contractPath: CONTRACT_PATH, contract, formats, service: new PartialService(), securityHandlers: {} }),
      (error: unknown) => {
        assert.ok(error instanceof ContractError);
        for (const id of operationIds.filter((id) => id !== "getHealth")) assert.match(error.message, new RegExp(`\\b${id}\\b`));
        assert.match(error.message, /PartialService does not implement Service for: registerUser, /);
        assert.match(error.message, /SecurityHandlers for: bearerAuth/);
        return true;
      },
    );
  });

  it("refuses to start when the spec has an operation the generated contract lacks", async () => {
    const { operations } = contract;
    const stale = { ...contract, operations: operations.filter((op) => op.id !== "deleteTask") };
    const service = Object.fromEntries(operations.map((op) => [op.handler, async () => undefined]));
    await assert.rejects(
      buildApp({ contractPath: CONTRACT_PATH, contract: stale, formats, service, securityHandlers: { bearerAuth: async () => null } }),
      /DELETE \/tasks\/\{taskId\} \(deleteTask\) is not in the generated contract: run `make generate`/,
    );
  });
});
