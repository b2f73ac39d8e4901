import sqlite3

import pytest

from app.store import articles
from app.store.slugs import free_slug, slugify


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


def _article(conn: sqlite3.Connection, author: int, title: str) -> str:
    return articles.create(conn, author, title, "d", "b", [])


def test_a_taken_slug_gets_the_smallest_free_suffix(conn: sqlite3.Connection, alice: int) -> None:
    assert [_article(conn, alice, "Dragons") for _ in range(3)] == ["dragons", "dragons-2", "dragons-3"]
    conn.execute("DELETE FROM articles WHERE slug = 'dragons-2'")
    assert _article(conn, alice, "dragons!") == "dragons-2"
    assert _article(conn, alice, "Dragons 2") == "dragons-2-2"  # its own slug is taken by a suffixed one


def test_similar_slugs_are_not_suffixes(conn: sqlite3.Connection, alice: int) -> None:
    _article(conn, alice, "dragons")
    _article(conn, alice, "dragons-lair")
    _article(conn, alice, "dragonslayer")
    assert free_slug(conn, "Dragons") == "dragons-2"
    assert free_slug(conn, "Dragons lair") == "dragons-lair-2"


def test_an_article_does_not_compete_with_itself(conn: sqlite3.Connection, alice: int) -> None:
    _article(conn, alice, "Dragons")
    article_id = conn.execute("SELECT id FROM articles WHERE slug = 'dragons'").fetchone()[0]
    assert free_slug(conn, "DRAGONS", article_id) == "dragons"
