"""Accounts: registration, lookup by email, name or id, and changes to one's own."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.db import Queries, Row, now
from app.store.text import ascii_lower

EMAIL_TAKEN = "email has already been taken"
USERNAME_TAKEN = "username has already been taken"
# What makes two emails the same account (the users.email_key column).
email_key = ascii_lower


@dataclass(frozen=True, slots=True)
class User:
    """An account as the API shows it; `bio` is "" until set, and a NULL in the shared table reads so too."""

    id: int
    username: str
    email: str
    bio: str
    image: str | None

    @classmethod
    def of(cls, row: Row) -> User:
        return cls(id=row["id"], username=row["username"], email=row["email"], bio=row["bio"] or "", image=row["image"])


_COLUMNS = "id, username, email, bio, image"


async def by_id(q: Queries, user_id: int) -> User | None:
    row = await q.row(f"SELECT {_COLUMNS} FROM users WHERE id = :id", {"id": user_id})
    return None if row is None else User.of(row)


async def by_username(q: Queries, username: str) -> User | None:
    if "\x00" in username:
        return None  # the contract refuses NUL in every username sent, and PostgreSQL could not compare one
    row = await q.row(f"SELECT {_COLUMNS} FROM users WHERE username = :username", {"username": username})
    return None if row is None else User.of(row)


async def credentials(q: Queries, email: str) -> tuple[User, str] | None:
    """The account registered with `email` (ASCII case ignored) and its password hash."""
    row = await q.row(f"SELECT {_COLUMNS}, password_hash FROM users WHERE email_key = :key", {"key": email_key(email)})
    return None if row is None else (User.of(row), row["password_hash"])


# Another account than :besides (None: any account).
_OTHER = "(CAST(:besides AS BIGINT) IS NULL OR id <> :besides)"


async def taken(q: Queries, email: str | None, username: str | None, besides: int | None = None) -> list[str]:
    """The messages for the email and username another account (any other than `besides`) already has."""
    problems = []
    if email is not None and await q.row(
        f"SELECT 1 FROM users WHERE email_key = :key AND {_OTHER}", {"key": email_key(email), "besides": besides}
    ):
        problems.append(EMAIL_TAKEN)
    if username is not None and await q.row(
        f"SELECT 1 FROM users WHERE username = :username AND {_OTHER}", {"username": username, "besides": besides}
    ):
        problems.append(USERNAME_TAKEN)
    return problems


async def create(q: Queries, username: str, email: str, password_hash: str) -> User:
    """A new account; the caller has checked `taken` in the same transaction."""
    at = now()
    row = await q.row(
        "INSERT INTO users (username, email, email_key, password_hash, bio, image, created_at, updated_at)"
        " VALUES (:username, :email, :key, :hash, '', NULL, :at, :at)"
        f" RETURNING {_COLUMNS}",
        {"username": username, "email": email, "key": email_key(email), "hash": password_hash, "at": at},
    )
    assert row is not None  # RETURNING gives the row inserted
    return User.of(row)


# The fields PUT /user may change, and their columns: nothing else reaches the SQL text.
CHANGEABLE = {
    "username": "username",
    "email": "email",
    "bio": "bio",
    "image": "image",
    "password_hash": "password_hash",
}


async def update(q: Queries, user_id: int, changes: dict[str, str | None]) -> User | None:
    """Sets the given fields (keys of CHANGEABLE); None when the account no longer exists."""
    params: dict[str, object] = {"id": user_id, "at": now()}
    assignments = ["updated_at = :at"]
    for field, value in changes.items():
        assignments.append(f"{CHANGEABLE[field]} = :{field}")
        params[field] = value
    if "email" in changes:
        assignments.append("email_key = :email_key")
        params["email_key"] = email_key(str(changes["email"]))
    row = await q.row(f"UPDATE users SET {', '.join(assignments)} WHERE id = :id RETURNING {_COLUMNS}", params)
    return None if row is None else User.of(row)
