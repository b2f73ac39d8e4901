import assert from "node:assert/strict";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import Database from "better-sqlite3";

import { checkpointInBackground } from "../../src/app/checkpoints.js";

const WAIT_MS = 10_000;

function walDatabase(): { db: Database.Database; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), "twinapi-checkpoints-")), "app.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  return { db, path };
}

function write(db: Database.Database, rows: number): void {
  const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
  for (let i = 0; i < rows; i++) insert.run("x".repeat(500));
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail("the condition did not hold in time");
    await sleep(20);
  }
}

const size = (path: string): number => statSync(path).size;

describe("SQLite checkpoints in a worker thread", () => {
  it("turns the connection's own checkpoints off and copies the WAL into the database from the worker", async () => {
    const { db, path } = walDatabase();
    const checkpoints = checkpointInBackground(db, path, assert.fail, { intervalMs: 20, limitPages: 1_000_000 });
    assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 0);
    const before = size(path);
    // 2000 rows of 500 bytes are about 250 pages: far below SQLite's own threshold, so only the worker copies them.
    write(db, 2000);
    await until(() => size(path) > before + 500_000);
    await checkpoints.stop();
    assert.deepEqual(db.prepare("SELECT count(*) AS n FROM notes").get(), { n: 2000 });
    db.close();
  });

  it("starts the WAL over once it is past the limit, though writes keep coming", async () => {
    const { db, path } = walDatabase();
    let serving = 0;
    const checkpoint = async (): Promise<unknown> => {
      serving += 1;
      return db.pragma("wal_checkpoint(PASSIVE)");
    };
    const checkpoints = checkpointInBackground(db, path, assert.fail, { intervalMs: 20, limitPages: 100, checkpoint });
    const burst = async (): Promise<void> => {
      write(db, 100);
      await sleep(5);
    };
    // Until the worker has started (its own isolate and connection) the WAL grows as it would without it.
    const deadline = Date.now() + WAIT_MS;
    while (serving === 0 && Date.now() < deadline) await burst();
    const started = size(`${path}-wal`);
    // Then about 10 MB of rows: the worker's checkpoints copy frames but never let the writer start the file over
    // (frames keep arriving while they run), so without the serving connection's the file would grow by all of them.
    for (let i = 0; i < 200; i++) await burst();
    const grown = size(`${path}-wal`) - started;
    await checkpoints.stop();
    db.close();
    assert.ok(serving > 1, `${serving} checkpoints on the serving connection`);
    assert.ok(grown < 1_000_000, `the -wal file grew by ${grown} bytes`);
  });

  it("gives the checkpoints back to the connection at its own threshold, with a warning, when the worker cannot open the database", async () => {
    const { db } = walDatabase();
    db.pragma("wal_autocheckpoint = 250");
    const warnings: string[] = [];
    const checkpoints = checkpointInBackground(db, join(tmpdir(), "no-such-dir", "app.db"), (message) => warnings.push(message));
    await until(() => warnings.length > 0);
    assert.match(warnings[0] ?? "", /^SQLite checkpoints are back on the serving connection: /);
    assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 250);
    await checkpoints.stop();
    db.close();
  });
});
