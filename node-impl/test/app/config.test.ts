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
    assert.equal(config.databasePath, join(REPO_ROOT, "data/app.db"));
    assert.equal(config.jwtTtlSeconds, 3600);
    assert.equal(config.bcryptRounds, 12);
    assert.equal(config.logLevel, "info");
    assert.equal(config.appEnv, "production");
  });

  it("reads SQLAlchemy's sqlite URLs: three slashes relative to the cwd, four absolute", () => {
    assert.equal(loadConfig({ ...SECRET, DATABASE_URL: "sqlite:////tmp/a.db" }).databasePath, "/tmp/a.db");
    const relative = loadConfig({ ...SECRET, DATABASE_URL: "sqlite:///data/b.db" }).databasePath;
    assert.ok(isAbsolute(relative));
    assert.equal(relative, join(process.cwd(), "data/b.db"));
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
    ["DATABASE_URL", "postgresql://localhost/db"],
    ["DATABASE_URL", "sqlite:///"],
  ] as const) {
    it(`refuses ${name}=${JSON.stringify(value)} with a message naming it`, () => {
      assert.throws(
        () => loadConfig({ ...SECRET, [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith(name),
      );
    });
  }
});
