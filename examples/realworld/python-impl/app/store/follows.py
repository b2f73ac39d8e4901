"""Who follows whom. Nobody follows themself, so `following` of one's own profile is false."""

from __future__ import annotations

import sqlite3


def is_following(conn: sqlite3.Connection, follower: int | None, followed: int) -> bool:
    """Whether `follower` (None: an anonymous caller) follows `followed`."""
    row = conn.execute(
        "SELECT 1 FROM follows WHERE follower_id = :follower AND followed_id = :followed",
        {"follower": follower, "followed": followed},
    ).fetchone()
    return row is not None


def follow(conn: sqlite3.Connection, follower: int, followed: int) -> None:
    """Idempotent: following again changes nothing."""
    conn.execute(
        "INSERT INTO follows (follower_id, followed_id) VALUES (:follower, :followed) ON CONFLICT DO NOTHING",
        {"follower": follower, "followed": followed},
    )


def unfollow(conn: sqlite3.Connection, follower: int, followed: int) -> None:
    conn.execute(
        "DELETE FROM follows WHERE follower_id = :follower AND followed_id = :followed",
        {"follower": follower, "followed": followed},
    )
