/** Answers for requests no route takes: 405 with the path's documented methods when the path exists, else 404. */
import type { FastifyReply, FastifyRequest } from "fastify";

import { type Contract, METHOD_ORDER } from "./contract.js";
import { Problem, sendProblem } from "./problem.js";
import { type Answers, refuse } from "./refusals.js";
import { requestPath } from "./request-path.js";
import { pathShape } from "./route-path.js";

const NO_ROUTE = "No route matches this path.";
const WRONG_METHOD = "This path does not accept this method.";

interface KnownPath {
  readonly pattern: RegExp;
  readonly methods: ReadonlySet<string>;
  readonly allow: string;
  /** Its 405 as the path's operations document it. */
  readonly answers: Answers | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Concrete segments before templated ones, as OpenAPI matches paths (/tasks/search before /tasks/{id}). */
function specificity(path: string): string {
  return path
    .split("/")
    .map((segment) => (segment.includes("{") ? "1" : "0"))
    .join("");
}

/** `answersOf` gives a path's documented 405 (by the path as the spec writes it). */
export function routeMiss(contract: Contract, answersOf: (path: string) => Answers | undefined = () => undefined) {
  // Templates that differ only in their parameter names are one path (and one route), the first one written.
  const methods = new Map<string, Set<string>>();
  const first = new Map<string, string>();
  for (const { path, method } of contract.operations) {
    methods.set(pathShape(path), (methods.get(pathShape(path)) ?? new Set()).add(method));
    if (!first.has(pathShape(path))) first.set(pathShape(path), path);
  }
  const known: KnownPath[] = [...methods.entries()]
    .sort(([a], [b]) => specificity(a).localeCompare(specificity(b)))
    .map(([path, documented]) => ({
      pattern: new RegExp("^" + path.split("{}").map(escapeRegExp).join("[^/]*") + "$"),
      methods: documented,
      allow: METHOD_ORDER.filter((method) => documented.has(method)).join(", "),
      answers: answersOf(first.get(path) ?? path),
    }));

  return function answer(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const path = requestPath(request);
    const match = known.find((candidate) => candidate.pattern.test(path));
    // A documented method that still missed the router (a path Fastify's router reads differently) is a 404 too.
    if (match === undefined || match.methods.has(request.method)) {
      return sendProblem(request, reply, new Problem(404, NO_ROUTE));
    }
    return refuse(request, reply, new Problem(405, WRONG_METHOD, { headers: { allow: match.allow } }), match.answers);
  };
}
