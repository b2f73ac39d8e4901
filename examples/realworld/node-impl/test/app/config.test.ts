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
    assert.equal(config.databasePath, join(PROJECT_ROOT, "data", "conduit.db"));
    assert.equal(config.jwtSecretGenerated, false);
  });

  it("takes a relative DATABASE_PATH from the project's folder, whatever the working directory", () => {
    const config = loadConfig({ JWT_SECRET, DATABASE_PATH: "here.db" });
    assert.ok(isAbsolute(config.databasePath));
    assert.equal(config.databasePath, join(PROJECT_ROOT, "here.db"));
    assert.equal(loadConfig({ JWT_SECRET, DATABASE_PATH: "/tmp/x.db" }).databasePath, "/tmp/x.db");
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
  });
});
