/**
 * Conduit's 19 operations over the store. `implements api.Service<Caller>` is the compile-time proof that none is
 * missing. Each operation runs its queries in one transaction (`db.read` or `db.write`; a write that lost a race on
 * PostgreSQL runs again from the start and then sees the winner). Hand-made errors answer in the spec's own shape
 * with the texts CONVENTIONS.md fixes.
 */
import type * as api from "../generated/service.js";
import type { components } from "../generated/schema.js";
import { invalidCredentials } from "fastify-twinapi";
import type { Database, Queries } from "./db.js";
import { errorBody } from "./errors.js";
import type { Passwords, Tokens } from "./security.js";
import * as articles from "./store/articles.js";
import type { ArticleRow } from "./store/articles.js";
import * as comments from "./store/comments.js";
import * as profiles from "./store/profiles.js";
import { toProfile } from "./store/profiles.js";
import * as users from "./store/users.js";
import type { UserChanges, UserRow } from "./store/users.js";

/** Who is calling: their account, as their token names it. */
export type Caller = UserRow;

type User = components["schemas"]["User"];

export const ARTICLE_NOT_FOUND = "article not found";
export const COMMENT_NOT_FOUND = "comment not found";
export const PROFILE_NOT_FOUND = "profile not found";
export const NOT_ARTICLE_AUTHOR = "only the author may change this article";
export const NOT_COMMENT_AUTHOR = "only the author may delete this comment";
export const SELF_FOLLOW = "you cannot follow yourself";

/** What the service works with: the app's decorators. */
export interface Stores {
  readonly db: Database;
  readonly passwords: Passwords;
  readonly tokens: Tokens;
}

/** Why a write did not happen: the message of the 403, 404 or 422 that answers it. */
class Refused {
  constructor(
    readonly status: 403 | 404 | 422,
    readonly message: string,
  ) {}
}

/** The refusal as the operation answers it: its status and Conduit's error body. */
function refuse(reply: { code(status: number): unknown }, refused: Refused): api.GenericErrorModelErrorBody {
  reply.code(refused.status);
  return errorBody(refused.message);
}

/** The article named `slug` as `viewer` sees it, or the 404 refusal. */
async function findArticle(q: Queries, slug: string, viewer: number | null): Promise<ArticleRow | Refused> {
  return (await articles.bySlug(q, slug, viewer)) ?? new Refused(404, ARTICLE_NOT_FOUND);
}

/** The article just written, read back as `viewer` sees it in the same transaction. */
async function written(q: Queries, slug: string, viewer: number): Promise<articles.Article> {
  const row = await articles.bySlug(q, slug, viewer);
  if (row === undefined) throw new Error(`article ${slug} disappeared after it was written`);
  return articles.article(q, row);
}

export class Conduit implements api.Service<Caller> {
  private readonly db: Database;

  constructor(private readonly stores: Stores) {
    this.db = stores.db;
  }

  /** The `user` object: every answer about the caller's account carries a fresh token. */
  private user(row: UserRow): { user: User } {
    const token = this.stores.tokens.issue(row.id);
    return { user: { email: row.email, token, username: row.username, bio: row.bio, image: row.image } };
  }

  private viewerOf(request: { principal: Caller | null }): number | null {
    return request.principal?.id ?? null;
  }

  async login(request: api.LoginRequest, reply: api.LoginReply): Promise<api.LoginResult> {
    const { email, password } = request.body.user;
    const row = await this.db.read((q) => users.byEmail(q, email));
    // Checked for an unknown email too (against a dummy hash): both answers take as long.
    const valid = await this.stores.passwords.verify(password, row?.password_hash);
    if (!valid || row === undefined) {
      // The spec's 401 has no body; the same answer for an unknown email and a wrong password.
      reply.code(401);
      return undefined;
    }
    return this.user(row);
  }

  async createUser(request: api.CreateUserRequest, reply: api.CreateUserReply): Promise<api.CreateUserResult> {
    const { username, email, password } = request.body.user;
    const hash = await this.stores.passwords.hash(password); // before the transaction: it takes a while
    const registered = await this.db.write(async (q) => {
      const problems = await users.taken(q, email, username);
      return problems.length > 0 ? problems : users.create(q, username, email, hash);
    });
    if (Array.isArray(registered)) {
      reply.code(422);
      return errorBody(...registered);
    }
    reply.code(201);
    return this.user(registered);
  }

  async getCurrentUser(request: api.GetCurrentUserRequest<Caller>): Promise<api.GetCurrentUserResult> {
    return this.user(request.principal);
  }

