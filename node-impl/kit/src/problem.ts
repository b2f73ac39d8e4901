/** RFC 9457 problem details: the only error body the kit sends. */
import type { FastifyReply, FastifyRequest } from "fastify";

import { requestPath } from "./request-path.js";

export const PROBLEM_JSON = "application/problem+json; charset=utf-8";
export const INVALID_REQUEST = "The request does not match the contract.";
export const UNEXPECTED = "An unexpected error occurred.";

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

export interface FieldError {
  readonly location: string;
  readonly message: string;
}

export interface ProblemBody {
  type: "about:blank";
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: readonly FieldError[];
}

/** Thrown anywhere in a request (hooks, security handlers, service methods) to answer with a problem. */
export class Problem extends Error {
  readonly status: number;
  readonly errors: readonly FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    detail: string,
    options: { errors?: readonly FieldError[]; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(detail);
    this.name = "Problem";
    this.status = status;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** What a scaffolded handler throws until it is written: 501 problem+json. */
export class NotImplementedOperation extends Problem {
  constructor() {
    super(501, "This operation is not implemented yet.");
    this.name = "NotImplementedOperation";
  }
}

export function invalid(errors: readonly FieldError[], detail = INVALID_REQUEST): Problem {
  return new Problem(400, detail, { errors });
}

/** What a security handler throws for a credential that was sent but is not valid. */
export function invalidCredentials(detail = "The bearer token is invalid or expired."): Problem {
  return new Problem(401, detail, { headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
}

/** The reason phrase of a status, as problems and refusals title it. */
export function titleOf(status: number): string {
  return TITLES[status] ?? "Error";
}

/** The body of a problem; keys in the order the conventions fix (type, title, status, detail, instance, errors). */
export function problemBody(status: number, detail: string, instance?: string, errors?: readonly FieldError[]): ProblemBody {
  const body: ProblemBody = { type: "about:blank", title: titleOf(status), status, detail };
  if (instance !== undefined) body.instance = instance;
  if (errors !== undefined) body.errors = errors;
  return body;
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  // Sent as a string: a response schema's serializer would reorder the keys (fast-json-stringify puts required first).
  const body = problemBody(problem.status, problem.message, requestPath(request), problem.errors);
  return reply.code(problem.status).headers(problem.headers).type(PROBLEM_JSON).send(JSON.stringify(body));
}
