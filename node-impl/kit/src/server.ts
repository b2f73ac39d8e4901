/** Serving a kit app: settings from the environment, a start-up failure as one line, a graceful SIGTERM. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

import closeWithGrace from "close-with-grace";
import type { FastifyInstance } from "fastify";

import { ContractError } from "./app.js";
import { ConfigError, DEFAULT_LIMITS, type Env, type Limits, type ServerSettings, serverSettings } from "./env.js";

/**
 * How long a keep-alive connection that is idle at shutdown stays open, so that a request already on its way is
 * answered (with Connection: close) instead of meeting a closed socket; as in the Python runtime.
 */
export const IDLE_LINGER_MS = 1000;
// Time for the onClose hooks after the connections are cut, before close-with-grace would give up.
const CLOSE_HOOKS_MS = 5000;

/**
 * Listens until SIGTERM or Ctrl-C, then stops accepting, finishes the requests in flight within the drain time
 * (answering them with Connection: close), cuts what is still open then, closes the app (onClose hooks), exits 0.
 */
export async function serve(app: FastifyInstance, host: string, port: number, limits: Limits = DEFAULT_LIMITS): Promise<void> {
  const drainMs = limits.shutdownDrain * 1000;
  // The open connections, kept per connection rather than per request (a listener on every response cost more
  // than a microsecond a request): at the drain, the response each one is writing can still say Connection: close.
  const sockets = new Set<Socket>();
  const forget = function (this: Socket): void {
    sockets.delete(this);
  };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", forget);
  };
  // An HTTPS server answers on the TLS socket of each connection, which it announces as secureConnection.
  app.server.on("connection", track);
  app.server.on("secureConnection", track);
  closeWithGrace({ delay: drainMs + CLOSE_HOOKS_MS, logger: app.log }, async ({ err }) => {
    if (err) app.log.error({ err }, "shutting down after an unexpected error");
    // Every response from now on says Connection: close, and so does each one under way whose head is not sent
    // (the response a socket is writing is its _httpMessage, the usual way to reach it in a graceful shutdown).
    app.server.prependListener("request", (_request: IncomingMessage, response: ServerResponse) => {
      response.setHeader("connection", "close");
    });
    for (const socket of sockets) {
      const response = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (response && !response.headersSent) response.setHeader("connection", "close");
    }
    const server = app.server;
    // Node closes idle keep-alive connections the moment the server closes; they linger a little instead.
    const closeIdle = server.closeIdleConnections.bind(server);
    server.closeIdleConnections = () => {
      setTimeout(closeIdle, Math.min(IDLE_LINGER_MS, drainMs));
    };
    const cut = setTimeout(() => {
      app.log.warn({ drain_seconds: limits.shutdownDrain }, "closing the connections still open after the drain time");
      server.closeAllConnections();
    }, drainMs);
    try {
      await app.close();
    } finally {
      clearTimeout(cut);
    }
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
    await serve(await create(settings), settings.host, settings.port, settings.limits);
  } catch (error) {
    failStart(error);
  }
}
