"""Articles with their tags, favourites and authors, read as the caller sees them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from app.core.db import now
from app.store.slugs import free_slug

# JavaScript's largest safe integer: an offset or limit above it counts as it (CONVENTIONS.md, Lists).
LARGEST_PAGE = 2**53 - 1


@dataclass(frozen=True, slots=True)
class Author:
    username: str
    bio: str
    image: str | None
    following: bool


@dataclass(frozen=True, slots=True)
class Article:
    id: int
    author_id: int
    slug: str
    title: str
    description: str
    body: str | None  # None in lists, which carry no bodies
    tags: list[str]
    created_at: str
    updated_at: str
    favorited: bool
    favorites_count: int
    author: Author


@dataclass(frozen=True, slots=True)
class Filters:
    """What a list asks for; every filter given must hold (AND)."""

    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None
    feed_of: int | None = None  # the articles of the users this user follows

    def where(self) -> str:
        """The SQL condition: fixed texts only, the values travel as parameters."""
        conditions = []
        if self.tag is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM article_tags at JOIN tags t ON t.id = at.tag_id"
                " WHERE at.article_id = a.id AND t.name = :tag)"
            )
        if self.author is not None:
            conditions.append("u.username = :author")
        if self.favorited_by is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM favorites f JOIN users fu ON fu.id = f.user_id"
                " WHERE f.article_id = a.id AND fu.username = :favorited_by)"
            )
        if self.feed_of is not None:
            conditions.append("a.author_id IN (SELECT followed_id FROM follows WHERE follower_id = :feed_of)")
        return " WHERE " + " AND ".join(conditions) if conditions else ""

    def params(self) -> dict[str, object]:
        values = {"tag": self.tag, "author": self.author, "favorited_by": self.favorited_by, "feed_of": self.feed_of}
        return {name: value for name, value in values.items() if value is not None}


def _select(with_body: bool) -> str:
    return (
        "SELECT a.id, a.author_id, a.slug, a.title, a.description,"
        f" {'a.body' if with_body else 'NULL AS body'}, a.created_at, a.updated_at,"
        " u.username, u.bio, u.image,"
        " (SELECT count(*) FROM favorites f WHERE f.article_id = a.id) AS favorites_count,"
        " EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = :viewer) AS favorited,"
        " EXISTS (SELECT 1 FROM follows w WHERE w.follower_id = :viewer AND w.followed_id = a.author_id) AS following"
        " FROM articles a JOIN users u ON u.id = a.author_id"
    )


def _tags(conn: sqlite3.Connection, article_ids: list[int]) -> dict[int, list[str]]:
    """Each article's tags sorted by name (code points: SQLite's BINARY collation on UTF-8), as the official suite
    expects; the ids travel as one JSON parameter, however many."""
    rows = conn.execute(
        "SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id"
        " WHERE at.article_id IN (SELECT value FROM json_each(:ids)) ORDER BY at.article_id, t.name",
        {"ids": json.dumps(article_ids)},
    )
    tags: dict[int, list[str]] = {article_id: [] for article_id in article_ids}
    for row in rows:
        tags[row["article_id"]].append(row["name"])
    return tags


def _articles(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Article]:
    tags = _tags(conn, [row["id"] for row in rows])
    return [
        Article(
            id=row["id"],
            author_id=row["author_id"],
            slug=row["slug"],
            title=row["title"],
            description=row["description"],
            body=row["body"],
            tags=tags[row["id"]],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            favorited=bool(row["favorited"]),
            favorites_count=row["favorites_count"],
            author=Author(row["username"], row["bio"] or "", row["image"], bool(row["following"])),
        )
        for row in rows
    ]


def by_slug(conn: sqlite3.Connection, slug: str, viewer: int | None) -> Article | None:
    """The article with its body, as `viewer` (None: anonymous) sees it."""
    rows = conn.execute(f"{_select(with_body=True)} WHERE a.slug = :slug", {"slug": slug, "viewer": viewer})
    found = _articles(conn, rows.fetchall())
    return found[0] if found else None


def page(
    conn: sqlite3.Connection, filters: Filters, viewer: int | None, offset: int, limit: int
) -> tuple[list[Article], int]:
    """Newest first, without bodies, and how many articles match in all."""
    params = {
        **filters.params(),
        "viewer": viewer,
        "offset": min(offset, LARGEST_PAGE),
        "limit": min(limit, LARGEST_PAGE),
    }
    where = filters.where()
    rows = conn.execute(
        f"{_select(with_body=False)}{where} ORDER BY a.created_at DESC, a.id DESC LIMIT :limit OFFSET :offset", params
    ).fetchall()
    count = conn.execute(
        f"SELECT count(*) FROM articles a JOIN users u ON u.id = a.author_id{where}", filters.params()
    ).fetchone()[0]
    return _articles(conn, rows), count


def unique_tags(tags: list[str]) -> list[str]:
    """Each tag once, in the author's order (article_tags.position keeps it; reads sort by name)."""
    return list(dict.fromkeys(tags))


