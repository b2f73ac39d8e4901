"""Conduit's operations behind the generated interface, and its `Token` authentication.

The runtime has authenticated the caller and validated every parameter and body before a method here runs. Each
method runs its queries in one transaction (`Database.read` or `.write`) and answers one of the responses the
contract documents. Responses are built with `model_construct` from values that are valid by construction (rows
written through the contract, the validated input); the binding serialises them once.
"""

from __future__ import annotations

from typing import Any

from twinapi_runtime import AuthenticationFailed, Context

from app.core.db import Database, Queries
from app.core.security import BadToken, Passwords, Tokens
from app.generated import models
from app.generated import operations as ops
from app.store import articles, comments, follows, users
from app.store.articles import Article, Filters
from app.store.comments import Comment
from app.store.users import User

ARTICLE_NOT_FOUND = "article not found"
COMMENT_NOT_FOUND = "comment not found"
PROFILE_NOT_FOUND = "profile not found"
NOT_ARTICLE_AUTHOR = "only the author may change this article"
NOT_COMMENT_AUTHOR = "only the author may delete this comment"
CANNOT_FOLLOW_SELF = "you cannot follow yourself"


def _errors(*messages: str) -> models.GenericErrorModel:
    return models.GenericErrorModel.model_construct(errors=models.Errors.model_construct(body=list(messages)))


def _user(user: User, token: str) -> models.User:
    return models.User.model_construct(
        email=user.email, token=token, username=user.username, bio=user.bio, image=user.image
    )


def _profile(username: str, bio: str, image: str | None, following: bool) -> models.Profile:
    return models.Profile.model_construct(username=username, bio=bio, image=image, following=following)


def _author(author: articles.Author) -> models.Profile:
    return _profile(author.username, author.bio, author.image, author.following)


def _shown(article: Article) -> dict[str, Any]:
    """What an article and a list item both show, by field name."""
    return {
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "tag_list": article.tags,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "favorited": article.favorited,
        "favorites_count": article.favorites_count,
        "author": _author(article.author),
    }


def _article(article: Article) -> models.Article:
    return models.Article.model_construct(body=article.body, **_shown(article))


def _listed(article: Article) -> models.Article1:
    """A list item: the article without its body."""
    return models.Article1.model_construct(**_shown(article))


def _comment(comment: Comment) -> models.Comment:
    return models.Comment.model_construct(
        id=comment.id,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        body=comment.body,
        author=_author(comment.author),
    )


def _viewer(principal: User | None) -> int | None:
    return None if principal is None else principal.id


