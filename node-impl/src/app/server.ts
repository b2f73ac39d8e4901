/** The Node server: reads the environment, serves on HOST:PORT, and shuts down gracefully on SIGTERM. */
import { failStart, serve } from "fastify-twinapi";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { MigrationError, StartError } from "./db.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  if (config.jwtSecretGenerated) {
    app.log.warn("JWT_SECRET is not set: APP_ENV=development made up a random one, so tokens end with this process");
  }
  // The database closes in an onClose hook, after the requests in flight.
  await serve(app, config.host, config.port, config.limits);
}

// Bad configuration, a contract the code does not implement, an unreachable database or a changed migration: one
// line, no stack trace.
main().catch((error: unknown) => failStart(error, [MigrationError, StartError]));
