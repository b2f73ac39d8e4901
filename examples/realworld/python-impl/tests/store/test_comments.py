import sqlite3

from app.store import articles, comments, follows


def test_comments_are_listed_oldest_first_as_the_viewer_sees_their_authors(
    conn: sqlite3.Connection, alice: int, bob: int
) -> None:
    slug = articles.create(conn, alice, "Topic", "d", "b", [])
    article = articles.by_slug(conn, slug, None)
    assert article is not None
    first = comments.create(conn, article.id, bob, "first")
    second = comments.create(conn, article.id, alice, "second")
    assert first.created_at == first.updated_at
    follows.follow(conn, alice, bob)
    listed = comments.of_article(conn, article.id, alice)
    assert [(c.id, c.body, c.author.username, c.author.following) for c in listed] == [
        (first.id, "first", "bob", True),
        (second.id, "second", "alice", False),
    ]


def test_a_comment_is_found_only_on_its_own_article(conn: sqlite3.Connection, alice: int) -> None:
    one = articles.by_slug(conn, articles.create(conn, alice, "One", "d", "b", []), None)
    two = articles.by_slug(conn, articles.create(conn, alice, "Two", "d", "b", []), None)
    assert one is not None and two is not None
    comment = comments.create(conn, one.id, alice, "on one")
    assert comments.find(conn, one.id, comment.id, None) is not None
    assert comments.find(conn, two.id, comment.id, None) is None
    for impossible in (0, -1, 2**63, 10**30):
        assert comments.find(conn, one.id, impossible, None) is None
