/**
 * PostgreSQL only (`npm run test:postgres`, inside a throwaway cluster as `make test-node` runs it): the pool bounds
 * the wait for a connection and nothing else, so a slow statement that commits is answered with its result.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Problem } from "fastify-twinapi";

import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { openDatabase } from "../../src/app/db.js";
import { POSTGRES_ADMIN_URL, postgresUrl } from "../helpers.js";

function adminUrl(): string {
  if (POSTGRES_ADMIN_URL === undefined) {
    throw new Error("TWINAPI_TEST_POSTGRES_URL is not set: run these through `make test-node` (a throwaway cluster)");
  }
  return POSTGRES_ADMIN_URL;
}

describe("PostgreSQL pool", () => {
  it("answers a transaction that outlasts the wait and statement bounds together with what it committed", async () => {
    // Each statement stays under the statement timeout; together they outlast acquire + statement timeout (3 s).
    const db = await openDatabase({ url: postgresUrl(adminUrl()) }, MIGRATIONS_DIR, {
      size: 2,
      acquireTimeout: 1,
      connectTimeout: 2,
      statementTimeout: 2,
    });
    try {
      await db.run("CREATE TABLE probe (n INTEGER)");
      const answer = await db.transaction(async (tx) => {
        for (let i = 0; i < 3; i += 1) await tx.get("SELECT pg_sleep(1.1)");
        return tx.run("INSERT INTO probe (n) VALUES (1)");
      });
      assert.equal(answer, 1);
      assert.deepEqual([...(await db.all("SELECT n FROM probe"))], [{ n: 1 }]);
    } finally {
      await db.close();
    }
  });

  it("refuses with 503 a request that waited too long for a connection, before sending it", async () => {
    const db = await openDatabase({ url: postgresUrl(adminUrl()) }, MIGRATIONS_DIR, {
      size: 1,
      acquireTimeout: 1,
      connectTimeout: 2,
      statementTimeout: 10,
    });
    try {
      await db.run("CREATE TABLE probe (n INTEGER)");
      const slow = db.transaction(async (tx) => {
        await tx.get("SELECT pg_sleep(2)");
        return tx.run("INSERT INTO probe (n) VALUES (1)");
      });
      const started = Date.now();
      await assert.rejects(db.run("INSERT INTO probe (n) VALUES (2)"), (error: unknown) => {
        return error instanceof Problem && error.status === 503 && error.headers["retry-after"] === "2";
      });
      const waited = Date.now() - started;
      assert.ok(waited >= 900 && waited < 1900, `waited ${waited} ms`);
      assert.equal(await slow, 1);
      assert.deepEqual([...(await db.all("SELECT n FROM probe"))], [{ n: 1 }]); // the refused one never ran
    } finally {
      await db.close();
    }
  });
});
