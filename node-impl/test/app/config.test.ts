import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import { describe, it } from "node:test";

import { ConfigError, REPO_ROOT, loadConfig } from "../../src/app/config.js";

const SECRET = { JWT_SECRET: "x".repeat(32) };

describe("configuration", () => {
  it("has the documented defaults", () => {
    const config = loadConfig(SECRET);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 3000);
    assert.deepEqual(config.database, { path: join(REPO_ROOT, "data/app.db") });
    assert.equal(config.jwtTtlSeconds, 3600);
    assert.equal(config.bcryptRounds, 12);
    assert.equal(config.logLevel, "info");
    assert.equal(config.appEnv, "production");
  });

  it("reads SQLAlchemy's sqlite URLs: three slashes relative to the cwd, four absolute", () => {
    assert.deepEqual(loadConfig({ ...SECRET, DATABASE_URL: "sqlite:////tmp/a.db" }).database, { path: "/tmp/a.db" });
    const relative = loadConfig({ ...SECRET, DATABASE_URL: "sqlite:///data/b.db" }).database;
    assert.deepEqual(relative, { path: join(process.cwd(), "data/b.db") });
    assert.ok("path" in relative && isAbsolute(relative.path));
  });

  it("keeps a postgresql URL with its pool settings, and never echoes a bad one", () => {
    const url = "postgresql://app:secret@db.internal:5432/tasks?sslmode=require";
    const config = loadConfig({ ...SECRET, DATABASE_URL: url, DATABASE_POOL_SIZE: "25" });
    assert.deepEqual(config.database, { url });
    assert.deepEqual(config.pool, { size: 25, acquireTimeout: 5, connectTimeout: 5, statementTimeout: 30 });
    assert.deepEqual(loadConfig({ ...SECRET, DATABASE_URL: "postgres://db/tasks" }).database, { url: "postgres://db/tasks" });
    assert.throws(
      () => loadConfig({ ...SECRET, DATABASE_URL: "postgresql://app:hunter2@db" }),
      (error: unknown) => error instanceof ConfigError && !error.message.includes("hunter2"),
    );
  });

  it("makes up a secret only in development", () => {
    const config = loadConfig({ APP_ENV: "development" });
    assert.equal(config.jwtSecretGenerated, true);
    assert.ok(Buffer.byteLength(config.jwtSecret) >= 32);
    assert.throws(() => loadConfig({}), /JWT_SECRET/);
  });

  for (const [name, value] of [
    ["PORT", "65536"],
    ["PORT", "80a"],
    ["PORT", ""],
    ["JWT_SECRET", "short"],
    ["JWT_TTL_SECONDS", "0"],
    ["BCRYPT_ROUNDS", "3"],
    ["BCRYPT_ROUNDS", "32"],
    ["LOG_LEVEL", "verbose"],
    ["APP_ENV", "staging"],
    ["DATABASE_URL", "postgresql://db"],
    ["DATABASE_URL", "postgresql:///app"],
    ["DATABASE_URL", "mysql://db/app"],
    ["DATABASE_URL", "sqlite:///"],
    ["DATABASE_POOL_SIZE", "0"],
    ["DATABASE_POOL_TIMEOUT_SECONDS", "0"],
    ["DATABASE_CONNECT_TIMEOUT_SECONDS", "x"],
    ["DATABASE_STATEMENT_TIMEOUT_SECONDS", "3601"],
    ["TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/33"],
  ] as const) {
    it(`refuses ${name}=${JSON.stringify(value)} with a message naming it`, () => {
      assert.throws(
        () => loadConfig({ ...SECRET, [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith(name),
      );
    });
  }
});
