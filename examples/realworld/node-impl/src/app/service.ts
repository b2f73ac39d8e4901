/**
 * Conduit's 19 operations over the stores. `implements api.Service<Caller>` is the compile-time proof that none is
 * missing. Hand-made errors answer in the spec's own shape with the texts CONVENTIONS.md fixes.
 */
import type * as api from "../generated/service.js";
import type { components } from "../generated/schema.js";
import { invalidCredentials } from "fastify-twinapi";
import { errorBody } from "./errors.js";
import type { Passwords, Tokens } from "./security.js";
import type { ArticleRow, Articles } from "./store/articles.js";
import type { Comments } from "./store/comments.js";
import { type Profiles, toProfile } from "./store/profiles.js";
import type { UserChanges, UserRow, Users } from "./store/users.js";

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
  readonly users: Users;
  readonly profiles: Profiles;
  readonly articles: Articles;
  readonly comments: Comments;
  readonly passwords: Passwords;
  readonly tokens: Tokens;
}

export class Conduit implements api.Service<Caller> {
  constructor(private readonly stores: Stores) {}

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
    const row = this.stores.users.byEmail(email);
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
    const registered = this.stores.users.register(username, email, await this.stores.passwords.hash(password));
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
    const updated = this.stores.users.update(request.principal.id, changes);
    if (Array.isArray(updated)) {
      reply.code(422);
      return errorBody(...updated);
    }
    return this.user(updated);
  }

  async getProfileByUsername(
    request: api.GetProfileByUsernameRequest<Caller>,
    reply: api.GetProfileByUsernameReply,
  ): Promise<api.GetProfileByUsernameResult> {
    const found = this.stores.profiles.byUsername(request.params.username, this.viewerOf(request));
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
    const found = this.stores.profiles.byUsername(request.params.username, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(PROFILE_NOT_FOUND);
    }
    if (found.id === me) {
      reply.code(422);
      return errorBody(SELF_FOLLOW);
    }
    this.stores.profiles.follow(me, found.id);
    return { profile: toProfile({ ...found, following: 1 }) };
  }

  async unfollowUserByUsername(
    request: api.UnfollowUserByUsernameRequest<Caller>,
    reply: api.UnfollowUserByUsernameReply,
  ): Promise<api.UnfollowUserByUsernameResult> {
    const me = request.principal.id;
    const found = this.stores.profiles.byUsername(request.params.username, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(PROFILE_NOT_FOUND);
    }
    this.stores.profiles.unfollow(me, found.id);
    return { profile: toProfile({ ...found, following: 0 }) };
  }

  async getArticlesFeed(request: api.GetArticlesFeedRequest<Caller>): Promise<api.GetArticlesFeedResult> {
    const { offset = 0, limit } = request.query;
    return this.stores.articles.feed(request.principal.id, { offset, limit });
  }

  async getArticles(request: api.GetArticlesRequest<Caller>): Promise<api.GetArticlesResult> {
    const { tag, author, favorited, offset = 0, limit } = request.query;
    const filter = { tag: tag ?? null, author: author ?? null, favorited: favorited ?? null };
    return this.stores.articles.list(filter, this.viewerOf(request), { offset, limit });
  }

  async createArticle(request: api.CreateArticleRequest<Caller>, reply: api.CreateArticleReply): Promise<api.CreateArticleResult> {
    const { title, description, body, tagList = [] } = request.body.article;
    const me = request.principal.id;
    const slug = this.stores.articles.create(me, { title, description, body, tagList });
    reply.code(201);
    return { article: this.stores.articles.article(this.mustFind(slug, me)) };
  }

  async getArticle(request: api.GetArticleRequest<Caller>, reply: api.GetArticleReply): Promise<api.GetArticleResult> {
    const found = this.stores.articles.bySlug(request.params.slug, this.viewerOf(request));
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    return { article: this.stores.articles.article(found) };
  }

  async updateArticle(request: api.UpdateArticleRequest<Caller>, reply: api.UpdateArticleReply): Promise<api.UpdateArticleResult> {
    const me = request.principal.id;
    const found = this.stores.articles.bySlug(request.params.slug, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    if (found.author_id !== me) {
      reply.code(403);
      return errorBody(NOT_ARTICLE_AUTHOR);
    }
    const slug = this.stores.articles.update(found, request.body.article);
    return { article: this.stores.articles.article(this.mustFind(slug, me)) };
  }

  async deleteArticle(request: api.DeleteArticleRequest<Caller>, reply: api.DeleteArticleReply): Promise<api.DeleteArticleResult> {
    const me = request.principal.id;
    const found = this.stores.articles.bySlug(request.params.slug, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    if (found.author_id !== me) {
      reply.code(403);
      return errorBody(NOT_ARTICLE_AUTHOR);
    }
    this.stores.articles.delete(found.id);
    reply.code(204);
    return undefined;
  }

  async getArticleComments(
    request: api.GetArticleCommentsRequest<Caller>,
    reply: api.GetArticleCommentsReply,
  ): Promise<api.GetArticleCommentsResult> {
    const viewer = this.viewerOf(request);
    const found = this.stores.articles.bySlug(request.params.slug, viewer);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    return { comments: this.stores.comments.list(found.id, viewer) };
  }

  async createArticleComment(
    request: api.CreateArticleCommentRequest<Caller>,
    reply: api.CreateArticleCommentReply,
  ): Promise<api.CreateArticleCommentResult> {
    const me = request.principal.id;
    const found = this.stores.articles.bySlug(request.params.slug, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    return { comment: this.stores.comments.create(found.id, me, request.body.comment.body) };
  }

  async deleteArticleComment(
    request: api.DeleteArticleCommentRequest<Caller>,
    reply: api.DeleteArticleCommentReply,
  ): Promise<api.DeleteArticleCommentResult> {
    const me = request.principal.id;
    const found = this.stores.articles.bySlug(request.params.slug, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    const author = this.stores.comments.authorOf(request.params.id, found.id);
    if (author === undefined) {
      reply.code(404);
      return errorBody(COMMENT_NOT_FOUND);
    }
    if (author !== me) {
      reply.code(403);
      return errorBody(NOT_COMMENT_AUTHOR);
    }
    this.stores.comments.delete(request.params.id);
    reply.code(204);
    return undefined;
  }

  async createArticleFavorite(
    request: api.CreateArticleFavoriteRequest<Caller>,
    reply: api.CreateArticleFavoriteReply,
  ): Promise<api.CreateArticleFavoriteResult> {
    const me = request.principal.id;
    const found = this.stores.articles.bySlug(request.params.slug, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    this.stores.articles.favorite(me, found.id);
    return { article: this.stores.articles.article(this.mustFind(found.slug, me)) };
  }

  async deleteArticleFavorite(
    request: api.DeleteArticleFavoriteRequest<Caller>,
    reply: api.DeleteArticleFavoriteReply,
  ): Promise<api.DeleteArticleFavoriteResult> {
    const me = request.principal.id;
    const found = this.stores.articles.bySlug(request.params.slug, me);
    if (found === undefined) {
      reply.code(404);
      return errorBody(ARTICLE_NOT_FOUND);
    }
    this.stores.articles.unfavorite(me, found.id);
    return { article: this.stores.articles.article(this.mustFind(found.slug, me)) };
  }

  async getTags(): Promise<api.GetTagsResult> {
    return { tags: this.stores.articles.tags() };
  }

  /** The article just written, read back as `viewer` sees it. */
  private mustFind(slug: string, viewer: number): ArticleRow {
    const row = this.stores.articles.bySlug(slug, viewer);
    if (row === undefined) throw new Error(`article ${slug} disappeared after it was written`);
    return row;
  }
}

/** The Token scheme: `Authorization: Token <jwt>` names an account that exists, or the request is 401. */
export class TokenAuth implements api.SecurityHandlers<Caller> {
  constructor(
    private readonly tokens: Tokens,
    private readonly users: Users,
  ) {}

  async token(credential: string): Promise<Caller> {
    const id = this.tokens.userId(credential);
    const row = id === null ? undefined : this.users.byId(id);
    if (row === undefined) throw invalidCredentials();
    return row;
  }
}
