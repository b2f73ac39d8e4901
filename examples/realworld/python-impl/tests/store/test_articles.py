import sqlite3

from app.store import articles, comments, follows
from app.store.articles import LARGEST_PAGE, Filters


def _create(conn: sqlite3.Connection, author: int, title: str, tags: list[str] | None = None) -> str:
    return articles.create(conn, author, title, f"about {title}", f"body of {title}", tags or [])


def test_an_article_reads_back_as_written(conn: sqlite3.Connection, alice: int) -> None:
    slug = _create(conn, alice, "First", ["b", "é", "a", "b", "Z", "c", "a"])
    article = articles.by_slug(conn, slug, None)
    assert article is not None
    assert (article.slug, article.title, article.description, article.body) == (
        "first",
        "First",
        "about First",
        "body of First",
    )
    assert article.tags == ["Z", "a", "b", "c", "é"]  # each once, by code point
    positions = conn.execute("SELECT position FROM article_tags ORDER BY tag_id").fetchall()
    assert [row[0] for row in positions] == [0, 1, 2, 3, 4]  # the author's order is kept beside
    assert article.created_at == article.updated_at
    assert (article.favorited, article.favorites_count) == (False, 0)
    assert (article.author.username, article.author.bio, article.author.image, article.author.following) == (
        "alice",
        "",
        None,
        False,
    )
    assert articles.by_slug(conn, "nothing", None) is None


def test_tags_are_stored_once_and_listed_by_name(conn: sqlite3.Connection, alice: int) -> None:
    _create(conn, alice, "One", ["zeta", "alpha"])
    slug = _create(conn, alice, "Two", ["alpha", "beta"])
    article = articles.by_slug(conn, slug, None)
    assert article is not None
    articles.delete(conn, article.id)
    assert articles.all_tags(conn) == ["alpha", "beta", "zeta"]  # a tag no article uses stays


def test_lists_are_newest_first_and_count_every_match(conn: sqlite3.Connection, alice: int, bob: int) -> None:
    for n in range(5):
        _create(conn, alice if n % 2 == 0 else bob, f"Article {n}", ["even" if n % 2 == 0 else "odd"])
    page, count = articles.page(conn, Filters(), None, 1, 2)
    assert [a.title for a in page] == ["Article 3", "Article 2"]
    assert count == 5
    assert all(a.body is None for a in page)  # lists carry no bodies
    page, count = articles.page(conn, Filters(tag="even", author="alice"), None, 0, 20)
    assert ([a.title for a in page], count) == (["Article 4", "Article 2", "Article 0"], 3)
    assert articles.page(conn, Filters(author="carol"), None, 0, 20) == ([], 0)
    assert articles.page(conn, Filters(tag=""), None, 0, 20) == ([], 0)  # the empty name is a name
    assert articles.page(conn, Filters(), None, LARGEST_PAGE * 4, LARGEST_PAGE * 4) == ([], 5)
    assert len(articles.page(conn, Filters(), None, 0, 10**30)[0]) == 5


def test_favourites_count_everyone_and_filter_by_username(conn: sqlite3.Connection, alice: int, bob: int) -> None:
    slug = _create(conn, alice, "Liked")
    _create(conn, alice, "Ignored")
    article = articles.by_slug(conn, slug, None)
    assert article is not None
    for user in (alice, bob, bob):  # the second favourite of bob changes nothing
        articles.favorite(conn, user, article.id)
    seen_by_bob = articles.by_slug(conn, slug, bob)
    assert seen_by_bob is not None and (seen_by_bob.favorited, seen_by_bob.favorites_count) == (True, 2)
    page, count = articles.page(conn, Filters(favorited_by="bob"), None, 0, 20)
    assert ([a.slug for a in page], count) == ([slug], 1)
    articles.unfavorite(conn, bob, article.id)
    articles.unfavorite(conn, bob, article.id)
    seen_by_bob = articles.by_slug(conn, slug, bob)
    assert seen_by_bob is not None and (seen_by_bob.favorited, seen_by_bob.favorites_count) == (False, 1)


def test_the_feed_holds_the_followed_authors_articles(conn: sqlite3.Connection, alice: int, bob: int) -> None:
    _create(conn, alice, "By alice")
    _create(conn, bob, "By bob")
    assert articles.page(conn, Filters(feed_of=bob), bob, 0, 20) == ([], 0)
    follows.follow(conn, bob, alice)
    follows.follow(conn, bob, alice)
    page, count = articles.page(conn, Filters(feed_of=bob), bob, 0, 20)
    assert ([a.title for a in page], count) == (["By alice"], 1)
    assert page[0].author.following
    follows.unfollow(conn, bob, alice)
    assert articles.page(conn, Filters(feed_of=bob), bob, 0, 20) == ([], 0)


def test_an_update_changes_the_slug_only_with_a_new_title(conn: sqlite3.Connection, alice: int) -> None:
    _create(conn, alice, "Taken")
    slug = _create(conn, alice, "Mine")
    article = articles.by_slug(conn, slug, None)
    assert article is not None
    assert articles.update(conn, article, {"title": "Mine", "body": "new body"}) == "mine"
    assert articles.update(conn, article, {"title": "Taken"}) == "taken-2"
    updated = articles.by_slug(conn, "taken-2", None)
    assert updated is not None and (updated.title, updated.body) == ("Taken", "new body")
    assert updated.updated_at >= updated.created_at


def test_deleting_an_article_removes_its_comments_favourites_and_tag_links(
    conn: sqlite3.Connection, alice: int, bob: int
) -> None:
    slug = _create(conn, alice, "Doomed", ["t"])
    article = articles.by_slug(conn, slug, None)
    assert article is not None
    comments.create(conn, article.id, bob, "first!")
    articles.favorite(conn, bob, article.id)
    articles.delete(conn, article.id)
    for table in ("comments", "favorites", "article_tags", "articles"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
