/** A Fastify instance with the kit's recommended options and the kit registered, as a user of the kit builds one. */
import Fastify, { type FastifyInstance } from "fastify";

import { type TwinapiOptions, fastifyOptions, twinapi } from "../../kit/src/app.js";

export async function kitApp(options: TwinapiOptions): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions({ logLevel: "error" }));
  await app.register(twinapi, options);
  return app;
}
