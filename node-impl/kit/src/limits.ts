/**
 * The limits of the HTTP layer, answered in problem+json as in the Python runtime (twinapi_runtime/server.py):
 * URL length (414), header size and count (431), exactly one Host (400), malformed HTTP (400), a header-read and a
 * body-idle timeout (408, then the connection closes), and a refused body read and discarded up to a bound, so
 * that a client that writes its whole body before reading still gets the 413.
 */
import type { Socket } from "node:net";

import type { FastifyHttpOptions, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import type { IncomingMessage, Server, ServerResponse } from "node:http";

import { type Limits, maxHeadBytes } from "./env.js";
import { PROBLEM_JSON, problemBody } from "./problem.js";
import { logsAt } from "./request-context.js";
import { requestPath } from "./request-path.js";

/** What a refused body may still send, read and discarded; beyond this the connection is closed. */
export const DISCARD_LIMIT = 16 * 1024 * 1024;
export const NOT_HTTP = "The request is not valid HTTP.";
export const ONE_HOST = "The request must have exactly one Host header.";
/** nginx's status for a request its client gave up on: logged, never sent, and not a server error. */
export const CLIENT_GONE = 499;

const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

function tooManyHeaderBytes(limits: Limits): string {
  return `The request headers are larger than ${limits.maxHeaderBytes} bytes.`;
}

function tooLongUrl(limits: Limits): string {
  return `The request URL is longer than ${limits.maxUrlBytes} bytes.`;
}

/** A whole response on a socket no request was read from: a problem without an instance, then close. */
export function writeProblem(socket: Socket, status: number, detail: string): void {
  if (!socket.writable) return;
  const body = JSON.stringify(problemBody(status, detail));
  const title = problemBody(status, detail).title;
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Node's own answer to what its parser refuses, or to a request whose headers took too long. */
function clientError(limits: Limits) {
  return (error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void => {
    if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      writeProblem(socket, 408, `The request headers did not arrive within ${limits.headerTimeout} s.`);
    } else if (error.code === "HPE_HEADER_OVERFLOW") {
      // The head passed the parser's bound: an over-long request line still in this packet is a URL too long.
      const packet = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString("latin1") : "";
      const lineEnd = packet.indexOf("\r\n");
      const longLine = REQUEST_LINE.test(packet) && (lineEnd === -1 || lineEnd > limits.maxUrlBytes);
      writeProblem(socket, longLine ? 414 : 431, longLine ? tooLongUrl(limits) : tooManyHeaderBytes(limits));
    } else {
      writeProblem(socket, 400, NOT_HTTP);
    }
  };
}

/** The Fastify options that put Node's HTTP layer under the limits. */
export function limitOptions(limits: Limits): FastifyHttpOptions<Server> {
  return {
    bodyLimit: limits.maxBodyBytes,
    keepAliveTimeout: limits.keepAliveTimeout * 1000,
    // The whole-request timer stays off: the body has its own idle timeout (bodyTimeout below).
    requestTimeout: 0,
    // Requests still arriving on open connections while closing are served (with Connection: close), not 503.
    return503OnClosing: false,
    http: {
      maxHeaderSize: maxHeadBytes(limits),
      headersTimeout: limits.headerTimeout * 1000,
      // How often Node looks for connections past headersTimeout; its default (30 s) would blur a short timeout.
      connectionsCheckingInterval: Math.min(1000, limits.headerTimeout * 500),
      // Checked in the onRequest hook below, so that its answer is a problem like every other.
      requireHostHeader: false,
    },
    clientErrorHandler: clientError(limits),
  };
}

/** The Fastify reply of a raw request or response, for the listeners every request shares. */
const REPLY = Symbol("twinapi.reply");
type Answer = ServerResponse & { [REPLY]?: FastifyReply };
type Message = IncomingMessage & { [REPLY]?: FastifyReply };

/**
 * A client that hung up before its answer could be delivered: one info line, not an error (Fastify logs none).
 * One function for every response: a closure each, with `once`, made three objects a request.
 */
function closed(this: Answer): void {
  const reply = this[REPLY];
  if (this.writableFinished || reply === undefined) return;
  const request = reply.request;
  const took = Math.round(reply.elapsedTime * 1000) / 1000;
  request.log.info({ method: request.method, path: requestPath(request), status: CLIENT_GONE, duration_ms: took }, "client disconnected");
}

function refuse(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return reply
    .code(status)
    .header("connection", "close")
    .type(PROBLEM_JSON)
    .send(JSON.stringify(problemBody(status, detail)));
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length.trim() !== "0" && length !== "");
}

/**
 * The first onRequest hook: URL, header size and count, and Host, counted as the Python runtime counts them
 * (header bytes are names plus values); then the body's idle timer. A callback hook, not an async one: every
 * request passes here, and an async hook costs Fastify a promise and a microtask turn each time.
 */
export function requestLimits(limits: Limits) {
  const stalledDetail = `The request body stalled for ${limits.bodyTimeout} s.`;
  // The body timer's two listeners, shared by every request (a closure each made two objects a request).
  const stalled = function (this: Message): void {
    const socket = this.socket;
    if (this[REPLY]?.sent === true || socket.destroyed) {
      socket.destroy();
      return;
    }
    writeProblem(socket, 408, stalledDetail);
    socket.destroySoon();
  };
  const ended = function (this: Message): void {
    this.removeListener("timeout", stalled);
    this.socket.setTimeout(0);
  };
  return function limit(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const raw = request.raw;
    // A refusal answers here and ends the hooks: `done` is not called then. The sizes are latin1 lengths (one
    // character a byte), as Node's parser decodes the head.
    if ((raw.url ?? "").length > limits.maxUrlBytes) {
      refuse(reply, 414, tooLongUrl(limits));
      return;
    }
    const headers = raw.rawHeaders;
    if (headers.length / 2 > limits.maxHeaders) {
      refuse(reply, 431, `The request has more than ${limits.maxHeaders} headers.`);
      return;
    }
    let bytes = 0;
    let hosts = 0;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] ?? "";
      bytes += name.length + (headers[i + 1] ?? "").length;
      if (name.length === 4 && name.toLowerCase() === "host") hosts += 1;
    }
    if (bytes > limits.maxHeaderBytes) {
      refuse(reply, 431, tooManyHeaderBytes(limits));
      return;
    }
    // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; HTTP/1.0 may have none, never two.
    if (hosts > 1 || (hosts === 0 && raw.httpVersion === "1.1")) {
      refuse(reply, 400, ONE_HOST);
      return;
    }
    // The line is at info: below that level nothing listens (a logger without isLevelEnabled always does).
    if (logsAt(request.log, "info")) {
      (reply.raw as Answer)[REPLY] = reply;
      reply.raw.on("close", closed);
    }
    // Only a real connection has a timer (light-my-request's injected requests have none).
    if (request.method !== "HEAD" && hasBody(request) && typeof raw.setTimeout === "function") {
      (raw as Message)[REPLY] = reply;
      raw.setTimeout(limits.bodyTimeout * 1000, stalled);
      raw.on("end", ended);
    }
    done();
  };
}

/** After a 413: the rest of the body is read and discarded, up to a bound, so that the answer reaches the client. */
export function discardRest(request: FastifyRequest, reply: FastifyReply): void {
  reply.removeHeader("connection"); // Fastify's reader asks to close, which would reset a client still writing
  const raw = request.raw;
  let seen = 0;
  raw.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) raw.socket.destroy();
  });
  raw.resume();
}
