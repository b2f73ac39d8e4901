import base64
import hashlib
import hmac
import json
import threading
import time

import bcrypt
import jwt
import pytest

from app.core.security import InvalidToken, Passwords, Tokens

pytestmark = pytest.mark.anyio
SECRET = "a-secret-for-tests-that-is-long-enough"


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forge(header: dict[str, object], claims: dict[str, object], secret: str = SECRET) -> str:
    """A token with any header, signed with HS256 whatever the header says."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "user-1", "iat": now, "exp": now + 60} | changes


async def test_hash_and_verify() -> None:
    passwords = Passwords(4)
    hashed = await passwords.hash("correct-horse-42")
    assert hashed.startswith("$2b$04$")
    assert await passwords.verify("correct-horse-42", hashed)
    assert not await passwords.verify("correct-horse-43", hashed)


async def test_only_the_first_72_bytes_count() -> None:
    passwords = Passwords(4)
    long = "é" * 40  # 80 bytes: bcrypt 5 alone would refuse it
    hashed = await passwords.hash(long)
    assert await passwords.verify("é" * 36 + "x", hashed)  # same first 72 bytes
    assert not await passwords.verify("é" * 35, hashed)
    assert bcrypt.checkpw(long.encode()[:72], hashed.encode())  # what the Node server checks


async def test_an_unknown_account_still_costs_one_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    passwords = Passwords(4)
    calls: list[tuple[bytes, str]] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append((hashed[:7], threading.current_thread().name))
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    assert not await passwords.verify("anything", None)
    assert [c[0] for c in calls] == [b"$2b$04$"]  # the dummy hash has the configured cost
    assert calls[0][1] != threading.current_thread().name  # not on the event loop's thread


def test_issue_and_read() -> None:
    tokens = Tokens(SECRET, 60)
    token = tokens.issue("user-1")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert list(payload) == ["sub", "iat", "exp"] and payload["exp"] - payload["iat"] == 60
    assert tokens.subject(token) == "user-1"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.", id="alg none"),
        pytest.param(jwt.encode(claims(), SECRET * 2, algorithm="HS512"), id="HS512"),
        pytest.param(forge({"alg": "hs256", "typ": "JWT"}, claims()), id="alg lowercase"),
        pytest.param(jwt.encode(claims(), SECRET + "x", algorithm="HS256"), id="wrong signature"),
        pytest.param(jwt.encode(claims(exp=int(time.time()) - 1), SECRET), id="expired"),
        pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "sub"}, SECRET), id="no sub"),
        pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "iat"}, SECRET), id="no iat"),
        pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET), id="no exp"),
        pytest.param(forge({"alg": "HS256"}, claims(sub=42)), id="sub not a string"),
        pytest.param(forge({"alg": "HS256"}, claims(iat=1.5)), id="iat not an integer"),
        pytest.param(forge({"alg": "HS256"}, claims(exp=str(int(time.time()) + 60))), id="exp a string"),
        pytest.param("not-a-token", id="malformed"),
        pytest.param("a.b.c", id="not base64 json"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        Tokens(SECRET, 60).subject(token)


def test_a_forged_hs256_token_with_the_right_secret_is_accepted() -> None:
    # The forgery helper itself is sound: only what the cases above change makes them fail.
    assert Tokens(SECRET, 60).subject(forge({"alg": "HS256", "typ": "JWT"}, claims())) == "user-1"
