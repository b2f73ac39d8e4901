/** Passwords and tokens as `app.passwords` and `app.tokens`, from the configuration's cost, secret and lifetime. */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { Passwords, Tokens } from "../security.js";

declare module "fastify" {
  interface FastifyInstance {
    passwords: Passwords;
    tokens: Tokens;
  }
}

export interface SecurityOptions {
  readonly bcryptRounds: number;
  readonly jwtSecret: string;
  readonly jwtTtlSeconds: number;
}

async function security(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  app.decorate("passwords", await Passwords.create(options.bcryptRounds));
  app.decorate("tokens", new Tokens(options.jwtSecret, options.jwtTtlSeconds));
}

export default fp(security, { name: "security", fastify: "5.x" });
