/**
 * 503 with Retry-After in Conduit's error shape while the database cannot be reached (CONVENTIONS.md, Storage), as
 * the Python server answers it. The spec documents no 503, so the kit answers the `Unavailable` the store throws with
 * problem+json, as it does every status outside the contract; this rewrites that one answer, and only it.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

import { UNAVAILABLE, Unavailable } from "../db.js";
import { errorBody } from "../errors.js";

async function unavailable(app: FastifyInstance): Promise<void> {
  const refused = new WeakSet<FastifyRequest>();
  // onError runs before the kit's error handler, with the error itself: the request is marked, not answered.
  app.addHook("onError", async (request, _reply, error) => {
    if (error instanceof Unavailable) refused.add(request);
  });
  app.addHook("onSend", async (request, reply, payload) => {
    if (!refused.has(request)) return payload;
    reply.type("application/json; charset=utf-8");
    return JSON.stringify(errorBody(UNAVAILABLE));
  });
}

// Not encapsulated: the hooks reach the kit's routes, registered after it.
export default fp(unavailable, { name: "unavailable", fastify: "5.x" });
