import pytest

from app.core.db import Queries
from app.store import articles
from app.store.slugs import free_slug, slugify

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("  Leading, trailing & CAPS!!  ", "leading-trailing-caps"),
        ("C++ in 2026", "c-in-2026"),
        ("Café crème", "caf-cr-me"),
        ("\u212a is the Kelvin sign", "is-the-kelvin-sign"),  # str.lower() would give "k-is-..."
        ("İstanbul", "stanbul"),  # str.lower() would give "i̇stanbul"
        ("emoji 🐉 dragon", "emoji-dragon"),
        ("", "article"),
        ("!!!", "article"),
        ("日本語", "article"),
        ("already-a-slug", "already-a-slug"),
        ("a--b", "a-b"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


async def _article(q: Queries, author: int, title: str) -> str:
    return await articles.create(q, author, title, "d", "b", [])


async def test_a_taken_slug_gets_the_smallest_free_suffix(q: Queries, alice: int) -> None:
    assert [await _article(q, alice, "Dragons") for _ in range(3)] == ["dragons", "dragons-2", "dragons-3"]
    await q.run("DELETE FROM articles WHERE slug = 'dragons-2'", {})
    assert await _article(q, alice, "dragons!") == "dragons-2"
    assert await _article(q, alice, "Dragons 2") == "dragons-2-2"  # its own slug is taken by a suffixed one


async def test_similar_slugs_are_not_suffixes(q: Queries, alice: int) -> None:
    await _article(q, alice, "dragons")
    await _article(q, alice, "dragons-lair")
    await _article(q, alice, "dragonslayer")
    assert await free_slug(q, "Dragons") == "dragons-2"
    assert await free_slug(q, "Dragons lair") == "dragons-lair-2"


async def test_an_article_does_not_compete_with_itself(q: Queries, alice: int) -> None:
    await _article(q, alice, "Dragons")
    article_id = (await q.rows("SELECT id FROM articles WHERE slug = 'dragons'", {}))[0]["id"]
    assert await free_slug(q, "DRAGONS", article_id) == "dragons"
