"""Who follows whom. Nobody follows themself, so `following` of one's own profile is false."""

from __future__ import annotations

from app.core.db import Queries


async def is_following(q: Queries, follower: int | None, followed: int) -> bool:
    """Whether `follower` (None: an anonymous caller) follows `followed`."""
    row = await q.row(
        "SELECT 1 FROM follows WHERE follower_id = :follower AND followed_id = :followed",
        {"follower": follower, "followed": followed},
    )
    return row is not None


async def follow(q: Queries, follower: int, followed: int) -> None:
    """Idempotent: following again changes nothing."""
    await q.run(
        "INSERT INTO follows (follower_id, followed_id) VALUES (:follower, :followed) ON CONFLICT DO NOTHING",
        {"follower": follower, "followed": followed},
    )


async def unfollow(q: Queries, follower: int, followed: int) -> None:
    await q.run(
        "DELETE FROM follows WHERE follower_id = :follower AND followed_id = :followed",
        {"follower": follower, "followed": followed},
    )
