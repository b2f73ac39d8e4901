/** The stores over `app.db`, one per kind of thing Conduit keeps: `app.users`, `app.profiles`, and so on. */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { Articles } from "../store/articles.js";
import { Comments } from "../store/comments.js";
import { Profiles } from "../store/profiles.js";
import { Users } from "../store/users.js";

declare module "fastify" {
  interface FastifyInstance {
    users: Users;
    profiles: Profiles;
    articles: Articles;
    comments: Comments;
  }
}

async function stores(app: FastifyInstance): Promise<void> {
  app.decorate("users", new Users(app.db));
  app.decorate("profiles", new Profiles(app.db));
  app.decorate("articles", new Articles(app.db));
  app.decorate("comments", new Comments(app.db));
}

export default fp(stores, { name: "stores", fastify: "5.x", dependencies: ["database"] });
