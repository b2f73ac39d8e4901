/**
 * The example's answers to the requests the kit refuses before a handler runs: RFC 9457 problem+json, validation
 * failures with their `errors` (CONVENTIONS.md, Errors). The spec documents them so; the kit picks which one answers.
 */
import type { ErrorBodies, ProblemErrorBody, ValidationProblemErrorBody } from "../generated/service.js";
import { type Refusal, fieldErrors, problemJson } from "fastify-twinapi";

export class Problems implements ErrorBodies {
  validationProblem(refusal: Refusal): ValidationProblemErrorBody {
    return { ...problemJson(refusal), errors: fieldErrors(refusal) };
  }

  problem(refusal: Refusal): ProblemErrorBody {
    return problemJson(refusal);
  }
}
