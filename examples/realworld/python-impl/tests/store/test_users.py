import pytest

from app.core.db import Queries
from app.store import users
from app.store.users import EMAIL_TAKEN, USERNAME_TAKEN, email_key

pytestmark = pytest.mark.anyio


async def test_email_keys_fold_ascii_letters_only() -> None:
    assert email_key("Alice@Example.COM") == "alice@example.com"
    assert email_key("ÉLISE@example.com") == "Élise@example.com"  # É is not ASCII
    assert email_key("\u212a@example.com") == "\u212a@example.com"  # the Kelvin sign stays


async def test_a_new_account_has_an_empty_bio_and_no_image(q: Queries) -> None:
    user = await users.create(q, "carol", "Carol@Example.com", "$2b$04$hash")
    assert (user.username, user.email, user.bio, user.image) == ("carol", "Carol@Example.com", "", None)
    found = await users.credentials(q, "CAROL@example.com")
    assert found is not None and found == (user, "$2b$04$hash")


async def test_taken_reports_email_then_username(q: Queries, alice: int) -> None:
    assert await users.taken(q, "ALICE@example.com", "alice") == [EMAIL_TAKEN, USERNAME_TAKEN]
    assert await users.taken(q, "alice@example.org", "Alice") == []  # usernames are case-sensitive
    assert await users.taken(q, "alice@example.com", "alice", besides=alice) == []  # one's own are not taken
    assert await users.taken(q, None, None) == []


async def test_update_sets_only_what_it_is_given(q: Queries, alice: int) -> None:
    updated = await users.update(q, alice, {"bio": "I write", "image": "https://example.com/a.png"})
    assert updated is not None and (updated.bio, updated.image, updated.email) == (
        "I write",
        "https://example.com/a.png",
        "Alice@Example.com",
    )
    cleared = await users.update(q, alice, {"image": None, "email": "NEW@example.com"})
    assert cleared is not None and cleared.image is None and cleared.bio == "I write"
    assert await users.credentials(q, "new@EXAMPLE.com") is not None  # the key follows the email
    assert await users.update(q, 999, {"bio": "x"}) is None


async def test_a_null_bio_in_the_shared_table_reads_as_empty(q: Queries, alice: int) -> None:
    await q.run("UPDATE users SET bio = NULL WHERE id = :id", {"id": alice})
    user = await users.by_id(q, alice)
    assert user is not None and user.bio == ""
