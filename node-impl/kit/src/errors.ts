/** Every error becomes a problem: the kit's own, Fastify's (body parsing, bad URLs, ...) and unexpected ones. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

import { tooLarge, unsupportedMediaType } from "./body.js";
import { discardRest } from "./limits.js";
import { Problem, UNEXPECTED, sendProblem } from "./problem.js";
import { type Answers, refuse } from "./refusals.js";

function asProblem(error: FastifyError, request: FastifyRequest, bodyLimit: number): Problem | null {
  if (error instanceof Problem) return error;
  const status = error.statusCode;
  if (status === 413) return tooLarge(bodyLimit);
  if (status === 415) return unsupportedMediaType(request.routeOptions.config.body?.mediaTypes ?? []);
  // Fastify's remaining client errors (a body shorter than its Content-Length, a malformed URL) say nothing internal.
  if (status !== undefined && status >= 400 && status < 500) {
    return new Problem(status, error.message, status === 400 ? { errors: [{ location: "body", message: error.message }] } : {});
  }
  return null;
}

/** `answers` are each operation's refusals as it documents them (see refusals). */
export function errorHandler(
  bodyLimit: number,
  routeMiss: (request: FastifyRequest, reply: FastifyReply) => FastifyReply,
  answers: (request: FastifyRequest) => Answers | undefined,
) {
  return function handle(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    // An error before routing (e.g. QUERY without a Content-Type on an unknown route) is still a route miss.
    if (request.is404 && !(error instanceof Problem)) return routeMiss(request, reply);
    const problem = asProblem(error, request, bodyLimit);
    if (problem?.status === 413) discardRest(request, reply);
    if (problem !== null) return refuse(request, reply, problem, answers(request));
    request.log.error({ err: error }, "unhandled error");
    return sendProblem(request, reply, new Problem(500, UNEXPECTED));
  };
}
