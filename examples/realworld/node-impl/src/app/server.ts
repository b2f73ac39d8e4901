/**
 * The Node server of Conduit: `node dist/app/server.js` serves it on HOST:PORT (default 127.0.0.1:3000) with the
 * settings of CONVENTIONS.md from the environment, until SIGTERM or Ctrl-C.
 */
import { ConfigError, ContractError, failStart, serve } from "fastify-twinapi";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { DatabaseError } from "./db.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  if (config.jwtSecretGenerated) {
    app.log.warn("JWT_SECRET is not set: APP_ENV=development made up a random one, so tokens end with this process");
  }
  // The database closes in an onClose hook, after the requests in flight.
  await serve(app, config.host, config.port, config.limits);
}

/**
 * A start that cannot go on is one line on stderr, no stack trace, with the Python server's exit statuses: 2 for a
 * bad setting or a contract the code does not implement, 1 for the database (or anything else).
 */
function refuseStart(error: unknown): never {
  if (error instanceof ConfigError || error instanceof ContractError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(2);
  }
  return failStart(error, [DatabaseError]);
}

main().catch(refuseStart);
