/**
 * SQLite's WAL checkpoints, off the event loop.
 *
 * The commit that brings the WAL to `wal_autocheckpoint` pages copies them into the database file and fsyncs it
 * before it returns: with one synchronous connection that is a pause of the whole server, with every request in
 * flight waiting behind it (at SQLite's default of 1000 pages 10 to 140 ms every ~850 inserts on a VM's disk, and
 * the POST /tasks p99 was 9 × its p50). The serving connection turns that off, and this module runs the checkpoints
 * in a worker thread on a connection of its own, as SQLite's documentation suggests:
 *
 * - every CHECKPOINT_INTERVAL_MS a PASSIVE checkpoint, which never waits for the writer and never makes it wait;
 * - past WAL_LIMIT_PAGES, one checkpoint on the serving connection, the same PASSIVE one SQLite's auto-checkpoint
 *   runs. Under a steady stream of writes the worker's checkpoint never finds the WAL fully copied (frames arrive
 *   while it fsyncs), so SQLite never starts the file over and it would grow without bound (100 MB for 10 MB of
 *   rows in the test). Run between two statements of the serving connection, the checkpoint copies what the
 *   worker's last one left and completes, and the next commit writes from the file's start again: the file stays
 *   near WAL_LIMIT_PAGES, and the serving connection pauses once per WAL_LIMIT_PAGES pages written, 5 to 10 ms on a
 *   VM's disk (TRUNCATE, which also empties the file, took 30 to 40). It never waits for another process' readers,
 *   as RESTART or TRUNCATE would in SQLite's busy handler, with the event loop stopped.
 *
 * If the worker cannot run, the connection goes back to checkpointing itself at its own threshold.
 */
import { once } from "node:events";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

import type BetterSqlite3 from "better-sqlite3";

const require = createRequire(import.meta.url);

export const CHECKPOINT_INTERVAL_MS = 250;
/** 16 MiB of WAL with SQLite's default 4 KiB pages; the file grows past it by what one interval writes. */
export const WAL_LIMIT_PAGES = 4096;

interface Settings {
  readonly path: string;
  readonly intervalMs: number;
  readonly limitPages: number;
}

/**
 * The worker: its own connection, a passive checkpoint each tick; past the limit it asks the serving connection to
 * checkpoint and waits until it has; on any error it reports and stops. Plain JavaScript evaluated as the worker's
 * script, because a worker thread gets no TypeScript loader in the tests (tsx's --import does not reach workers).
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
let db;
let timer;
let waiting = false;
const stop = () => {
  clearInterval(timer);
  if (db !== undefined && db.open) db.close();
  parentPort.close();
};
const fail = (error) => {
  parentPort.postMessage({ error: error.message });
  stop();
};
try {
  db = new Database(workerData.path, { timeout: 5000 });
  timer = setInterval(() => {
    if (waiting) return;
    try {
      const [passive] = db.pragma("wal_checkpoint(PASSIVE)");
      if (passive.log > workerData.limitPages) {
        // No checkpoint of this connection's may hold the lock while the serving connection's runs.
        waiting = true;
        parentPort.postMessage({ full: true });
      }
    } catch (error) {
      fail(error);
    }
  }, workerData.intervalMs);
} catch (error) {
  fail(error);
}
parentPort.on("message", (message) => {
  if (message === "checkpointed") waiting = false;
  else stop();
});
`;
/** What the worker says: the WAL is past the limit, or a checkpoint failed (the connection then checkpoints itself). */
type Report = { readonly full: true } | { readonly error: string };

/** The checkpoints of one database file; `stop` before closing the serving connection. */
export interface Checkpoints {
  stop(): Promise<void>;
}

/**
 * Takes the checkpoints of `db` (a file in WAL mode) off its connection. `checkpoint` runs a PASSIVE checkpoint on
 * that connection when no statement or transaction of its own is under way (by default at once); `warn` hears
 * why, if the worker fails and the connection checkpoints itself again.
 */
export function checkpointInBackground(
  db: BetterSqlite3.Database,
  path: string,
  warn: (message: string) => void,
  settings: Partial<Omit<Settings, "path">> & { checkpoint?: () => Promise<unknown> } = {},
): Checkpoints {
  const { checkpoint = async () => db.pragma("wal_checkpoint(PASSIVE)"), ...rest } = settings;
  const data: Settings = { path, intervalMs: CHECKPOINT_INTERVAL_MS, limitPages: WAL_LIMIT_PAGES, ...rest };
  // The connection's own threshold, given back if the worker stops working.
  const ownPages = Number(db.pragma("wal_autocheckpoint", { simple: true }));
  db.pragma("wal_autocheckpoint = 0");
  const worker = new Worker(WORKER, { eval: true, workerData: { ...data, driver: require.resolve("better-sqlite3") } });
  // The worker must not keep a server that is otherwise done from exiting.
  worker.unref();
  let stopped = false;
  const fallBack = (why: string): void => {
    if (stopped || !db.open) return;
    stopped = true;
    db.pragma(`wal_autocheckpoint = ${ownPages}`);
    warn(`SQLite checkpoints are back on the serving connection: ${why}`);
  };
  worker.on("message", (report: Report) => {
    if ("error" in report) {
      fallBack(report.error);
      return;
    }
    checkpoint().then(
      () => worker.postMessage("checkpointed"),
      (error: unknown) => fallBack(error instanceof Error ? error.message : String(error)),
    );
  });
  worker.on("error", (error) => fallBack(error.message));
  const exited = once(worker, "exit");
  return {
    async stop() {
      stopped = true;
      // Until it has closed its connection the worker must hold the process open, or the wait would never end.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
