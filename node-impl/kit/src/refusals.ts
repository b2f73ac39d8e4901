/**
 * The kit's own refusals in the shape the contract documents (the Python runtime's refusals.py does the same).
 *
 * twinapi-codegen decides, per operation and per status the kit refuses with, which documented response answers it
 * (its kit_errors module holds the rule) and writes the choice into the contract document; this module only looks it
 * up. A status the table does not name is answered with problem+json, as is a refusal whose hook itself refuses.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

import { ContractError } from "./contract.js";
import { type FieldError, Problem, UNEXPECTED, sendProblem, titleOf } from "./problem.js";
import { requestPath } from "./request-path.js";
import { type Json, isObject } from "./spec.js";

/**
 * What the kit refuses a request with, handed to the generated ErrorBodies hooks to build the documented body:
 * `status` is the status answered (the documented 422 where the spec says so), `title` its reason phrase, `detail` the
 * kit's one-line explanation, `instance` the request's path and `errors` what is wrong, empty unless the request failed
 * validation.
 */
export interface Refusal {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly instance: string;
  readonly errors: readonly FieldError[];
}

/** Each error as `location: message`; the detail alone when there are none. */
export function messages(refusal: Refusal): string[] {
  const found = refusal.errors.map((e) => `${e.location}: ${e.message}`);
  return found.length > 0 ? found : [refusal.detail];
}

/** The detail, then every error: one line for a `message` or `error` property. */
export function summary(refusal: Refusal): string {
  if (refusal.errors.length === 0) return refusal.detail;
  return `${refusal.detail} ` + refusal.errors.map((e) => `${e.location}: ${e.message}`).join("; ");
}

/** The errors as `[{location, message}]`, the kit's problem+json `errors` member. */
export function fieldErrors(refusal: Refusal): { location: string; message: string }[] {
  return refusal.errors.map((e) => ({ location: e.location, message: e.message }));
}

/** The messages grouped by location (`{"body/email": ["..."]}`); the detail under `body` when there are none. */
export function byLocation(refusal: Refusal): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const e of refusal.errors) (grouped[e.location] ??= []).push(e.message);
  return refusal.errors.length > 0 ? grouped : { body: [refusal.detail] };
}

/** The kit's own RFC 9457 body for a refusal (a problem+json shape's hook can return it). */
export function problemJson(refusal: Refusal): {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { location: string; message: string }[];
} {
  const { status, title, detail, instance } = refusal;
  return refusal.errors.length > 0
    ? { type: "about:blank", title, status, detail, instance, errors: fieldErrors(refusal) }
    : { type: "about:blank", title, status, detail, instance };
}

export type Hook = (refusal: Refusal) => unknown;

/** How one status is answered: the documented status and media type, and the hook building its JSON body (null: no
 * body when `mediaType` is null, else the summary as text). */
export interface Answer {
  readonly status: number;
  readonly mediaType: string | null;
  readonly hook: Hook | null;
}

export type Answers = ReadonlyMap<number, Answer>;

/** The answers of one operation (or path) from its entry in the contract document's `errors`. */
export function answersOf(entry: Json | undefined, hooks: ReadonlyMap<string, Hook>, where: string): Answers {
  const found = new Map<number, Answer>();
  for (const [status, raw] of Object.entries(isObject(entry) ? entry : {})) {
    if (!isObject(raw) || typeof raw["status"] !== "number") {
      throw new ContractError(`${where}: the contract document's answer to ${status} is not one: run \`make generate\``);
    }
    const shape = raw["body"];
    const hook = typeof shape === "string" ? hooks.get(shape) : null;
    if (hook === undefined)
      throw new ContractError(`${where}: no ErrorBodies hook for the error shape ${JSON.stringify(shape)}: run \`make generate\``);
    const mediaType = typeof raw["mediaType"] === "string" ? raw["mediaType"] : null;
    found.set(Number(status), { status: raw["status"], mediaType, hook });
  }
  return found;
}

function withCharset(mediaType: string): string {
  return /;\s*charset=/i.test(mediaType) ? mediaType : `${mediaType}; charset=utf-8`;
}

/** Answers a refusal: the documented answer where the table has it, else problem+json. */
export function refuse(request: FastifyRequest, reply: FastifyReply, error: Problem, answers: Answers | undefined): FastifyReply {
  const answer = answers?.get(error.status);
  if (answer === undefined) return sendProblem(request, reply, error);
  reply.code(answer.status).headers(error.headers);
  if (answer.mediaType === null) return reply.send();
  const refusal: Refusal = {
    status: answer.status,
    title: titleOf(answer.status),
    detail: error.message,
    instance: requestPath(request),
    errors: (error.errors ?? []).map((e) => ({ location: e.location, message: e.message })),
  };
  if (answer.hook === null) return reply.type(withCharset(answer.mediaType)).send(summary(refusal));
  let body: string | undefined;
  try {
    body = JSON.stringify(answer.hook(refusal));
  } catch (refused) {
    // A hook that cannot build its shape (a scaffold's unwritten one) answers with its problem.
    if (refused instanceof Problem) return sendProblem(request, reply, refused);
    request.log.error({ err: refused }, "unhandled error");
  }
  if (body === undefined) return sendProblem(request, reply, new Problem(500, UNEXPECTED));
  // Sent as a string, as problems are: a response schema's serializer would reorder or drop the hook's keys.
  return reply.type(withCharset(answer.mediaType)).send(body);
}
