/** Serving a kit app: settings from the environment, a start-up failure as one line, a graceful SIGTERM. */
import closeWithGrace from "close-with-grace";
import type { FastifyInstance } from "fastify";

import { ContractError } from "./app.js";
import { ConfigError, type Env, type ServerSettings, serverSettings } from "./env.js";

/** Listens until SIGTERM or Ctrl-C, then stops accepting, finishes the requests in flight, closes the app (onClose hooks) and exits 0. */
export async function serve(app: FastifyInstance, host: string, port: number): Promise<void> {
  closeWithGrace({ delay: 10_000, logger: app.log }, async ({ err }) => {
    if (err) app.log.error({ err }, "shutting down after an unexpected error");
    await app.close();
  });
  await app.listen({ host, port });
}

/** Why the server could not start, as one line on stderr (no stack trace), and a non-zero exit. */
export function failStart(error: unknown, expected: readonly (abstract new (...args: never[]) => Error)[] = []): never {
  const known = [ConfigError, ContractError, ...expected].some((kind) => error instanceof kind);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(known ? `error: ${message}\n` : `error: the server could not start: ${message}\n`);
  process.exit(1);
}

/** HOST, PORT and LOG_LEVEL from the environment; `create` builds the app (a Fastify instance with the kit registered). */
export async function serveFromEnv(
  create: (settings: ServerSettings) => Promise<FastifyInstance>,
  options: { readonly defaultPort: number; readonly env?: Env },
): Promise<void> {
  try {
    const settings = serverSettings(options.env ?? process.env, options.defaultPort);
    await serve(await create(settings), settings.host, settings.port);
  } catch (error) {
    failStart(error);
  }
}
