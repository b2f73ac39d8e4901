import pytest

from app.core.db import Database
from app.store.users import Account, Users, email_key

pytestmark = pytest.mark.anyio


def test_email_key_lowers_ascii_only() -> None:
    assert email_key("Ada.LOVELACE@Example.COM") == "ada.lovelace@example.com"
    assert email_key("ÀDA@X.IO") == "Àda@x.io"  # no unicode folding, as in the Node server


async def test_create_and_find(db: Database) -> None:
    users = Users(db)
    account = await users.create("Ada@Example.com", "Ada", "hash")
    assert isinstance(account, Account)
    assert (account.email, account.display_name) == ("Ada@Example.com", "Ada")
    assert account.id == account.id.lower() and len(account.id) == 36
    assert await users.get(account.id) == account
    assert await users.credentials("ADA@EXAMPLE.COM") == (account, "hash")
    assert await users.credentials("bob@example.com") is None
    assert await users.get("00000000-0000-4000-8000-000000000000") is None


async def test_an_email_is_taken_whatever_its_ascii_case(db: Database) -> None:
    users = Users(db)
    assert await users.create("ada@example.com", "Ada", "hash") is not None
    assert await users.create("ADA@example.com", "Other", "hash") is None
    assert await db.fetch_all("SELECT email FROM users", {}) == [("ada@example.com",)]
