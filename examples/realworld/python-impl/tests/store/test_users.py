import sqlite3

from app.store import users
from app.store.users import EMAIL_TAKEN, USERNAME_TAKEN, email_key


def test_email_keys_fold_ascii_letters_only() -> None:
    assert email_key("Alice@Example.COM") == "alice@example.com"
    assert email_key("ÉLISE@example.com") == "Élise@example.com"  # É is not ASCII
    assert email_key("\u212a@example.com") == "\u212a@example.com"  # the Kelvin sign stays


def test_a_new_account_has_an_empty_bio_and_no_image(conn: sqlite3.Connection) -> None:
    user = users.create(conn, "carol", "Carol@Example.com", "$2b$04$hash")
    assert (user.username, user.email, user.bio, user.image) == ("carol", "Carol@Example.com", "", None)
    found = users.credentials(conn, "CAROL@example.com")
    assert found is not None and found == (user, "$2b$04$hash")


def test_taken_reports_email_then_username(conn: sqlite3.Connection, alice: int) -> None:
    assert users.taken(conn, "ALICE@example.com", "alice") == [EMAIL_TAKEN, USERNAME_TAKEN]
    assert users.taken(conn, "alice@example.org", "Alice") == []  # usernames are case-sensitive
    assert users.taken(conn, "alice@example.com", "alice", besides=alice) == []  # one's own are not taken
    assert users.taken(conn, None, None) == []


def test_update_sets_only_what_it_is_given(conn: sqlite3.Connection, alice: int) -> None:
    updated = users.update(conn, alice, {"bio": "I write", "image": "https://example.com/a.png"})
    assert updated is not None and (updated.bio, updated.image, updated.email) == (
        "I write",
        "https://example.com/a.png",
        "Alice@Example.com",
    )
    cleared = users.update(conn, alice, {"image": None, "email": "NEW@example.com"})
    assert cleared is not None and cleared.image is None and cleared.bio == "I write"
    assert users.credentials(conn, "new@EXAMPLE.com") is not None  # the key follows the email
    assert users.update(conn, 999, {"bio": "x"}) is None


def test_a_null_bio_in_the_shared_table_reads_as_empty(conn: sqlite3.Connection, alice: int) -> None:
    conn.execute("UPDATE users SET bio = NULL WHERE id = :id", {"id": alice})
    user = users.by_id(conn, alice)
    assert user is not None and user.bio == ""
