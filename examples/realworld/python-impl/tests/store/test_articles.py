import pytest

from app.core.db import Queries
from app.store import articles, comments, follows
from app.store.articles import LARGEST_PAGE, Filters

pytestmark = pytest.mark.anyio


async def _create(q: Queries, author: int, title: str, tags: list[str] | None = None) -> str:
    return await articles.create(q, author, title, f"about {title}", f"body of {title}", tags or [])


async def test_an_article_reads_back_as_written(q: Queries, alice: int) -> None:
    slug = await _create(q, alice, "First", ["b", "é", "a", "b", "Z", "c", "a"])
    article = await articles.by_slug(q, slug, None)
    assert article is not None
    assert (article.slug, article.title, article.description, article.body) == (
        "first",
        "First",
        "about First",
        "body of First",
    )
    assert article.tags == ["Z", "a", "b", "c", "é"]  # each once, by code point
    given = await q.rows("SELECT t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id ORDER BY at.position", {})
    assert [row["name"] for row in given] == ["b", "é", "a", "Z", "c"]  # the author's order is kept beside
    assert article.created_at == article.updated_at
    assert (article.favorited, article.favorites_count) == (False, 0)
    assert (article.author.username, article.author.bio, article.author.image, article.author.following) == (
        "alice",
        "",
        None,
        False,
    )
    assert await articles.by_slug(q, "nothing", None) is None


async def test_tags_are_stored_once_and_listed_by_name(q: Queries, alice: int) -> None:
    await _create(q, alice, "One", ["zeta", "alpha"])
    slug = await _create(q, alice, "Two", ["alpha", "beta"])
    article = await articles.by_slug(q, slug, None)
    assert article is not None
    await articles.delete(q, article.id)
    assert await articles.all_tags(q) == ["alpha", "beta", "zeta"]  # a tag no article uses stays


async def test_lists_are_newest_first_and_count_every_match(q: Queries, alice: int, bob: int) -> None:
    for n in range(5):
        await _create(q, alice if n % 2 == 0 else bob, f"Article {n}", ["even" if n % 2 == 0 else "odd"])
    page, count = await articles.page(q, Filters(), None, 1, 2)
    assert [a.title for a in page] == ["Article 3", "Article 2"]
    assert count == 5
    assert all(a.body is None for a in page)  # lists carry no bodies
    page, count = await articles.page(q, Filters(tag="even", author="alice"), None, 0, 20)
    assert ([a.title for a in page], count) == (["Article 4", "Article 2", "Article 0"], 3)
    assert await articles.page(q, Filters(author="carol"), None, 0, 20) == ([], 0)
    assert await articles.page(q, Filters(tag=""), None, 0, 20) == ([], 0)  # the empty name is a name
    assert await articles.page(q, Filters(), None, LARGEST_PAGE * 4, LARGEST_PAGE * 4) == ([], 5)
    assert len((await articles.page(q, Filters(), None, 0, 10**30))[0]) == 5


async def test_favourites_count_everyone_and_filter_by_username(q: Queries, alice: int, bob: int) -> None:
    slug = await _create(q, alice, "Liked")
    await _create(q, alice, "Ignored")
    article = await articles.by_slug(q, slug, None)
    assert article is not None
    for user in (alice, bob, bob):  # the second favourite of bob changes nothing
        await articles.favorite(q, user, article.id)
    seen_by_bob = await articles.by_slug(q, slug, bob)
    assert seen_by_bob is not None and (seen_by_bob.favorited, seen_by_bob.favorites_count) == (True, 2)
    page, count = await articles.page(q, Filters(favorited_by="bob"), None, 0, 20)
    assert ([a.slug for a in page], count) == ([slug], 1)
    await articles.unfavorite(q, bob, article.id)
    await articles.unfavorite(q, bob, article.id)
    seen_by_bob = await articles.by_slug(q, slug, bob)
    assert seen_by_bob is not None and (seen_by_bob.favorited, seen_by_bob.favorites_count) == (False, 1)


async def test_the_feed_holds_the_followed_authors_articles(q: Queries, alice: int, bob: int) -> None:
    await _create(q, alice, "By alice")
    await _create(q, bob, "By bob")
    assert await articles.page(q, Filters(feed_of=bob), bob, 0, 20) == ([], 0)
    await follows.follow(q, bob, alice)
    await follows.follow(q, bob, alice)
    page, count = await articles.page(q, Filters(feed_of=bob), bob, 0, 20)
    assert ([a.title for a in page], count) == (["By alice"], 1)
    assert page[0].author.following
    await follows.unfollow(q, bob, alice)
    assert await articles.page(q, Filters(feed_of=bob), bob, 0, 20) == ([], 0)


async def test_an_update_changes_the_slug_only_with_a_new_title(q: Queries, alice: int) -> None:
    await _create(q, alice, "Taken")
    slug = await _create(q, alice, "Mine")
    article = await articles.by_slug(q, slug, None)
    assert article is not None
    assert await articles.update(q, article, {"title": "Mine", "body": "new body"}) == "mine"
    assert await articles.update(q, article, {"title": "Taken"}) == "taken-2"
    updated = await articles.by_slug(q, "taken-2", None)
    assert updated is not None and (updated.title, updated.body) == ("Taken", "new body")
    assert updated.updated_at >= updated.created_at


async def test_deleting_an_article_removes_its_comments_favourites_and_tag_links(
    q: Queries, alice: int, bob: int
) -> None:
    slug = await _create(q, alice, "Doomed", ["t"])
    article = await articles.by_slug(q, slug, None)
    assert article is not None
    await comments.create(q, article.id, bob, "first!")
    await articles.favorite(q, bob, article.id)
    await articles.delete(q, article.id)
    for table in ("comments", "favorites", "article_tags", "articles"):
        assert await q.rows(f"SELECT 1 FROM {table}", {}) == []
