"""Comments on articles, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.db import Queries, Row, now
from app.store.articles import Author

LARGEST_ID = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's BIGINT: an id beyond it names no comment


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author_id: int
    body: str
    created_at: str
    updated_at: str
    author: Author


_SELECT = (
    "SELECT c.id, c.author_id, c.body, c.created_at, c.updated_at, u.username, u.bio, u.image,"
    " EXISTS (SELECT 1 FROM follows w WHERE w.follower_id = :viewer AND w.followed_id = c.author_id) AS following"
    " FROM comments c JOIN users u ON u.id = c.author_id"
)


def _comment(row: Row) -> Comment:
    author = Author(row["username"], row["bio"] or "", row["image"], bool(row["following"]))
    return Comment(row["id"], row["author_id"], row["body"], row["created_at"], row["updated_at"], author)


async def of_article(q: Queries, article_id: int, viewer: int | None) -> list[Comment]:
    rows = await q.rows(
        f"{_SELECT} WHERE c.article_id = :article ORDER BY c.id", {"article": article_id, "viewer": viewer}
    )
    return [_comment(row) for row in rows]


async def find(q: Queries, article_id: int, comment_id: int, viewer: int | None) -> Comment | None:
    """The comment with this id on this article; None for any other id, those the column cannot hold included."""
    if not 1 <= comment_id <= LARGEST_ID:
        return None
    row = await q.row(
        f"{_SELECT} WHERE c.id = :id AND c.article_id = :article",
        {"id": comment_id, "article": article_id, "viewer": viewer},
    )
    return None if row is None else _comment(row)


async def create(q: Queries, article_id: int, author_id: int, body: str) -> Comment:
    created = await q.row(
        "INSERT INTO comments (article_id, author_id, body, created_at, updated_at)"
        " VALUES (:article, :author, :body, :at, :at) RETURNING id",
        {"article": article_id, "author": author_id, "body": body, "at": now()},
    )
    assert created is not None  # RETURNING gives the row inserted
    found = await find(q, article_id, created["id"], author_id)
    assert found is not None  # written in this very transaction
    return found


async def delete(q: Queries, comment_id: int) -> None:
    await q.run("DELETE FROM comments WHERE id = :id", {"id": comment_id})
