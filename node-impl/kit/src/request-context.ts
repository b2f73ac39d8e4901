/** X-Request-ID on every response and one JSON access-log line per request, through Fastify's own logger. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from "fastify";

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

type LevelCheck = { isLevelEnabled?: (level: string) => boolean };

/** Whether a line at this level would be written; a logger of the user's own without pino's isLevelEnabled writes all. */
export function logsAt(log: FastifyBaseLogger, level: string): boolean {
  return (log as LevelCheck).isLevelEnabled?.(level) !== false;
}

/** Replaces Fastify's two request lines (incoming, completed) with the one access line the conventions fix. */
export class AccessLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: "request_id" });
  }

  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Below the logger's level the line is not even built (its path is decoded, its duration rounded).
    if (!logsAt(request.log, "info")) return;
    request.log.info(
      {
        method: request.method,
        path: requestPath(request),
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
        client: request.ip,
      },
      "request",
    );
  }
}

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
type Bindings = Parameters<FastifyBaseLogger["child"]>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger["child"]>[1]>;

/**
 * A request's logger that becomes the logger's real child (pino serialises the bindings: a few µs) only when it
 * first has a line to write: under LOG_LEVEL=warning most requests never do. A logger without pino's
 * isLevelEnabled, or a route's own log level, gets its child at once, as Fastify makes it.
 */
export class RequestLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {
    if (options.level !== undefined || typeof (parent as LevelCheck).isLevelEnabled !== "function") this.logger();
  }

  private logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }

  private write(level: Level, args: unknown[]): void {
    if (this.real === null && (this.parent as LevelCheck).isLevelEnabled?.(level) === false) return;
    const logger = this.logger();
    const line: (...parts: unknown[]) => void = logger[level];
    line.apply(logger, args);
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  isLevelEnabled(level: string): boolean {
    const logger = (this.real ?? this.parent) as LevelCheck;
    return logger.isLevelEnabled?.(level) ?? true;
  }

  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }

  error(...args: unknown[]): void {
    this.write("error", args);
  }

  warn(...args: unknown[]): void {
    this.write("warn", args);
  }

  info(...args: unknown[]): void {
    this.write("info", args);
  }

  debug(...args: unknown[]): void {
    this.write("debug", args);
  }

  trace(...args: unknown[]): void {
    this.write("trace", args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
}

/** Fastify's childLoggerFactory: each request's logger, made lazily. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options);
}
