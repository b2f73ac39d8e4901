import pytest

from app.core.db import Queries
from app.store import articles, comments, follows

pytestmark = pytest.mark.anyio


async def test_comments_are_listed_oldest_first_as_the_viewer_sees_their_authors(
    q: Queries, alice: int, bob: int
) -> None:
    slug = await articles.create(q, alice, "Topic", "d", "b", [])
    article = await articles.by_slug(q, slug, None)
    assert article is not None
    first = await comments.create(q, article.id, bob, "first")
    second = await comments.create(q, article.id, alice, "second")
    assert first.created_at == first.updated_at
    await follows.follow(q, alice, bob)
    listed = await comments.of_article(q, article.id, alice)
    assert [(c.id, c.body, c.author.username, c.author.following) for c in listed] == [
        (first.id, "first", "bob", True),
        (second.id, "second", "alice", False),
    ]


async def test_a_comment_is_found_only_on_its_own_article(q: Queries, alice: int) -> None:
    one = await articles.by_slug(q, await articles.create(q, alice, "One", "d", "b", []), None)
    two = await articles.by_slug(q, await articles.create(q, alice, "Two", "d", "b", []), None)
    assert one is not None and two is not None
    comment = await comments.create(q, one.id, alice, "on one")
    assert await comments.find(q, one.id, comment.id, None) is not None
    assert await comments.find(q, two.id, comment.id, None) is None
    for impossible in (0, -1, 2**63, 10**30):
        assert await comments.find(q, one.id, impossible, None) is None
