/** The Node server: reads the environment, serves on HOST:PORT, and shuts down gracefully on SIGTERM. */
import closeWithGrace from "close-with-grace";

import { ContractError } from "../kit/app.js";
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { MigrationError } from "./db.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  if (config.jwtSecretGenerated) {
    app.log.warn("JWT_SECRET is not set: APP_ENV=development made up a random one, so tokens end with this process");
  }
  // Stop accepting, finish the requests in flight, close the database (an onClose hook), then exit 0.
  closeWithGrace({ delay: 10_000, logger: app.log }, async ({ err }) => {
    if (err) app.log.error({ err }, "shutting down after an unexpected error");
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
}

main().catch((error: unknown) => {
  // Bad configuration or a contract the code does not implement: one line, no stack trace.
  if (error instanceof ConfigError || error instanceof ContractError || error instanceof MigrationError) {
    process.stderr.write(`error: ${error.message}\n`);
  } else {
    process.stderr.write(`error: the server could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
