/** Assembles Conduit from its configuration: the database, its 503, passwords and tokens, and the kit's plugin. */
import Fastify, { type FastifyInstance } from "fastify";

import { formats } from "../generated/formats.js";
import { CONTRACT_PATH, contract } from "../generated/service.js";
import { type TwinapiOptions, fastifyOptions, twinapi } from "fastify-twinapi";
import { type Config, MIGRATIONS_DIR } from "./config.js";
import { Errors } from "./errors.js";
import database from "./plugins/database.js";
import security from "./plugins/security.js";
import unavailable from "./plugins/unavailable.js";
import { type Caller, Conduit, TokenAuth } from "./service.js";

export interface AppOptions {
  /** Where the log goes (stdout by default); the tests read it. */
  readonly logStream?: NodeJS.WritableStream;
  /** The migrations to apply (db/migrations by default). */
  readonly migrationsDir?: string;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const { logLevel, limits } = config;
  const app = Fastify(fastifyOptions({ logLevel, limits, ...(options.logStream ? { logStream: options.logStream } : {}) }));
  try {
    await app.register(database, { target: config.database, pool: config.pool, migrationsDir: options.migrationsDir ?? MIGRATIONS_DIR });
    await app.register(unavailable);
    await app.register(security, config);
    const kit: TwinapiOptions<Caller, typeof contract> = {
      contractPath: CONTRACT_PATH,
      contract,
      formats,
      service: new Conduit(app),
      securityHandlers: new TokenAuth(app.tokens, app.db),
      errorBodies: new Errors(),
      limits,
    };
    await app.register(twinapi, kit);
  } catch (error) {
    await app.close(); // the database, if it was opened
    throw error;
  }
  return app;
}
