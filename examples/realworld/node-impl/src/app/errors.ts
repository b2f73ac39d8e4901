/**
 * Conduit's error body, `{"errors": {"body": [...]}}` (GenericErrorModel): for the requests the kit refuses before a
 * handler runs, and for the handlers' own 403, 404 and 422 (CONVENTIONS.md, Errors).
 */
import type * as api from "../generated/service.js";
import { type Refusal, messages } from "fastify-twinapi";

export function errorBody(...texts: string[]): api.GenericErrorModelErrorBody {
  return { errors: { body: texts } };
}

export class Errors implements api.ErrorBodies {
  /** The kit's 422 (validation) and whatever else it answers in this shape. */
  genericErrorModel(refusal: Refusal): api.GenericErrorModelErrorBody {
    return errorBody(...messages(refusal));
  }
}
