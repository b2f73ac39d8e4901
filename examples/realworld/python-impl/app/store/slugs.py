"""An article's slug: its title in URL form, made unique among the other articles."""

from __future__ import annotations

import re

from app.core.db import Queries
from app.store.text import ascii_lower

_OUTSIDE = re.compile(r"[^a-z0-9]+")
EMPTY = "article"  # the slug of a title with no ASCII letter or digit


def slugify(title: str) -> str:
    """ASCII-lowered, each run of anything but a-z and 0-9 one `-`, none at either end."""
    return _OUTSIDE.sub("-", ascii_lower(title)).strip("-") or EMPTY


async def free_slug(q: Queries, title: str, article_id: int | None = None) -> str:
    """The title's slug, or with the smallest suffix `-2`, `-3`, ... that no other article has."""
    base = slugify(title)
    prefix = base + "-"
    rows = await q.rows(
        "SELECT slug FROM articles WHERE (slug = :base OR substr(slug, 1, :length) = :prefix)"
        " AND (CAST(:id AS BIGINT) IS NULL OR id <> :id)",
        {"base": base, "prefix": prefix, "length": len(prefix), "id": article_id},
    )
    taken = {row["slug"] for row in rows}
    if base not in taken:
        return base
    suffix = 2
    while f"{prefix}{suffix}" in taken:  # ends: `taken` is finite
        suffix += 1
    return f"{prefix}{suffix}"
