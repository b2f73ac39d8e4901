"""The operations of RealWorld Conduit API: replace each `raise NotImplementedOperation()` with the real work.

`make generate` wrote this file once because it was missing; it is yours now and is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinapi_runtime import Context, NotImplementedOperation

from app.generated import models
from app.generated import operations as ops


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the security handlers established it."""

    credentials: str


class Service(ops.Operations[Caller]):
    async def login(self, ctx: Context, body: models.LoginBody) -> ops.LoginResponse:
        raise NotImplementedOperation()

    async def create_user(self, ctx: Context, body: models.CreateUserBody) -> ops.CreateUserResponse:
        raise NotImplementedOperation()

    async def get_current_user(self, ctx: Context, principal: Caller) -> ops.GetCurrentUserResponse:
        raise NotImplementedOperation()

    async def update_current_user(
        self, ctx: Context, principal: Caller, body: models.UpdateCurrentUserBody
    ) -> ops.UpdateCurrentUserResponse:
        raise NotImplementedOperation()

    async def get_profile_by_username(
        self, ctx: Context, principal: Caller | None, params: models.GetProfileByUsernameParams
    ) -> ops.GetProfileByUsernameResponse:
        raise NotImplementedOperation()

    async def follow_user_by_username(
        self,
        ctx: Context,
        principal: Caller,
        params: models.FollowUserByUsernameParams,
        body: models.FollowUserByUsernameBody | None,
    ) -> ops.FollowUserByUsernameResponse:
        raise NotImplementedOperation()

    async def unfollow_user_by_username(
        self, ctx: Context, principal: Caller, params: models.UnfollowUserByUsernameParams
    ) -> ops.UnfollowUserByUsernameResponse:
        raise NotImplementedOperation()

    async def get_articles_feed(
        self, ctx: Context, principal: Caller, params: models.GetArticlesFeedParams
    ) -> ops.GetArticlesFeedResponse:
        raise NotImplementedOperation()

    async def get_articles(
        self, ctx: Context, principal: Caller | None, params: models.GetArticlesParams
    ) -> ops.GetArticlesResponse:
        raise NotImplementedOperation()

    async def create_article(
        self, ctx: Context, principal: Caller, body: models.CreateArticleBody
    ) -> ops.CreateArticleResponse:
        raise NotImplementedOperation()

    async def get_article(
        self, ctx: Context, principal: Caller | None, params: models.GetArticleParams
    ) -> ops.GetArticleResponse:
        raise NotImplementedOperation()

    async def update_article(
        self, ctx: Context, principal: Caller, params: models.UpdateArticleParams, body: models.UpdateArticleBody
    ) -> ops.UpdateArticleResponse:
        raise NotImplementedOperation()

    async def delete_article(
        self, ctx: Context, principal: Caller, params: models.DeleteArticleParams
    ) -> ops.DeleteArticleResponse:
        raise NotImplementedOperation()

    async def get_article_comments(
        self, ctx: Context, principal: Caller | None, params: models.GetArticleCommentsParams
    ) -> ops.GetArticleCommentsResponse:
        raise NotImplementedOperation()

    async def create_article_comment(
        self,
        ctx: Context,
        principal: Caller,
        params: models.CreateArticleCommentParams,
        body: models.CreateArticleCommentBody,
    ) -> ops.CreateArticleCommentResponse:
        raise NotImplementedOperation()

    async def delete_article_comment(
        self, ctx: Context, principal: Caller, params: models.DeleteArticleCommentParams
    ) -> ops.DeleteArticleCommentResponse:
        raise NotImplementedOperation()

    async def create_article_favorite(
        self, ctx: Context, principal: Caller, params: models.CreateArticleFavoriteParams
    ) -> ops.CreateArticleFavoriteResponse:
        raise NotImplementedOperation()

    async def delete_article_favorite(
        self, ctx: Context, principal: Caller, params: models.DeleteArticleFavoriteParams
    ) -> ops.DeleteArticleFavoriteResponse:
        raise NotImplementedOperation()

    async def get_tags(self, ctx: Context) -> ops.GetTagsResponse:
        raise NotImplementedOperation()


class Security(ops.SecurityHandlers[Caller]):
    async def token(self, ctx: Context, credentials: str) -> Caller:
        raise NotImplementedOperation()
