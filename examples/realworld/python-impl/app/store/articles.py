"""Articles with their tags, favourites and authors, read as the caller sees them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.core.db import Queries, Row, now
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


# The ids of a page as one parameter, however many: a JSON array for SQLite, an array for PostgreSQL.
_AMONG_IDS = {
    "sqlite": "at.article_id IN (SELECT value FROM json_each(:ids))",
    "postgresql": "at.article_id = ANY(:ids)",
}


async def _tags(q: Queries, article_ids: list[int]) -> dict[int, list[str]]:
    """Each article's tags sorted by name in code-point order (SQLite's BINARY collation on UTF-8, PostgreSQL's
    "C" on tags.name), as the official suite expects."""
    ids: object = json.dumps(article_ids) if q.dialect == "sqlite" else article_ids
    rows = await q.rows(
        "SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id"
        f" WHERE {_AMONG_IDS[q.dialect]} ORDER BY at.article_id, t.name",
        {"ids": ids},
    )
    tags: dict[int, list[str]] = {article_id: [] for article_id in article_ids}
    for row in rows:
        tags[row["article_id"]].append(row["name"])
    return tags


async def _articles(q: Queries, rows: list[Row]) -> list[Article]:
    tags = await _tags(q, [row["id"] for row in rows])
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


async def by_slug(q: Queries, slug: str, viewer: int | None) -> Article | None:
    """The article with its body, as `viewer` (None: anonymous) sees it."""
    if "\x00" in slug:
        return None  # no slug holds NUL, and PostgreSQL could not even compare one that does
    rows = await q.rows(f"{_select(with_body=True)} WHERE a.slug = :slug", {"slug": slug, "viewer": viewer})
    found = await _articles(q, rows)
    return found[0] if found else None


async def page(q: Queries, filters: Filters, viewer: int | None, offset: int, limit: int) -> tuple[list[Article], int]:
    """Newest first, without bodies, and how many articles match in all."""
    params = {
        **filters.params(),
        "viewer": viewer,
        "offset": min(offset, LARGEST_PAGE),
        "limit": min(limit, LARGEST_PAGE),
    }
    where = filters.where()
    rows = await q.rows(
        f"{_select(with_body=False)}{where} ORDER BY a.created_at DESC, a.id DESC LIMIT :limit OFFSET :offset", params
    )
    counted = await q.row(
        f"SELECT count(*) AS n FROM articles a JOIN users u ON u.id = a.author_id{where}", filters.params()
    )
    assert counted is not None  # count(*) always gives one row
    return await _articles(q, rows), counted["n"]


def unique_tags(tags: list[str]) -> list[str]:
    """Each tag once, in the author's order (article_tags.position keeps it; reads sort by name)."""
    return list(dict.fromkeys(tags))


async def create(q: Queries, author_id: int, title: str, description: str, body: str, tags: list[str]) -> str:
    """Stores the article and links its tags (each tag stored once by name); returns its slug."""
    at = now()
    slug = await free_slug(q, title)
    created = await q.row(
        "INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)"
        " VALUES (:slug, :title, :description, :body, :author, :at, :at) RETURNING id",
        {"slug": slug, "title": title, "description": description, "body": body, "author": author_id, "at": at},
    )
    assert created is not None  # RETURNING gives the row inserted
    # Tags in name order: two concurrent writers on PostgreSQL then wait for each other's new tags in one order,
    # never in a cycle. position still keeps the author's order.
    for name, position in sorted((name, position) for position, name in enumerate(unique_tags(tags))):
        await q.run("INSERT INTO tags (name) VALUES (:name) ON CONFLICT (name) DO NOTHING", {"name": name})
        await q.run(
            "INSERT INTO article_tags (article_id, tag_id, position)"
            " SELECT :article, id, :position FROM tags WHERE name = :name",
            {"article": created["id"], "position": position, "name": name},
        )
    return slug


# The fields PUT /articles/{slug} may change, and their columns: nothing else reaches the SQL text.
CHANGEABLE = {"title": "title", "description": "description", "body": "body"}


async def update(q: Queries, article: Article, changes: dict[str, str]) -> str:
    """Sets the given fields (keys of CHANGEABLE) and updatedAt; a new title gets a new slug. Returns the slug."""
    params: dict[str, object] = {"id": article.id, "at": now(), "slug": article.slug}
    assignments = ["updated_at = :at", "slug = :slug"]
    for name, value in changes.items():
        assignments.append(f"{CHANGEABLE[name]} = :{name}")
        params[name] = value
    if "title" in changes and changes["title"] != article.title:
        params["slug"] = await free_slug(q, changes["title"], article.id)
    await q.run(f"UPDATE articles SET {', '.join(assignments)} WHERE id = :id", params)
    return str(params["slug"])


async def delete(q: Queries, article_id: int) -> None:
    """The article, and with it (ON DELETE CASCADE) its comments, favourites and tag links; its tags stay."""
    await q.run("DELETE FROM articles WHERE id = :id", {"id": article_id})


async def favorite(q: Queries, user_id: int, article_id: int) -> None:
    """Idempotent: a second favourite changes nothing."""
    await q.run(
        "INSERT INTO favorites (user_id, article_id) VALUES (:user, :article) ON CONFLICT DO NOTHING",
        {"user": user_id, "article": article_id},
    )


async def unfavorite(q: Queries, user_id: int, article_id: int) -> None:
    await q.run(
        "DELETE FROM favorites WHERE user_id = :user AND article_id = :article",
        {"user": user_id, "article": article_id},
    )


async def all_tags(q: Queries) -> list[str]:
    """Every stored tag, sorted by name."""
    return [row["name"] for row in await q.rows("SELECT name FROM tags ORDER BY name", {})]
