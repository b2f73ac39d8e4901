/**
 * The operations of RealWorld Conduit API: replace each `throw new NotImplementedOperation()` with the real work.
 *
 * `make generate` wrote this file once because it was missing; it is yours now and is never overwritten.
 */
import type { FastifyRequest } from "fastify";

import type * as api from "../generated/service.js";
import { NotImplementedOperation } from "fastify-twinapi";

/** Who is calling, as the security handlers established it. */
export interface Caller {
  readonly credential: string;
}

export class Service implements api.Service<Caller> {
  /** POST /users/login — Existing user login */
  async login(_request: api.LoginRequest, _reply: api.LoginReply): Promise<api.LoginResult> {
    throw new NotImplementedOperation();
  }

  /** POST /users — Register a new user */
  async createUser(_request: api.CreateUserRequest, _reply: api.CreateUserReply): Promise<api.CreateUserResult> {
    throw new NotImplementedOperation();
  }

  /** GET /user — Get current user */
  async getCurrentUser(_request: api.GetCurrentUserRequest<Caller>, _reply: api.GetCurrentUserReply): Promise<api.GetCurrentUserResult> {
    throw new NotImplementedOperation();
  }

  /** PUT /user — Update current user */
  async updateCurrentUser(
    _request: api.UpdateCurrentUserRequest<Caller>,
    _reply: api.UpdateCurrentUserReply,
  ): Promise<api.UpdateCurrentUserResult> {
    throw new NotImplementedOperation();
  }

  /** GET /profiles/{username} — Get a profile */
  async getProfileByUsername(
    _request: api.GetProfileByUsernameRequest<Caller>,
    _reply: api.GetProfileByUsernameReply,
  ): Promise<api.GetProfileByUsernameResult> {
    throw new NotImplementedOperation();
  }

  /** POST /profiles/{username}/follow — Follow a user */
  async followUserByUsername(
    _request: api.FollowUserByUsernameRequest<Caller>,
    _reply: api.FollowUserByUsernameReply,
  ): Promise<api.FollowUserByUsernameResult> {
    throw new NotImplementedOperation();
  }

  /** DELETE /profiles/{username}/follow — Unfollow a user */
  async unfollowUserByUsername(
    _request: api.UnfollowUserByUsernameRequest<Caller>,
    _reply: api.UnfollowUserByUsernameReply,
  ): Promise<api.UnfollowUserByUsernameResult> {
    throw new NotImplementedOperation();
  }

  /** GET /articles/feed — Get recent articles from users you follow */
  async getArticlesFeed(
    _request: api.GetArticlesFeedRequest<Caller>,
    _reply: api.GetArticlesFeedReply,
  ): Promise<api.GetArticlesFeedResult> {
    throw new NotImplementedOperation();
  }

  /** GET /articles — Get recent articles globally */
  async getArticles(_request: api.GetArticlesRequest<Caller>, _reply: api.GetArticlesReply): Promise<api.GetArticlesResult> {
    throw new NotImplementedOperation();
  }

  /** POST /articles — Create an article */
  async createArticle(_request: api.CreateArticleRequest<Caller>, _reply: api.CreateArticleReply): Promise<api.CreateArticleResult> {
    throw new NotImplementedOperation();
  }

  /** GET /articles/{slug} — Get an article */
  async getArticle(_request: api.GetArticleRequest<Caller>, _reply: api.GetArticleReply): Promise<api.GetArticleResult> {
    throw new NotImplementedOperation();
  }

  /** PUT /articles/{slug} — Update an article */
  async updateArticle(_request: api.UpdateArticleRequest<Caller>, _reply: api.UpdateArticleReply): Promise<api.UpdateArticleResult> {
    throw new NotImplementedOperation();
  }

  /** DELETE /articles/{slug} — Delete an article */
  async deleteArticle(_request: api.DeleteArticleRequest<Caller>, _reply: api.DeleteArticleReply): Promise<api.DeleteArticleResult> {
    throw new NotImplementedOperation();
  }

  /** GET /articles/{slug}/comments — Get comments for an article */
  async getArticleComments(
    _request: api.GetArticleCommentsRequest<Caller>,
    _reply: api.GetArticleCommentsReply,
  ): Promise<api.GetArticleCommentsResult> {
    throw new NotImplementedOperation();
  }

  /** POST /articles/{slug}/comments — Create a comment for an article */
  async createArticleComment(
    _request: api.CreateArticleCommentRequest<Caller>,
    _reply: api.CreateArticleCommentReply,
  ): Promise<api.CreateArticleCommentResult> {
    throw new NotImplementedOperation();
  }

  /** DELETE /articles/{slug}/comments/{id} — Delete a comment for an article */
  async deleteArticleComment(
    _request: api.DeleteArticleCommentRequest<Caller>,
    _reply: api.DeleteArticleCommentReply,
  ): Promise<api.DeleteArticleCommentResult> {
    throw new NotImplementedOperation();
  }

  /** POST /articles/{slug}/favorite — Favorite an article */
  async createArticleFavorite(
    _request: api.CreateArticleFavoriteRequest<Caller>,
    _reply: api.CreateArticleFavoriteReply,
  ): Promise<api.CreateArticleFavoriteResult> {
    throw new NotImplementedOperation();
  }

  /** DELETE /articles/{slug}/favorite — Unfavorite an article */
  async deleteArticleFavorite(
    _request: api.DeleteArticleFavoriteRequest<Caller>,
    _reply: api.DeleteArticleFavoriteReply,
  ): Promise<api.DeleteArticleFavoriteResult> {
    throw new NotImplementedOperation();
  }

  /** GET /tags — Get tags */
  async getTags(_request: api.GetTagsRequest, _reply: api.GetTagsReply): Promise<api.GetTagsResult> {
    throw new NotImplementedOperation();
  }
}

export class Security implements api.SecurityHandlers<Caller> {
  /** Token: resolve the credential to a Caller, or throw `invalidCredentials()` (fastify-twinapi). */
  async token(_credential: string, _request: FastifyRequest): Promise<Caller> {
    throw new NotImplementedOperation();
  }
}
