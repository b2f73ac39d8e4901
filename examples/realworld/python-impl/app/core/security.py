"""Passwords (bcrypt, hashed off the event loop) and tokens (JWT HS256), exactly as CONVENTIONS.md defines them."""

from __future__ import annotations

import asyncio
import re
import time

import bcrypt
import jwt

BCRYPT_MAX_BYTES = 72
SCHEME = "Token "  # the Authorization value is this word, one space and the JWT
_SUBJECT = re.compile(r"[1-9][0-9]*")
_LARGEST_ID = 2**63 - 1  # SQLite's INTEGER: no row has a larger id


def _secret_bytes(password: str) -> bytes:
    # bcrypt reads 72 bytes at most; the Python binding refuses more, Node's cuts silently. Both cut.
    return password.encode("utf-8")[:BCRYPT_MAX_BYTES]


class Passwords:
    """bcrypt `$2b$` at a fixed cost; each hash and check runs in a worker thread (bcrypt releases the GIL)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        # Checked against when no account has the email, so that such a login costs what a wrong password costs.
        self._nobody = bcrypt.hashpw(b"nobody has this password", bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        hashed = await asyncio.to_thread(bcrypt.hashpw, _secret_bytes(password), bcrypt.gensalt(self.rounds))
        return hashed.decode("ascii")

    async def check(self, password: str, hashed: str | None) -> bool:
        """Whether `password` matches `hashed`; None (no such account) spends as long and is never a match."""
        against = self._nobody if hashed is None else hashed.encode("ascii")
        matches = await asyncio.to_thread(bcrypt.checkpw, _secret_bytes(password), against)
        return matches and hashed is not None


class BadToken(Exception):
    """Not a token this server issued, or one that has expired."""


class Tokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = ttl_seconds

    def issue(self, user_id: int) -> str:
        issued = int(time.time())
        claims = {"sub": str(user_id), "iat": issued, "exp": issued + self._ttl}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def user_id(self, authorization: str) -> int:
        """The user id an `Authorization` value carries: `Token <jwt>`, the JWT valid now. BadToken otherwise."""
        if not authorization.startswith(SCHEME):
            raise BadToken("not the Token scheme")
        try:
            claims = jwt.decode(
                authorization.removeprefix(SCHEME),
                self._secret,
                algorithms=["HS256"],
                # Presence is PyJWT's to check; types and expiry are checked below, to the letter of the conventions
                # (PyJWT would take a numeric string as exp and refuse an iat a moment ahead of this clock).
                options={"require": ["sub", "iat", "exp"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise BadToken(str(exc)) from None
        subject, issued, expires = claims["sub"], claims["iat"], claims["exp"]
        if type(issued) is not int or type(expires) is not int:
            raise BadToken("iat and exp must be integers")
        if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject) or int(subject) > _LARGEST_ID:
            raise BadToken("sub must be a user id")
        if int(time.time()) >= expires:
            raise BadToken("the token has expired")
        return int(subject)
