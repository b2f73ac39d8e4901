/** The contract itself at /openapi.json (the spec file as JSON, not a re-derived one) and Swagger UI at /docs. */
import swagger, { type StaticDocumentSpec } from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";

import type { JsonObject } from "./spec.js";

export async function docs(app: FastifyInstance, options: { spec: JsonObject }): Promise<void> {
  const json = JSON.stringify(options.spec);
  app.get("/openapi.json", { schema: { hide: true } }, async (_request, reply) => reply.type("application/json; charset=utf-8").send(json));
  // The glue has validated the document as OpenAPI; @fastify/swagger only hands it to Swagger UI as it is.
  const document = options.spec as unknown as StaticDocumentSpec["document"];
  await app.register(swagger, { mode: "static", specification: { document } });
  await app.register(swaggerUi, { routePrefix: "/docs" });
}
