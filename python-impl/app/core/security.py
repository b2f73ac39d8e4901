"""Passwords (bcrypt, off the event loop) and bearer tokens (JWT HS256), as CONVENTIONS.md defines them."""

import asyncio
import time
from collections import OrderedDict

import bcrypt
import jwt


def _password_bytes(password: str) -> bytes:
    # bcrypt only reads 72 bytes; bcrypt 5 raises above that, Node bindings truncate: both truncate first.
    return password.encode()[:72]


class Passwords:
    """Hashes and verifies in a worker thread (bcrypt releases the GIL), never on the event loop."""

    def __init__(self, rounds: int) -> None:
        self._rounds = rounds
        # Verified against for unknown emails, so that their login costs as much as a wrong password.
        self._dummy = bcrypt.hashpw(b"no account has this password", bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self._rounds)
        return (await asyncio.to_thread(bcrypt.hashpw, _password_bytes(password), salt)).decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Whether the password matches; with no hash (unknown account) it still spends one verify and is False."""
        target = self._dummy if hashed is None else hashed.encode()
        matches = await asyncio.to_thread(bcrypt.checkpw, _password_bytes(password), target)
        return matches and hashed is not None


class InvalidToken(Exception):
    """The token is malformed, not HS256, wrongly signed, expired or lacks a claim."""


VERIFIED_TOKENS = 4096  # how many verified tokens are remembered; the oldest is forgotten first


class Tokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        # token -> (sub, exp): a token that verified once stays valid until its exp, so clients sending the same
        # token on every request pay for the signature check (tens of µs in PyJWT) only once.
        self._verified: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def issue(self, subject: str) -> str:
        now = int(time.time())
        return jwt.encode(
            {"sub": subject, "iat": now, "exp": now + self.ttl_seconds},
            self._secret,
            "HS256",
        )

    def subject(self, token: str) -> str:
        """The `sub` of a valid token; InvalidToken otherwise."""
        known = self._verified.get(token)
        if known is not None:
            if known[1] > time.time():
                return known[0]
            del self._verified[token]
            raise InvalidToken("the token has expired")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],  # exactly: none and every other algorithm are refused
                leeway=0,
                # Only the claims the contract names are checked; iat's type is checked below instead
                # of PyJWT's "not in the future" rule, which the Node server does not have.
                options={
                    "require": ["exp", "iat", "sub"],
                    "verify_iat": False,
                    "verify_aud": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        sub, iat, exp = claims["sub"], claims["iat"], claims["exp"]
        # PyJWT accepts numeric strings for exp and floats for iat; the contract does not.
        if not isinstance(sub, str) or type(iat) is not int or type(exp) not in (int, float):
            raise InvalidToken("a claim has the wrong type")
        self._verified[token] = (sub, float(exp))
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return sub
