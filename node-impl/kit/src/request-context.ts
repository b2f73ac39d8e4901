/** X-Request-ID on every response and one JSON access-log line per request, through Fastify's own logger. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from "fastify";

import { requestPath } from "./request-path.js";

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export type LogLevel = "debug" | "info" | "warn" | "error";

/** JSON lines with the shared field names: level as a word ("warning", as Python says), time in ISO 8601 UTC. */
export function loggerOptions(level: LogLevel, stream?: NodeJS.WritableStream): FastifyServerOptions["logger"] {
  return {
    level,
    base: null,
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label === "warn" ? "warning" : label }) },
    ...(stream ? { stream } : {}),
  };
}

/** The client's X-Request-ID when it is 1..200 visible ASCII characters, else a fresh uuid4. */
export function requestId(request: IncomingMessage): string {
  const sent = request.headers["x-request-id"];
  return typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** Replaces Fastify's two request lines (incoming, completed) with the one access line the conventions fix. */
export class AccessLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: "request_id" });
  }

  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Below the logger's level the line is not even built (its path is decoded, its duration rounded); a logger
    // of the user's own without pino's isLevelEnabled gets every line, as before.
    const log = request.log as typeof request.log & { isLevelEnabled?: (level: string) => boolean };
    if (log.isLevelEnabled?.("info") === false) return;
    request.log.info(
      {
        method: request.method,
        path: requestPath(request),
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
      },
      "request",
    );
  }
}