  async updateCurrentUser(
    request: api.UpdateCurrentUserRequest<Caller>,
    reply: api.UpdateCurrentUserReply,
  ): Promise<api.UpdateCurrentUserResult> {
    const { password, ...fields } = request.body.user;
    const changes: UserChanges = {
      ...fields,
      ...(password === undefined ? {} : { passwordHash: await this.stores.passwords.hash(password) }),
    };
    const me = request.principal.id;
    const updated = await this.db.write(async (q) => {
      const problems = await users.taken(q, changes.email, changes.username, me);
      return problems.length > 0 ? problems : users.update(q, me, changes);
    });
    if (Array.isArray(updated)) {
      reply.code(422);
      return errorBody(...updated);
    }
    // The account went away after its token was checked.
    if (updated === undefined) throw invalidCredentials();
    return this.user(updated);
  }

  async getProfileByUsername(
    request: api.GetProfileByUsernameRequest<Caller>,
    reply: api.GetProfileByUsernameReply,
  ): Promise<api.GetProfileByUsernameResult> {
    const found = await this.db.read((q) => profiles.byUsername(q, request.params.username, this.viewerOf(request)));
    if (found === undefined) {
      reply.code(404);
      return errorBody(PROFILE_NOT_FOUND);
    }
    return { profile: toProfile(found) };
  }

  async followUserByUsername(
    request: api.FollowUserByUsernameRequest<Caller>,
    reply: api.FollowUserByUsernameReply,
  ): Promise<api.FollowUserByUsernameResult> {
    const me = request.principal.id;
    // The body (the suite sends the follower's user object) says nothing the path and the token do not.
    const followed = await this.db.write(async (q) => {
      const found = await profiles.byUsername(q, request.params.username, me);
      if (found === undefined) return new Refused(404, PROFILE_NOT_FOUND);
      if (found.id === me) return new Refused(422, SELF_FOLLOW);
      await profiles.follow(q, me, found.id);
      return found;
    });
    if (followed instanceof Refused) return refuse(reply, followed);
    return { profile: toProfile({ ...followed, following: true }) };
  }

  async unfollowUserByUsername(
    request: api.UnfollowUserByUsernameRequest<Caller>,
    reply: api.UnfollowUserByUsernameReply,
  ): Promise<api.UnfollowUserByUsernameResult> {
    const me = request.principal.id;
    const unfollowed = await this.db.write(async (q) => {
      const found = await profiles.byUsername(q, request.params.username, me);
      if (found !== undefined) await profiles.unfollow(q, me, found.id);
      return found;
    });
    if (unfollowed === undefined) {
      reply.code(404);
      return errorBody(PROFILE_NOT_FOUND);
    }
    return { profile: toProfile({ ...unfollowed, following: false }) };
  }

  async getArticlesFeed(request: api.GetArticlesFeedRequest<Caller>): Promise<api.GetArticlesFeedResult> {
    const { offset = 0, limit } = request.query;
    // One read transaction: the page and the count see the same rows.
    return this.db.read((q) => articles.feed(q, request.principal.id, { offset, limit }));
  }

  async getArticles(request: api.GetArticlesRequest<Caller>): Promise<api.GetArticlesResult> {
    const { tag, author, favorited, offset = 0, limit } = request.query;
    const filter = { tag: tag ?? null, author: author ?? null, favorited: favorited ?? null };
    return this.db.read((q) => articles.list(q, filter, this.viewerOf(request), { offset, limit }));
  }

  async createArticle(request: api.CreateArticleRequest<Caller>, reply: api.CreateArticleReply): Promise<api.CreateArticleResult> {
    const { title, description, body, tagList = [] } = request.body.article;
    const me = request.principal.id;
    const created = await this.db.write(async (q) => {
      const slug = await articles.create(q, me, { title, description, body, tagList });
      return written(q, slug, me);
    });
    reply.code(201);
    return { article: created };
  }

  async getArticle(request: api.GetArticleRequest<Caller>, reply: api.GetArticleReply): Promise<api.GetArticleResult> {
    const found = await this.db.read(async (q) => {
      const row = await findArticle(q, request.params.slug, this.viewerOf(request));
      return row instanceof Refused ? row : articles.article(q, row);
    });
    if (found instanceof Refused) return refuse(reply, found);
    return { article: found };
  }

