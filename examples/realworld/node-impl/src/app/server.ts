/**
 * The Node server of Conduit: `node dist/app/server.js` serves it on HOST:PORT (default 127.0.0.1:3000) with the
 * settings of CONVENTIONS.md from the environment, until SIGTERM or Ctrl-C.
 */
import { failStart, serve } from "fastify-twinapi";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { MigrationError } from "./db.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  if (config.jwtSecretGenerated) {
    app.log.warn("JWT_SECRET is not set: APP_ENV=development made up a random one, so tokens end with this process");
  }
  // The database closes in an onClose hook, after the requests in flight.
  await serve(app, config.host, config.port, config.limits);
}

// Bad configuration, a contract the code does not implement or a changed migration: one line, no stack trace.
main().catch((error: unknown) => failStart(error, [MigrationError]));
