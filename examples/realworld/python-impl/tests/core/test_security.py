import time

import jwt
import pytest

from app.core.security import BadToken, Passwords, Tokens

SECRET = "a-secret-long-enough-for-hs256-and-for-hs512-which-wants-64-bytes!"


@pytest.mark.anyio
async def test_passwords_are_bcrypt_2b_of_their_first_72_bytes() -> None:
    passwords = Passwords(4)
    # 36 two-byte letters are 72 bytes: what follows them does not count.
    hashed = await passwords.hash("é" * 36 + "ignored")
    assert hashed.startswith("$2b$04$")
    assert await passwords.check("é" * 36 + "anything else", hashed)
    assert not await passwords.check("é" * 35, hashed)
    assert not await passwords.check("e" * 36, hashed)


@pytest.mark.anyio
async def test_no_account_is_never_a_match() -> None:
    passwords = Passwords(4)
    assert not await passwords.check("nobody has this password", None)


def _claims(**overrides: object) -> dict[str, object]:
    issued = int(time.time())
    claims: dict[str, object] = {"sub": "7", "iat": issued, "exp": issued + 60}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _header(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return "Token " + jwt.encode(claims, secret, algorithm=algorithm)


def test_an_issued_token_names_its_user() -> None:
    tokens = Tokens(SECRET, 60)
    token = tokens.issue(42)
    assert tokens.user_id(f"Token {token}") == 42
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "42" and claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(
    "header",
    [
        "Bearer " + jwt.encode(_claims(), SECRET, algorithm="HS256"),
        "token " + jwt.encode(_claims(), SECRET, algorithm="HS256"),
        "Token  " + jwt.encode(_claims(), SECRET, algorithm="HS256"),
        "Token" + jwt.encode(_claims(), SECRET, algorithm="HS256"),
        "Token ",
        "Token not.a.jwt",
        _header(_claims(), secret="another-secret-of-at-least-thirty-two"),
        _header(_claims(), algorithm="HS512"),
        "Token " + jwt.encode(_claims(), key="", algorithm="none"),
        _header(_claims(exp=int(time.time()))),  # exp is now: expired (valid while now < exp)
        _header(_claims(exp=int(time.time()) - 1)),
        _header(_claims(sub=None)),
        _header(_claims(iat=None)),
        _header(_claims(exp=None)),
        _header(_claims(sub="07")),
        _header(_claims(sub="-1")),
        _header(_claims(sub="1.0")),
        _header(_claims(sub=str(2**63))),
        _header(_claims(iat=float(int(time.time())))),
        _header(_claims(exp=float(int(time.time()) + 60))),
    ],
    ids=lambda header: header[:12],
)
def test_anything_but_a_valid_token_is_refused(header: str) -> None:
    with pytest.raises(BadToken):
        Tokens(SECRET, 60).user_id(header)


def test_an_iat_ahead_of_this_clock_is_accepted() -> None:
    # The Node server does not judge iat; neither does this one (clocks of two servers differ a little).
    assert Tokens(SECRET, 60).user_id(_header(_claims(iat=int(time.time()) + 30))) == 7
