"""Accounts: registration, login lookup and the token's subject."""

import uuid
from dataclasses import dataclass

from app.core.db import Database, utc_now

# Only A-Z are lowered: str.lower() would also fold non-ASCII letters, which the Node server does not.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def email_key(email: str) -> str:
    return email.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    display_name: str
    created_at: str


class Users:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, email: str, display_name: str, password_hash: str) -> Account | None:
        """The new account, or None when the email (ignoring ASCII case) is taken."""
        account = Account(str(uuid.uuid4()), email, display_name, utc_now())
        inserted = await self._db.execute(
            "INSERT INTO users (id, email, email_key, display_name, password_hash, created_at)"
            " VALUES (:id, :email, :email_key, :display_name, :password_hash, :created_at)"
            " ON CONFLICT (email_key) DO NOTHING",
            {
                "id": account.id,
                "email": email,
                "email_key": email_key(email),
                "display_name": display_name,
                "password_hash": password_hash,
                "created_at": account.created_at,
            },
        )
        return account if inserted else None

    async def credentials(self, email: str) -> tuple[Account, str] | None:
        """The account registered with this email (ignoring ASCII case) and its password hash."""
        row = await self._db.fetch_one(
            "SELECT id, email, display_name, created_at, password_hash FROM users WHERE email_key = :email_key",
            {"email_key": email_key(email)},
        )
        return None if row is None else (Account(*row[:4]), row[4])

    async def get(self, user_id: str) -> Account | None:
        row = await self._db.fetch_one(
            "SELECT id, email, display_name, created_at FROM users WHERE id = :id",
            {"id": user_id},
        )
        return None if row is None else Account(*row)
