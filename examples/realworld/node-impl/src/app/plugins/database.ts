/** The database as `app.db`: opened and migrated when the app starts, closed after the requests in flight. */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { type Database, type Pool, type Target, openDatabase } from "../db.js";

declare module "fastify" {
  interface FastifyInstance {
    db: Database;
  }
}

export interface DatabaseOptions {
  readonly target: Target;
  readonly pool: Pool;
  readonly migrationsDir: string;
}

async function database(app: FastifyInstance, options: DatabaseOptions): Promise<void> {
  const db = await openDatabase(options.target, options.migrationsDir, options.pool, app.log);
  app.decorate("db", db);
  app.addHook("onClose", async () => {
    await db.close();
  });
}

export default fp(database, { name: "database", fastify: "5.x" });
