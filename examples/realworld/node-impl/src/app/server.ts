/**
 * The server of RealWorld Conduit API: `node dist/app/server.js` serves it on HOST:PORT (default 127.0.0.1:3000), with
 * LOG_LEVEL, until SIGTERM or Ctrl-C. `make generate` wrote this file once; it is yours now.
 */
import Fastify from "fastify";

import { formats } from "../generated/formats.js";
import { CONTRACT_PATH, contract } from "../generated/service.js";
import { fastifyOptions, serveFromEnv, twinapi } from "fastify-twinapi";
import { Errors } from "./errors.js";
import { Security, Service } from "./service.js";

await serveFromEnv(
  async ({ logLevel, limits }) => {
    // Your Fastify instance: add your own options after the kit's, and register plugins (CORS, rate limits, ...)
    // before the kit so that they apply to the contract's routes too.
    const app = Fastify({ ...fastifyOptions({ logLevel, limits }) });
    await app.register(twinapi, {
      contractPath: CONTRACT_PATH,
      contract,
      formats,
      service: new Service(),
      securityHandlers: new Security(),
      errorBodies: new Errors(),
      limits,
    });
    return app;
  },
  { defaultPort: 3000 },
);