class Conduit(ops.Operations[User]):
    def __init__(self, db: Database, passwords: Passwords, tokens: Tokens) -> None:
        self._db = db
        self._passwords = passwords
        self._tokens = tokens

    # Users and authentication

    async def login(self, ctx: Context, body: models.LoginBody) -> ops.LoginResponse:
        found = await self._db.read(lambda q: users.credentials(q, body.user.email))
        # An unknown email still costs one bcrypt check, so timing does not tell which emails have accounts.
        valid = await self._passwords.check(body.user.password, None if found is None else found[1])
        if found is None or not valid:
            return ops.Login401()
        user = found[0]
        return ops.Login200(models.Login200Response.model_construct(user=_user(user, self._tokens.issue(user.id))))

    async def create_user(self, ctx: Context, body: models.CreateUserBody) -> ops.CreateUserResponse:
        new = body.user
        password_hash = await self._passwords.hash(new.password)  # before the transaction: it takes a while

        async def register(q: Queries) -> User | list[str]:
            return await users.taken(q, new.email, new.username) or await users.create(
                q, new.username, new.email, password_hash
            )

        registered = await self._db.write(register)
        if isinstance(registered, list):
            return ops.CreateUser422(_errors(*registered))
        token = self._tokens.issue(registered.id)
        return ops.CreateUser201(models.CreateUser201Response.model_construct(user=_user(registered, token)))

    async def get_current_user(self, ctx: Context, principal: User) -> ops.GetCurrentUserResponse:
        token = self._tokens.issue(principal.id)
        return ops.GetCurrentUser200(models.GetCurrentUser200Response.model_construct(user=_user(principal, token)))

    async def update_current_user(
        self, ctx: Context, principal: User, body: models.UpdateCurrentUserBody
    ) -> ops.UpdateCurrentUserResponse:
        sent = body.user
        changes: dict[str, str | None] = {
            name: getattr(sent, name) for name in ("username", "email", "bio", "image") if name in sent.model_fields_set
        }
        if sent.password is not None:
            changes["password_hash"] = await self._passwords.hash(sent.password)

        async def change(q: Queries) -> User | list[str] | None:
            return await users.taken(q, sent.email, sent.username, besides=principal.id) or await users.update(
                q, principal.id, changes
            )

        updated = await self._db.write(change)
        if isinstance(updated, list):
            return ops.UpdateCurrentUser422(_errors(*updated))
        if updated is None:  # the account went away after its token was checked
            raise AuthenticationFailed()
        token = self._tokens.issue(updated.id)
        return ops.UpdateCurrentUser200(models.UpdateCurrentUser200Response.model_construct(user=_user(updated, token)))

    # Profiles

    async def get_profile_by_username(
        self, ctx: Context, principal: User | None, params: models.GetProfileByUsernameParams
    ) -> ops.GetProfileByUsernameResponse:
        async def read(q: Queries) -> models.Profile | None:
            user = await users.by_username(q, params.username)
            if user is None:
                return None
            return _profile(
                user.username, user.bio, user.image, await follows.is_following(q, _viewer(principal), user.id)
            )

        profile = await self._db.read(read)
        if profile is None:
            return ops.GetProfileByUsername404(_errors(PROFILE_NOT_FOUND))
        return ops.GetProfileByUsername200(models.GetProfileByUsername200Response.model_construct(profile=profile))

    async def follow_user_by_username(
        self,
        ctx: Context,
        principal: User,
        params: models.FollowUserByUsernameParams,
        body: models.FollowUserByUsernameBody | None,
    ) -> ops.FollowUserByUsernameResponse:
        # The body (the suite sends the follower's user object) says nothing the path and the token do not.
        async def follow(q: Queries) -> User | str:
            user = await users.by_username(q, params.username)
            if user is None:
                return PROFILE_NOT_FOUND
            if user.id == principal.id:
                return CANNOT_FOLLOW_SELF
            await follows.follow(q, principal.id, user.id)
            return user

        followed = await self._db.write(follow)
        if followed == PROFILE_NOT_FOUND:
            return ops.FollowUserByUsername404(_errors(PROFILE_NOT_FOUND))
        if isinstance(followed, str):
            return ops.FollowUserByUsername422(_errors(followed))
        profile = _profile(followed.username, followed.bio, followed.image, True)
        return ops.FollowUserByUsername200(models.FollowUserByUsername200Response.model_construct(profile=profile))

    async def unfollow_user_by_username(
        self, ctx: Context, principal: User, params: models.UnfollowUserByUsernameParams
    ) -> ops.UnfollowUserByUsernameResponse:
        async def unfollow(q: Queries) -> User | None:
            user = await users.by_username(q, params.username)
            if user is not None:
                await follows.unfollow(q, principal.id, user.id)
            return user

        unfollowed = await self._db.write(unfollow)
        if unfollowed is None:
            return ops.UnfollowUserByUsername404(_errors(PROFILE_NOT_FOUND))
        profile = _profile(unfollowed.username, unfollowed.bio, unfollowed.image, False)
        return ops.UnfollowUserByUsername200(models.UnfollowUserByUsername200Response.model_construct(profile=profile))

    # Articles

    async def _page(
        self, filters: Filters, viewer: int | None, offset: int | None, limit: int
    ) -> tuple[list[models.Article1], int]:
        found, count = await self._db.read(lambda q: articles.page(q, filters, viewer, offset or 0, limit))
        return [_listed(article) for article in found], count

    async def get_articles_feed(
        self, ctx: Context, principal: User, params: models.GetArticlesFeedParams
    ) -> ops.GetArticlesFeedResponse:
        items, count = await self._page(Filters(feed_of=principal.id), principal.id, params.offset, params.limit)
        body = models.GetArticlesFeed200Response.model_construct(articles=items, articles_count=count)
        return ops.GetArticlesFeed200(body)

    async def get_articles(
        self, ctx: Context, principal: User | None, params: models.GetArticlesParams
    ) -> ops.GetArticlesResponse:
        filters = Filters(tag=params.tag, author=params.author, favorited_by=params.favorited)
        items, count = await self._page(filters, _viewer(principal), params.offset, params.limit)
        return ops.GetArticles200(models.GetArticles200Response.model_construct(articles=items, articles_count=count))

    async def create_article(
        self, ctx: Context, principal: User, body: models.CreateArticleBody
    ) -> ops.CreateArticleResponse:
        new = body.article

        async def create(q: Queries) -> Article | None:
            slug = await articles.create(q, principal.id, new.title, new.description, new.body, new.tag_list or [])
            return await articles.by_slug(q, slug, principal.id)

        created = await self._db.write(create)
        assert created is not None  # read back in the transaction that wrote it
        return ops.CreateArticle201(models.CreateArticle201Response.model_construct(article=_article(created)))

    async def get_article(
        self, ctx: Context, principal: User | None, params: models.GetArticleParams
    ) -> ops.GetArticleResponse:
        found = await self._db.read(lambda q: articles.by_slug(q, params.slug, _viewer(principal)))
        if found is None:
            return ops.GetArticle404(_errors(ARTICLE_NOT_FOUND))
        return ops.GetArticle200(models.GetArticle200Response.model_construct(article=_article(found)))

    async def update_article(
        self, ctx: Context, principal: User, params: models.UpdateArticleParams, body: models.UpdateArticleBody
    ) -> ops.UpdateArticleResponse:
        sent = body.article
        changes: dict[str, str] = {
            name: value
            for name in ("title", "description", "body")
            if name in sent.model_fields_set and (value := getattr(sent, name)) is not None
        }

        async def update(q: Queries) -> Article | str:
            article = await articles.by_slug(q, params.slug, principal.id)
            if article is None:
                return ARTICLE_NOT_FOUND
            if article.author_id != principal.id:
                return NOT_ARTICLE_AUTHOR
            slug = await articles.update(q, article, changes)
            updated = await articles.by_slug(q, slug, principal.id)
            assert updated is not None  # updated in this transaction
            return updated

        updated = await self._db.write(update)
        if updated == ARTICLE_NOT_FOUND:
            return ops.UpdateArticle404(_errors(ARTICLE_NOT_FOUND))
        if isinstance(updated, str):
            return ops.UpdateArticle403(_errors(updated))
        return ops.UpdateArticle200(models.UpdateArticle200Response.model_construct(article=_article(updated)))

    async def delete_article(
        self, ctx: Context, principal: User, params: models.DeleteArticleParams
    ) -> ops.DeleteArticleResponse:
        async def delete(q: Queries) -> str | None:
            article = await articles.by_slug(q, params.slug, principal.id)
            if article is None:
                return ARTICLE_NOT_FOUND
            if article.author_id != principal.id:
                return NOT_ARTICLE_AUTHOR
            await articles.delete(q, article.id)
            return None

        refused = await self._db.write(delete)
        if refused == ARTICLE_NOT_FOUND:
            return ops.DeleteArticle404(_errors(ARTICLE_NOT_FOUND))
        if refused is not None:
            return ops.DeleteArticle403(_errors(refused))
        return ops.DeleteArticle204()

    # Comments

    async def get_article_comments(
        self, ctx: Context, principal: User | None, params: models.GetArticleCommentsParams
    ) -> ops.GetArticleCommentsResponse:
        async def read(q: Queries) -> list[Comment] | None:
            article = await articles.by_slug(q, params.slug, None)
            return None if article is None else await comments.of_article(q, article.id, _viewer(principal))

        found = await self._db.read(read)
        if found is None:
            return ops.GetArticleComments404(_errors(ARTICLE_NOT_FOUND))
        body = models.GetArticleComments200Response.model_construct(comments=[_comment(c) for c in found])
        return ops.GetArticleComments200(body)

    async def create_article_comment(
        self,
        ctx: Context,
        principal: User,
        params: models.CreateArticleCommentParams,
        body: models.CreateArticleCommentBody,
    ) -> ops.CreateArticleCommentResponse:
        async def create(q: Queries) -> Comment | None:
            article = await articles.by_slug(q, params.slug, None)
            return None if article is None else await comments.create(q, article.id, principal.id, body.comment.body)

        created = await self._db.write(create)
        if created is None:
            return ops.CreateArticleComment404(_errors(ARTICLE_NOT_FOUND))
        body_out = models.CreateArticleComment200Response.model_construct(comment=_comment(created))
        return ops.CreateArticleComment200(body_out)

    async def delete_article_comment(
        self, ctx: Context, principal: User, params: models.DeleteArticleCommentParams
    ) -> ops.DeleteArticleCommentResponse:
        async def delete(q: Queries) -> str | None:
            article = await articles.by_slug(q, params.slug, None)
            if article is None:
                return ARTICLE_NOT_FOUND
            comment = await comments.find(q, article.id, params.id, None)
            if comment is None:
                return COMMENT_NOT_FOUND
            if comment.author_id != principal.id:
                return NOT_COMMENT_AUTHOR
            await comments.delete(q, comment.id)
            return None

        refused = await self._db.write(delete)
        if refused == NOT_COMMENT_AUTHOR:
            return ops.DeleteArticleComment403(_errors(refused))
        if refused is not None:
            return ops.DeleteArticleComment404(_errors(refused))
        return ops.DeleteArticleComment204()

    # Favourites

    async def _favourite(self, principal: User, slug: str, *, on: bool) -> Article | None:
        async def change(q: Queries) -> Article | None:
            article = await articles.by_slug(q, slug, principal.id)
            if article is None:
                return None
            await (articles.favorite if on else articles.unfavorite)(q, principal.id, article.id)
            return await articles.by_slug(q, slug, principal.id)

        return await self._db.write(change)

    async def create_article_favorite(
        self, ctx: Context, principal: User, params: models.CreateArticleFavoriteParams
    ) -> ops.CreateArticleFavoriteResponse:
        article = await self._favourite(principal, params.slug, on=True)
        if article is None:
            return ops.CreateArticleFavorite404(_errors(ARTICLE_NOT_FOUND))
        body = models.CreateArticleFavorite200Response.model_construct(article=_article(article))
        return ops.CreateArticleFavorite200(body)

    async def delete_article_favorite(
        self, ctx: Context, principal: User, params: models.DeleteArticleFavoriteParams
    ) -> ops.DeleteArticleFavoriteResponse:
        article = await self._favourite(principal, params.slug, on=False)
        if article is None:
            return ops.DeleteArticleFavorite404(_errors(ARTICLE_NOT_FOUND))
        body = models.DeleteArticleFavorite200Response.model_construct(article=_article(article))
        return ops.DeleteArticleFavorite200(body)

    # Tags

    async def get_tags(self, ctx: Context) -> ops.GetTagsResponse:
        tags = await self._db.read(articles.all_tags)
        return ops.GetTags200(models.GetTags200Response.model_construct(tags=tags))


class TokenAuth(ops.SecurityHandlers[User]):
    """`Authorization: Token <jwt>`: valid when the JWT is (CONVENTIONS.md, Tokens) and its user still exists."""

    def __init__(self, db: Database, tokens: Tokens) -> None:
        self._db = db
        self._tokens = tokens

    async def token(self, ctx: Context, credentials: str) -> User:
        try:
            user_id = self._tokens.user_id(credentials)
        except BadToken:
            raise AuthenticationFailed() from None
        user = await self._db.read(lambda q: users.by_id(q, user_id))
        if user is None:
            raise AuthenticationFailed()
        return user
