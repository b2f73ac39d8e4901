/** The database as `app.db`: opened and migrated when the app starts, closed after the requests in flight. */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { type Db, openDatabase } from "../db.js";

declare module "fastify" {
  interface FastifyInstance {
    db: Db;
  }
}

export interface DatabaseOptions {
  readonly path: string;
  readonly migrationsDir: string;
}

async function database(app: FastifyInstance, options: DatabaseOptions): Promise<void> {
  const db = openDatabase(options.path, options.migrationsDir);
  app.decorate("db", db);
  app.addHook("onClose", async () => {
    db.close();
  });
}

export default fp(database, { name: "database", fastify: "5.x" });
