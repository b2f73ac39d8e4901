/** Assembles the example API from its configuration: database, passwords, tokens, service, and the kit's plugin. */
import Fastify, { type FastifyInstance } from "fastify";

import { formats } from "../generated/formats.js";
import { CONTRACT_PATH, type SecurityHandlers, type Service, contract } from "../generated/service.js";
import { type TwinapiOptions, fastifyOptions, twinapi } from "fastify-twinapi";
import { MIGRATIONS_DIR, type Config } from "./config.js";
import { openDatabase } from "./db.js";
import { Problems } from "./errors.js";
import { LoginFailures } from "./logins.js";
import { Repository } from "./repository.js";
import { Passwords, Tokens } from "./security.js";
import { BearerAuth, TaskService, type User } from "./service.js";

export async function createApp(config: Config, options: { logStream?: NodeJS.WritableStream } = {}): Promise<FastifyInstance> {
  const app = Fastify(
    fastifyOptions({
      logLevel: config.logLevel,
      limits: config.limits,
      trustedProxies: config.trustedProxies,
      ...(options.logStream ? { logStream: options.logStream } : {}),
    }),
  );
  const passwords = await Passwords.create(config.bcryptRounds);
  const tokens = new Tokens(config.jwtSecret, config.jwtTtlSeconds);
  const db = await openDatabase(config.database, MIGRATIONS_DIR, config.pool, (message) => app.log.warn(message));
  const repo = Repository.of(db);
  const logins = new LoginFailures(db, config.throttle);
  const auth = new BearerAuth(tokens, repo);
  const service: Service<User> = new TaskService(repo, passwords, tokens, contract.version, logins, (id) => auth.forget(id));
  const securityHandlers: SecurityHandlers<User> = auth;
  const kit: TwinapiOptions<User, typeof contract> = {
    contractPath: CONTRACT_PATH,
    contract,
    formats,
    service,
    securityHandlers,
    errorBodies: new Problems(),
    limits: config.limits,
  };
  try {
    await app.register(twinapi, kit);
  } catch (error) {
    await db.close();
    throw error;
  }
  app.addHook("onClose", async () => {
    await db.close();
  });
  return app;
}
