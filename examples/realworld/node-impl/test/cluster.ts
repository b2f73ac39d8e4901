/**
 * A throwaway PostgreSQL cluster of a test's own, made, stopped, started and removed by the kit's harness
 * (`twinapi_conformance.postgres.throwaway_cluster`) in a Python process this test drives over its standard input:
 * an outage test stops the server under a running app, which it must not do to the cluster the whole run shares.
 * Closing standard input (or this process going away) ends the Python process, which removes the cluster.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

import { POSTGRES_ADMIN_URL, PYTHON } from "./helpers.js";

/** Seconds for one step (initdb and start, a stop, a start), as the harness bounds its own. */
const STEP_MS = 90_000;

const CONTROL = `
import sys
from twinapi_conformance.postgres import throwaway_cluster

with throwaway_cluster() as cluster:
    print(cluster.admin_url, flush=True)
    for line in sys.stdin:
        {"stop": cluster.stop, "start": cluster.start}[line.strip()]()
        print("done", flush=True)
`;

export class Cluster {
  private readonly lines: AsyncIterator<string>;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    readonly adminUrl: string,
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }

  /** A new cluster, initialised and started. */
  static async create(): Promise<Cluster> {
    const child = spawn(PYTHON, ["-c", CONTROL], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const url = await within(lines.next(), "the cluster did not start");
    if (url.done === true) throw new Error("the cluster could not be made (the harness said why above)");
    return new Cluster(child, url.value, lines);
  }

  /** The cluster the run shares when there is one, else one of the test's own (closed by `close`). */
  static async shared(): Promise<{ adminUrl: string; close: () => Promise<void> }> {
    if (POSTGRES_ADMIN_URL !== undefined) return { adminUrl: POSTGRES_ADMIN_URL, close: async () => {} };
    const own = await Cluster.create();
    return { adminUrl: own.adminUrl, close: () => own.close() };
  }

  /** Stops the server (`fast`: open transactions rolled back, every connection dropped). */
  stop(): Promise<void> {
    return this.step("stop");
  }

  start(): Promise<void> {
    return this.step("start");
  }

  /** Stops and removes the cluster. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STEP_MS);
    await exited;
    clearTimeout(timer);
  }

  private async step(command: "stop" | "start"): Promise<void> {
    this.child.stdin.write(`${command}\n`);
    const answer = await within(this.lines.next(), `the cluster did not ${command}`);
    if (answer.done === true || answer.value !== "done") throw new Error(`the cluster could not ${command} (the harness said why above)`);
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${STEP_MS} ms`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
