import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import { describe, it } from "node:test";

import { ConfigError, PROJECT_ROOT, loadConfig } from "../../src/app/config.js";
import { JWT_SECRET } from "../helpers.js";

describe("configuration", () => {
  it("has the conventions' defaults", () => {
    const config = loadConfig({ JWT_SECRET });
    assert.equal(config.appEnv, "production");
    assert.equal(config.port, 3000);
    assert.equal(config.jwtTtlSeconds, 86400);
    assert.equal(config.bcryptRounds, 10);
    assert.deepEqual(config.database, { path: join(PROJECT_ROOT, "data", "conduit.db") });
    assert.deepEqual(config.pool, { size: 10, acquireTimeout: 5, connectTimeout: 5, statementTimeout: 30 });
    assert.equal(config.jwtSecretGenerated, false);
  });

  it("takes a relative DATABASE_PATH from the project's folder, whatever the working directory", () => {
    const config = loadConfig({ JWT_SECRET, DATABASE_PATH: "here.db" });
    assert.ok("path" in config.database && isAbsolute(config.database.path));
    assert.deepEqual(config.database, { path: join(PROJECT_ROOT, "here.db") });
    assert.deepEqual(loadConfig({ JWT_SECRET, DATABASE_PATH: "/tmp/x.db" }).database, { path: "/tmp/x.db" });
  });

  it("reads DATABASE_URL as the Python server does: a SQLite file from the project's folder, or PostgreSQL", () => {
    const database = (url: string) => loadConfig({ JWT_SECRET, DATABASE_URL: url }).database;
    assert.deepEqual(database("sqlite:///data/other.db"), { path: join(PROJECT_ROOT, "data", "other.db") });
    assert.deepEqual(database("sqlite:////tmp/abs.db"), { path: "/tmp/abs.db" });
    for (const url of ["postgresql://conduit@db.internal:5432/conduit", "postgres://u:p@localhost/c?sslmode=require"]) {
      assert.deepEqual(database(url), { url });
    }
  });

  it("refuses a DATABASE_URL of another form in one line that does not echo it", () => {
    for (const url of [
      "",
      "mysql://u@h/db",
      "sqlite://relative.db",
      "sqlite:///",
      "sqlite:///   ",
      "sqlite:///:memory:",
      "sqlite:///x.db?mode=ro",
      "x.db",
      "postgresql://secret-host",
      "postgresql:///db",
      "postgresql://u:hunter2@h/",
      "postgresql://u:hunter2@h/db#frag",
      "postgresql://u:hunter2@h/d b",
    ]) {
      assert.throws(
        () => loadConfig({ JWT_SECRET, DATABASE_URL: url }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith("DATABASE_URL must be sqlite:///") &&
          !error.message.includes("\n") &&
          !error.message.includes("hunter2") &&
          !error.message.includes("secret-host"),
        JSON.stringify(url),
      );
    }
  });

  it("refuses DATABASE_URL and DATABASE_PATH together", () => {
    assert.throws(
      () => loadConfig({ JWT_SECRET, DATABASE_URL: "sqlite:///a.db", DATABASE_PATH: "b.db" }),
      /^ConfigError: set DATABASE_URL or DATABASE_PATH, not both$/,
    );
  });

  it("reads the pool's settings with the Python server's names, defaults and bounds", () => {
    const pool = loadConfig({
      JWT_SECRET,
      DATABASE_POOL_SIZE: "1000",
      DATABASE_POOL_TIMEOUT_SECONDS: "1",
      DATABASE_CONNECT_TIMEOUT_SECONDS: "600",
      DATABASE_STATEMENT_TIMEOUT_SECONDS: "3600",
    }).pool;
    assert.deepEqual(pool, { size: 1000, acquireTimeout: 1, connectTimeout: 600, statementTimeout: 3600 });
    for (const [name, bad] of [
      ["DATABASE_POOL_SIZE", "0"],
      ["DATABASE_POOL_SIZE", "1001"],
      ["DATABASE_POOL_SIZE", " 10"],
      ["DATABASE_POOL_TIMEOUT_SECONDS", "601"],
      ["DATABASE_CONNECT_TIMEOUT_SECONDS", "0"],
      ["DATABASE_STATEMENT_TIMEOUT_SECONDS", "3601"],
      ["DATABASE_STATEMENT_TIMEOUT_SECONDS", "1.5"],
    ] as const) {
      assert.throws(
        () => loadConfig({ JWT_SECRET, [name]: bad }),
        new RegExp(`^ConfigError: ${name} must be an integer from `),
        `${name}=${bad}`,
      );
    }
  });

  it("requires a JWT_SECRET of at least 32 bytes outside development", () => {
    assert.throws(
      () => loadConfig({}),
      (error: unknown) => error instanceof ConfigError && /JWT_SECRET is required/.test(error.message),
    );
    assert.throws(() => loadConfig({ APP_ENV: "test" }), ConfigError);
    assert.throws(() => loadConfig({ JWT_SECRET: "x".repeat(31) }), /at least 32 bytes/);
    // Bytes, not characters: 16 two-byte characters are enough.
    assert.equal(loadConfig({ JWT_SECRET: "é".repeat(16) }).jwtSecret, "é".repeat(16));
  });

  it("makes a random secret in development when none is given, and says so", () => {
    const first = loadConfig({ APP_ENV: "development" });
    const second = loadConfig({ APP_ENV: "development" });
    assert.equal(first.jwtSecretGenerated, true);
    assert.ok(Buffer.byteLength(first.jwtSecret) >= 32);
    assert.notEqual(first.jwtSecret, second.jwtSecret);
  });

  it("refuses bad values, naming the variable", () => {
    assert.throws(() => loadConfig({ JWT_SECRET, APP_ENV: "staging" }), /APP_ENV must be one of/);
    assert.throws(() => loadConfig({ JWT_SECRET, BCRYPT_ROUNDS: "3" }), /BCRYPT_ROUNDS must be an integer from 4 to 31/);
    assert.throws(() => loadConfig({ JWT_SECRET, JWT_TTL_SECONDS: "0" }), /JWT_TTL_SECONDS/);
    assert.throws(() => loadConfig({ JWT_SECRET, JWT_TTL_SECONDS: "1h" }), /JWT_TTL_SECONDS/);
    assert.throws(() => loadConfig({ JWT_SECRET, DATABASE_PATH: "" }), /DATABASE_PATH/);
    assert.throws(() => loadConfig({ JWT_SECRET, DATABASE_PATH: "  " }), /DATABASE_PATH/);
  });
});
