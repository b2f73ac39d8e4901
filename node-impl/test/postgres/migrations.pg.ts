/**
 * PostgreSQL only (`npm run test:postgres`, inside `python -m twinapi_conformance.postgres` as `make test-node`
 * runs it): servers starting together migrate exactly once, and each engine's start errors are one line.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";

import { MIGRATIONS_DIR } from "../../src/app/config.js";
import { StartError, openDatabase } from "../../src/app/db.js";
import { POSTGRES_ADMIN_URL, postgresUrl } from "../helpers.js";

const POOL = { size: 4, acquireTimeout: 2, connectTimeout: 2, statementTimeout: 10 };

function adminUrl(): string {
  if (POSTGRES_ADMIN_URL === undefined) {
    throw new Error("TWINAPI_TEST_POSTGRES_URL is not set: run these through `make test-node` (a throwaway cluster)");
  }
  return POSTGRES_ADMIN_URL;
}

describe("PostgreSQL", () => {
  it("applies the migrations exactly once when six servers start at once on one database", async () => {
    const url = postgresUrl(adminUrl());
    const databases = await Promise.all(Array.from({ length: 6 }, () => openDatabase({ url }, MIGRATIONS_DIR, POOL)));
    try {
      const rows = await databases[0]!.all<{ version: string }>("SELECT version FROM schema_migrations ORDER BY version");
      const expected = readdirSync(MIGRATIONS_DIR)
        .filter((name) => name.endsWith(".sql"))
        .sort()
        .map((name) => name.slice(0, -".sql".length));
      assert.deepEqual(
        rows.map((row) => row.version),
        expected,
      );
    } finally {
      await Promise.all(databases.map((db) => db.close()));
    }
  });

  it("names an unreachable database in one line at start", async () => {
    const admin = new URL(adminUrl());
    const closed = `postgresql://postgres@127.0.0.1:1/${admin.pathname.slice(1)}`;
    await assert.rejects(
      openDatabase({ url: closed }, MIGRATIONS_DIR, { ...POOL, connectTimeout: 1 }),
      (error: unknown) => error instanceof StartError && /^database: ECONNREFUSED/.test(error.message) && !error.message.includes("\n"),
    );
  });
});