  async updateArticle(request: api.UpdateArticleRequest<Caller>, reply: api.UpdateArticleReply): Promise<api.UpdateArticleResult> {
    const me = request.principal.id;
    const updated = await this.db.write(async (q) => {
      const row = await findArticle(q, request.params.slug, me);
      if (row instanceof Refused) return row;
      if (row.author_id !== me) return new Refused(403, NOT_ARTICLE_AUTHOR);
      return written(q, await articles.update(q, row, request.body.article), me);
    });
    if (updated instanceof Refused) return refuse(reply, updated);
    return { article: updated };
  }

  async deleteArticle(request: api.DeleteArticleRequest<Caller>, reply: api.DeleteArticleReply): Promise<api.DeleteArticleResult> {
    const me = request.principal.id;
    const refused = await this.db.write(async (q) => {
      const row = await findArticle(q, request.params.slug, me);
      if (row instanceof Refused) return row;
      if (row.author_id !== me) return new Refused(403, NOT_ARTICLE_AUTHOR);
      await articles.remove(q, row.id);
      return null;
    });
    if (refused !== null) return refuse(reply, refused);
    reply.code(204);
    return undefined;
  }

  async getArticleComments(
    request: api.GetArticleCommentsRequest<Caller>,
    reply: api.GetArticleCommentsReply,
  ): Promise<api.GetArticleCommentsResult> {
    const viewer = this.viewerOf(request);
    const found = await this.db.read(async (q) => {
      const row = await findArticle(q, request.params.slug, viewer);
      return row instanceof Refused ? row : comments.ofArticle(q, row.id, viewer);
    });
    if (found instanceof Refused) return refuse(reply, found);
    return { comments: found };
  }

  async createArticleComment(
    request: api.CreateArticleCommentRequest<Caller>,
    reply: api.CreateArticleCommentReply,
  ): Promise<api.CreateArticleCommentResult> {
    const me = request.principal.id;
    const created = await this.db.write(async (q) => {
      const row = await findArticle(q, request.params.slug, me);
      return row instanceof Refused ? row : comments.create(q, row.id, me, request.body.comment.body);
    });
    if (created instanceof Refused) return refuse(reply, created);
    return { comment: created };
  }

  async deleteArticleComment(
    request: api.DeleteArticleCommentRequest<Caller>,
    reply: api.DeleteArticleCommentReply,
  ): Promise<api.DeleteArticleCommentResult> {
    const me = request.principal.id;
    const refused = await this.db.write(async (q) => {
      // In this order: the article, the comment on it, its author.
      const row = await findArticle(q, request.params.slug, me);
      if (row instanceof Refused) return row;
      const author = await comments.authorOf(q, request.params.id, row.id);
      if (author === undefined) return new Refused(404, COMMENT_NOT_FOUND);
      if (author !== me) return new Refused(403, NOT_COMMENT_AUTHOR);
      await comments.remove(q, request.params.id);
      return null;
    });
    if (refused !== null) return refuse(reply, refused);
    reply.code(204);
    return undefined;
  }

  /** Favourites (`on`) or unfavourites the article; the article afterwards, or the 404. */
  private favourite(me: number, slug: string, on: boolean): Promise<articles.Article | Refused> {
    return this.db.write(async (q) => {
      const row = await findArticle(q, slug, me);
      if (row instanceof Refused) return row;
      await (on ? articles.favorite : articles.unfavorite)(q, me, row.id);
      return written(q, row.slug, me);
    });
  }

  async createArticleFavorite(
    request: api.CreateArticleFavoriteRequest<Caller>,
    reply: api.CreateArticleFavoriteReply,
  ): Promise<api.CreateArticleFavoriteResult> {
    const found = await this.favourite(request.principal.id, request.params.slug, true);
    if (found instanceof Refused) return refuse(reply, found);
    return { article: found };
  }

  async deleteArticleFavorite(
    request: api.DeleteArticleFavoriteRequest<Caller>,
    reply: api.DeleteArticleFavoriteReply,
  ): Promise<api.DeleteArticleFavoriteResult> {
    const found = await this.favourite(request.principal.id, request.params.slug, false);
    if (found instanceof Refused) return refuse(reply, found);
    return { article: found };
  }

  async getTags(): Promise<api.GetTagsResult> {
    return { tags: await this.db.read(articles.allTags) };
  }
}

/** The Token scheme: `Authorization: Token <jwt>` names an account that exists, or the request is 401. */
export class TokenAuth implements api.SecurityHandlers<Caller> {
  constructor(
    private readonly tokens: Tokens,
    private readonly db: Database,
  ) {}

  async token(credential: string): Promise<Caller> {
    const id = this.tokens.userId(credential);
    const row = id === null ? undefined : await this.db.read((q) => users.byId(q, id));
    if (row === undefined) throw invalidCredentials();
    return row;
  }
}
