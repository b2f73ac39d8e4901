"""The operations of Comments, written by hand as a user of the kit would: the comments live in memory.

Ids are numbered from 1 in the order comments are written, so both implementations, sent the same requests, answer
with the same ids. A missing comment is the spec's own error shape, `{"errors": {"body": [...]}}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinapi_runtime import Context

from app.generated import models
from app.generated import operations as ops

NO_COMMENT = "No comment with this id."


@dataclass(frozen=True)
class Caller:
    """Who is calling: Comments has no security scheme, so nobody in particular."""

    credentials: str


def _not_found() -> models.GenericErrorModel:
    return models.GenericErrorModel(errors=models.Errors(body=[NO_COMMENT]))


class Service(ops.Operations):
    def __init__(self) -> None:
        self._comments: dict[int, models.Comment] = {}
        self._last_id = 0

    async def list_comments(self, ctx: Context, params: models.ListCommentsParams) -> ops.ListCommentsResponse:
        newest = sorted(self._comments, reverse=True)[: params.limit]
        page = models.ListComments200Response(
            comments=[self._comments[key] for key in newest], comments_count=len(self._comments)
        )
        return ops.ListComments200(page)

    async def create_comment(self, ctx: Context, body: models.CreateCommentBody) -> ops.CreateCommentResponse:
        self._last_id += 1
        comment = models.Comment(id=self._last_id, body=body.comment.body)
        self._comments[comment.id] = comment
        return ops.CreateComment201(models.CreateComment201Response(comment=comment))

    async def get_comment(self, ctx: Context, params: models.GetCommentParams) -> ops.GetCommentResponse:
        comment = self._comments.get(params.id)
        if comment is None:
            return ops.GetComment404(_not_found())
        return ops.GetComment200(models.GetComment200Response(comment=comment))

    async def delete_comment(self, ctx: Context, params: models.DeleteCommentParams) -> ops.DeleteCommentResponse:
        if self._comments.pop(params.id, None) is None:
            return ops.DeleteComment404(_not_found())
        return ops.DeleteComment200()


class Security(ops.SecurityHandlers[Caller]):
    pass
