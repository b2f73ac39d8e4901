"""Every operation through the real application, in-process: what CONVENTIONS.md says each answers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.core.db import Database
from tests.conftest import Register
from tests.helpers import auth

pytestmark = pytest.mark.anyio
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _error(response: httpx.Response, status: int, *messages: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"errors": {"body": list(messages)}}


async def _article(client: httpx.AsyncClient, user: dict[str, Any], title: str, **fields: Any) -> dict[str, Any]:
    article = {"title": title, "description": f"about {title}", "body": f"body of {title}", **fields}
    response = await client.post("/articles", json={"article": article}, headers=auth(user))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["article"]
    return created


# Users and authentication


async def test_register_answers_the_user_with_a_token(client: httpx.AsyncClient) -> None:
    user = {"username": "alice", "email": "Alice@Example.com", "password": "alice-password"}
    response = await client.post("/users", json={"user": user})
    assert response.status_code == 201
    body = response.json()["user"]
    assert {key: body[key] for key in ("username", "email", "bio", "image")} == {
        "username": "alice",
        "email": "Alice@Example.com",
        "bio": "",
        "image": None,
    }
    assert (await client.get("/user", headers=auth(body))).status_code == 200


async def test_register_reports_every_name_taken(client: httpx.AsyncClient, register: Register) -> None:
    await register("alice")
    taken = {"username": "alice", "email": "ALICE@example.com", "password": "x"}
    _error(
        await client.post("/users", json={"user": taken}),
        422,
        "email has already been taken",
        "username has already been taken",
    )
    only_name = {"username": "alice", "email": "other@example.com", "password": "x"}
    _error(await client.post("/users", json={"user": only_name}), 422, "username has already been taken")
    other_case = {"username": "Alice", "email": "other@example.com", "password": "x"}
    assert (await client.post("/users", json={"user": other_case})).status_code == 201


async def test_an_invalid_body_is_the_kits_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/users", json={"user": {"username": "x", "email": "x@example.com"}})
    assert response.status_code == 422
    assert response.json()["errors"]["body"]  # the validator's own words, located


async def test_login_by_email_in_any_ascii_case(client: httpx.AsyncClient, register: Register) -> None:
    await register("alice")
    response = await client.post(
        "/users/login", json={"user": {"email": "ALICE@example.com", "password": "alice-password"}}
    )
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "alice@example.com", "password": "wrong"},
        {"email": "nobody@example.com", "password": "alice-password"},
    ],
)
async def test_a_failed_login_is_401_without_a_body(
    client: httpx.AsyncClient, register: Register, credentials: dict[str, str]
) -> None:
    await register("alice")
    response = await client.post("/users/login", json={"user": credentials})
    assert (response.status_code, response.content) == (401, b"")


async def test_the_current_user_gets_a_fresh_token(client: httpx.AsyncClient, register: Register) -> None:
    alice = await register("alice")
    response = await client.get("/user", headers=auth(alice))
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "alice@example.com"
    assert (await client.get("/user", headers=auth(response.json()["user"]))).status_code == 200


async def test_update_sets_only_what_is_sent(client: httpx.AsyncClient, register: Register) -> None:
    alice = await register("alice")
    changes = {"bio": "I write", "image": "https://example.com/a.png", "password": "new-password"}
    response = await client.put("/user", json={"user": changes}, headers=auth(alice))
    assert response.status_code == 200
    user = response.json()["user"]
    assert (user["bio"], user["image"], user["username"]) == ("I write", "https://example.com/a.png", "alice")
    login = {"email": "alice@example.com", "password": "new-password"}
    assert (await client.post("/users/login", json={"user": login})).status_code == 200
    response = await client.put("/user", json={"user": {"image": None}}, headers=auth(alice))
    assert (response.json()["user"]["image"], response.json()["user"]["bio"]) == (None, "I write")
    response = await client.put("/user", json={"user": {}}, headers=auth(alice))
    assert response.json()["user"]["bio"] == "I write"


async def test_update_refuses_names_another_user_has(client: httpx.AsyncClient, register: Register) -> None:
    alice, _ = await register("alice"), await register("bob")
    taken = {"email": "BOB@example.com", "username": "bob"}
    response = await client.put("/user", json={"user": taken}, headers=auth(alice))
    _error(response, 422, "email has already been taken", "username has already been taken")
    own = {"email": "alice@example.com", "username": "alice"}
    assert (await client.put("/user", json={"user": own}, headers=auth(alice))).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Token nonsense", "Bearer {token}", "token {token}", "Token  {token}", "{token}", "Token {token}x"],
)
async def test_bad_credentials_are_401_even_where_they_are_optional(
    client: httpx.AsyncClient, register: Register, header: str
) -> None:
    alice = await register("alice")
    headers = {"Authorization": header.format(token=alice["token"])}
    for path in ("/user", "/articles", "/profiles/alice", "/articles/feed"):
        response = await client.get(path, headers=headers)
        assert (response.status_code, response.content) == (401, b""), path


async def test_a_token_outlives_no_account(client: httpx.AsyncClient, register: Register, db: Database) -> None:
    alice = await register("alice")
    await db.write(lambda q: q.run("DELETE FROM users", {}))
    assert (await client.get("/user", headers=auth(alice))).status_code == 401


# Profiles


async def test_profiles_say_whether_the_caller_follows(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob = await register("alice"), await register("bob")
    expected = {"username": "bob", "bio": "", "image": None, "following": False}
    assert (await client.get("/profiles/bob")).json() == {"profile": expected}
    response = await client.post("/profiles/bob/follow", json={"user": {"email": alice["email"]}}, headers=auth(alice))
    assert response.json() == {"profile": {**expected, "following": True}}
    again = await client.post("/profiles/bob/follow", headers=auth(alice))  # no body at all: also fine
    assert again.json()["profile"]["following"] is True
    assert (await client.get("/profiles/bob", headers=auth(alice))).json()["profile"]["following"] is True
    assert (await client.get("/profiles/bob", headers=auth(bob))).json()["profile"]["following"] is False
    assert (await client.get("/profiles/bob")).json()["profile"]["following"] is False
    for _ in range(2):
        response = await client.delete("/profiles/bob/follow", headers=auth(alice))
        assert response.json() == {"profile": expected}


async def test_following_oneself_is_422_unfollowing_is_harmless(client: httpx.AsyncClient, register: Register) -> None:
    alice = await register("alice")
    _error(await client.post("/profiles/alice/follow", headers=auth(alice)), 422, "you cannot follow yourself")
    assert (await client.delete("/profiles/alice/follow", headers=auth(alice))).json()["profile"]["following"] is False


async def test_unknown_profiles_are_404(client: httpx.AsyncClient, register: Register) -> None:
    alice = await register("alice")
    _error(await client.get("/profiles/nobody"), 404, "profile not found")
    _error(await client.post("/profiles/nobody/follow", headers=auth(alice)), 404, "profile not found")
    _error(await client.delete("/profiles/nobody/follow", headers=auth(alice)), 404, "profile not found")


# Articles


async def test_create_and_read_an_article(client: httpx.AsyncClient, register: Register) -> None:
    alice = await register("alice")
    created = await _article(client, alice, "How to Train Your Dragon", tagList=["training", "dragons", "training"])
    assert created["slug"] == "how-to-train-your-dragon"
    assert created["tagList"] == ["dragons", "training"]
    assert TIMESTAMP.fullmatch(created["createdAt"]) and created["createdAt"] == created["updatedAt"]
    assert (created["favorited"], created["favoritesCount"]) == (False, 0)
    assert created["author"] == {"username": "alice", "bio": "", "image": None, "following": False}
    response = await client.get("/articles/how-to-train-your-dragon")
    assert response.json() == {"article": created}
    assert (await _article(client, alice, "How to train your dragon"))["slug"] == "how-to-train-your-dragon-2"
    assert (await _article(client, alice, "No tags"))["tagList"] == []
    _error(await client.get("/articles/nothing-here"), 404, "article not found")


async def test_lists_filter_page_and_leave_out_bodies(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob = await register("alice"), await register("bob")
    for n in range(3):
        await _article(client, alice, f"Alice {n}", tagList=["alice"])
    await _article(client, bob, "Bob 0", tagList=["bob"])
    body = (await client.get("/articles", params={"limit": 2, "offset": 1})).json()
    assert [a["title"] for a in body["articles"]] == ["Alice 2", "Alice 1"]
    assert body["articlesCount"] == 4
    assert all("body" not in a for a in body["articles"])
    body = (await client.get("/articles", params={"tag": "alice", "author": "alice"})).json()
    assert (len(body["articles"]), body["articlesCount"]) == (3, 3)
    for query in ({"author": "nobody"}, {"tag": "nobody"}, {"favorited": "nobody"}, {"tag": ""}):
        assert (await client.get("/articles", params=query)).json() == {"articles": [], "articlesCount": 0}
    huge = {"limit": str(10**30), "offset": "0"}
    assert (await client.get("/articles", params=huge)).json()["articlesCount"] == 4
    refused = await client.get("/articles", params={"limit": "0"})
    assert refused.status_code == 422
    assert [message.split(":")[0] for message in refused.json()["errors"]["body"]] == ["query/limit"]


async def test_the_feed_holds_followed_authors_only(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob, carol = await register("alice"), await register("bob"), await register("carol")
    await _article(client, bob, "By bob")
    await _article(client, carol, "By carol")
    assert (await client.get("/articles/feed", headers=auth(alice))).json() == {"articles": [], "articlesCount": 0}
    await client.post("/profiles/bob/follow", headers=auth(alice))
    feed = (await client.get("/articles/feed", headers=auth(alice))).json()
    assert [a["title"] for a in feed["articles"]] == ["By bob"] and feed["articlesCount"] == 1
    assert feed["articles"][0]["author"]["following"] is True
    assert (await client.get("/articles/feed")).status_code == 401


async def test_only_the_author_changes_an_article(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob = await register("alice"), await register("bob")
    created = await _article(client, alice, "Original", tagList=["kept"])
    change = {"article": {"title": "Renamed", "tagList": ["ignored"]}}
    _error(
        await client.put("/articles/original", json=change, headers=auth(bob)),
        403,
        "only the author may change this article",
    )
    _error(await client.put("/articles/nothing", json=change, headers=auth(bob)), 404, "article not found")
    response = await client.put("/articles/original", json=change, headers=auth(alice))
    assert response.status_code == 200
    updated = response.json()["article"]
    assert (updated["slug"], updated["title"], updated["body"], updated["tagList"]) == (
        "renamed",
        "Renamed",
        created["body"],
        ["kept"],
    )
    assert updated["createdAt"] == created["createdAt"] and updated["updatedAt"] >= created["updatedAt"]
    _error(await client.get("/articles/original"), 404, "article not found")
    same = await client.put("/articles/renamed", json={"article": {"body": "new"}}, headers=auth(alice))
    assert (same.json()["article"]["slug"], same.json()["article"]["body"]) == ("renamed", "new")


async def test_only_the_author_deletes_an_article(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob = await register("alice"), await register("bob")
    await _article(client, alice, "Doomed")
    await client.post("/articles/doomed/comments", json={"comment": {"body": "hi"}}, headers=auth(bob))
    await client.post("/articles/doomed/favorite", headers=auth(bob))
    _error(await client.delete("/articles/doomed", headers=auth(bob)), 403, "only the author may change this article")
    _error(await client.delete("/articles/nothing", headers=auth(bob)), 404, "article not found")
    response = await client.delete("/articles/doomed", headers=auth(alice))
    assert (response.status_code, response.content) == (204, b"")
    _error(await client.get("/articles/doomed/comments"), 404, "article not found")
    assert (await client.get("/articles", params={"favorited": "bob"})).json()["articlesCount"] == 0


# Favourites


async def test_favourites_are_idempotent_and_counted_for_everyone(
    client: httpx.AsyncClient, register: Register
) -> None:
    alice, bob = await register("alice"), await register("bob")
    await _article(client, alice, "Liked")
    for user, count in ((alice, 1), (bob, 2), (bob, 2)):
        response = await client.post("/articles/liked/favorite", headers=auth(user))
        assert response.status_code == 200
        assert (response.json()["article"]["favorited"], response.json()["article"]["favoritesCount"]) == (True, count)
    anonymous = (await client.get("/articles/liked")).json()["article"]
    assert (anonymous["favorited"], anonymous["favoritesCount"]) == (False, 2)
    listed = (await client.get("/articles", params={"favorited": "bob"}, headers=auth(alice))).json()
    assert [(a["slug"], a["favorited"]) for a in listed["articles"]] == [("liked", True)]
    for _ in range(2):
        response = await client.delete("/articles/liked/favorite", headers=auth(bob))
        assert (response.json()["article"]["favorited"], response.json()["article"]["favoritesCount"]) == (False, 1)
    _error(await client.post("/articles/nothing/favorite", headers=auth(bob)), 404, "article not found")
    _error(await client.delete("/articles/nothing/favorite", headers=auth(bob)), 404, "article not found")


# Comments


async def test_comments_oldest_first(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob = await register("alice"), await register("bob")
    await _article(client, alice, "Topic")
    first = await client.post("/articles/topic/comments", json={"comment": {"body": "first"}}, headers=auth(bob))
    assert first.status_code == 200
    comment = first.json()["comment"]
    assert comment["body"] == "first" and isinstance(comment["id"], int)
    assert TIMESTAMP.fullmatch(comment["createdAt"]) and comment["createdAt"] == comment["updatedAt"]
    assert comment["author"] == {"username": "bob", "bio": "", "image": None, "following": False}
    await client.post("/articles/topic/comments", json={"comment": {"body": "second"}}, headers=auth(alice))
    listed = (await client.get("/articles/topic/comments")).json()["comments"]
    assert [c["body"] for c in listed] == ["first", "second"]
    await client.post("/profiles/bob/follow", headers=auth(alice))
    seen = (await client.get("/articles/topic/comments", headers=auth(alice))).json()["comments"]
    assert [c["author"]["following"] for c in seen] == [True, False]
    _error(await client.get("/articles/nothing/comments"), 404, "article not found")
    response = await client.post("/articles/nothing/comments", json={"comment": {"body": "x"}}, headers=auth(bob))
    _error(response, 404, "article not found")


async def test_only_its_author_deletes_a_comment(client: httpx.AsyncClient, register: Register) -> None:
    alice, bob = await register("alice"), await register("bob")
    await _article(client, alice, "Topic")
    await _article(client, alice, "Elsewhere")
    comment = (
        await client.post("/articles/topic/comments", json={"comment": {"body": "mine"}}, headers=auth(bob))
    ).json()["comment"]
    path = f"/articles/topic/comments/{comment['id']}"
    _error(await client.delete(path, headers=auth(alice)), 403, "only the author may delete this comment")
    _error(
        await client.delete(f"/articles/elsewhere/comments/{comment['id']}", headers=auth(bob)),
        404,
        "comment not found",
    )
    _error(
        await client.delete(f"/articles/nothing/comments/{comment['id']}", headers=auth(bob)), 404, "article not found"
    )
    _error(await client.delete(f"/articles/topic/comments/{10**30}", headers=auth(bob)), 404, "comment not found")
    response = await client.delete(path, headers=auth(bob))
    assert (response.status_code, response.content) == (204, b"")
    _error(await client.delete(path, headers=auth(bob)), 404, "comment not found")
    assert (await client.delete("/articles/topic/comments/x", headers=auth(bob))).status_code == 422


# Tags


async def test_tags_sorted_by_name(client: httpx.AsyncClient, register: Register) -> None:
    alice = await register("alice")
    assert (await client.get("/tags")).json() == {"tags": []}
    await _article(client, alice, "One", tagList=["zeta", "alpha"])
    await _article(client, alice, "Two", tagList=["alpha", "beta"])
    await client.delete("/articles/two", headers=auth(alice))
    assert (await client.get("/tags")).json() == {"tags": ["alpha", "beta", "zeta"]}


async def test_nul_is_refused_in_what_is_stored_and_names_nothing_in_a_path(
    client: httpx.AsyncClient, register: Register
) -> None:
    # PostgreSQL's text cannot hold NUL: refused (422) or matching nothing (404) on either database.
    user = await register("nul")
    article = {"title": "t", "description": "d", "body": "b\x00", "tagList": ["x"]}
    assert (await client.post("/articles", json={"article": article}, headers=auth(user))).status_code == 422
    article = {"title": "t", "description": "d", "body": "b", "tagList": ["x\x00"]}
    assert (await client.post("/articles", json={"article": article}, headers=auth(user))).status_code == 422
    new = {"username": "a\x00b", "email": "ab@example.com", "password": "ab-password"}
    assert (await client.post("/users", json={"user": new})).status_code == 422
    assert (await client.get("/articles", params={"tag": "a\x00b"})).status_code == 422
    _error(await client.get("/articles/a%00b"), 404, "article not found")
    _error(await client.get("/profiles/a%00b"), 404, "profile not found")
    assert (await client.get("/tags")).json() == {"tags": []}
