"""Comments on articles, oldest first."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from app.core.db import now
from app.store.articles import Author

LARGEST_ID = 2**63 - 1  # SQLite's INTEGER: an id beyond it names no comment


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


def _comment(row: sqlite3.Row) -> Comment:
    author = Author(row["username"], row["bio"] or "", row["image"], bool(row["following"]))
    return Comment(row["id"], row["author_id"], row["body"], row["created_at"], row["updated_at"], author)


def of_article(conn: sqlite3.Connection, article_id: int, viewer: int | None) -> list[Comment]:
    rows = conn.execute(
        f"{_SELECT} WHERE c.article_id = :article ORDER BY c.id", {"article": article_id, "viewer": viewer}
    )
    return [_comment(row) for row in rows]


def find(conn: sqlite3.Connection, article_id: int, comment_id: int, viewer: int | None) -> Comment | None:
    """The comment with this id on this article; None for any other id, those SQLite cannot hold included."""
    if not 1 <= comment_id <= LARGEST_ID:
        return None
    row = conn.execute(
        f"{_SELECT} WHERE c.id = :id AND c.article_id = :article",
        {"id": comment_id, "article": article_id, "viewer": viewer},
    ).fetchone()
    return None if row is None else _comment(row)


def create(conn: sqlite3.Connection, article_id: int, author_id: int, body: str) -> Comment:
    comment_id = conn.execute(
        "INSERT INTO comments (article_id, author_id, body, created_at, updated_at)"
        " VALUES (:article, :author, :body, :at, :at) RETURNING id",
        {"article": article_id, "author": author_id, "body": body, "at": now()},
    ).fetchone()[0]
    found = find(conn, article_id, comment_id, author_id)
    assert found is not None  # written in this very transaction
    return found


def delete(conn: sqlite3.Connection, comment_id: int) -> None:
    conn.execute("DELETE FROM comments WHERE id = :id", {"id": comment_id})