def create(conn: sqlite3.Connection, author_id: int, title: str, description: str, body: str, tags: list[str]) -> str:
    """Stores the article and links its tags (each tag stored once by name); returns its slug."""
    at = now()
    slug = free_slug(conn, title)
    article_id = conn.execute(
        "INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)"
        " VALUES (:slug, :title, :description, :body, :author, :at, :at) RETURNING id",
        {"slug": slug, "title": title, "description": description, "body": body, "author": author_id, "at": at},
    ).fetchone()[0]
    for position, name in enumerate(unique_tags(tags)):
        conn.execute("INSERT INTO tags (name) VALUES (:name) ON CONFLICT (name) DO NOTHING", {"name": name})
        conn.execute(
            "INSERT INTO article_tags (article_id, tag_id, position)"
            " SELECT :article, id, :position FROM tags WHERE name = :name",
            {"article": article_id, "position": position, "name": name},
        )
    return slug


# The fields PUT /articles/{slug} may change, and their columns: nothing else reaches the SQL text.
CHANGEABLE = {"title": "title", "description": "description", "body": "body"}


def update(conn: sqlite3.Connection, article: Article, changes: dict[str, str]) -> str:
    """Sets the given fields (keys of CHANGEABLE) and updatedAt; a new title gets a new slug. Returns the slug."""
    params: dict[str, object] = {"id": article.id, "at": now(), "slug": article.slug}
    assignments = ["updated_at = :at", "slug = :slug"]
    for name, value in changes.items():
        assignments.append(f"{CHANGEABLE[name]} = :{name}")
        params[name] = value
    if "title" in changes and changes["title"] != article.title:
        params["slug"] = free_slug(conn, changes["title"], article.id)
    conn.execute(f"UPDATE articles SET {', '.join(assignments)} WHERE id = :id", params)
    return str(params["slug"])


def delete(conn: sqlite3.Connection, article_id: int) -> None:
    """The article, and with it (ON DELETE CASCADE) its comments, favourites and tag links; its tags stay."""
    conn.execute("DELETE FROM articles WHERE id = :id", {"id": article_id})


def favorite(conn: sqlite3.Connection, user_id: int, article_id: int) -> None:
    """Idempotent: a second favourite changes nothing."""
    conn.execute(
        "INSERT INTO favorites (user_id, article_id) VALUES (:user, :article) ON CONFLICT DO NOTHING",
        {"user": user_id, "article": article_id},
    )


def unfavorite(conn: sqlite3.Connection, user_id: int, article_id: int) -> None:
    conn.execute(
        "DELETE FROM favorites WHERE user_id = :user AND article_id = :article",
        {"user": user_id, "article": article_id},
    )


def all_tags(conn: sqlite3.Connection) -> list[str]:
    """Every stored tag, sorted by name."""
    return [row["name"] for row in conn.execute("SELECT name FROM tags ORDER BY name")]
