import asyncio

import pytest

from app.core.db import Database
from app.store.tasks import Refused, TaskRecord, Tasks
from app.store.users import Users

pytestmark = pytest.mark.anyio


@pytest.fixture
async def owners(db: Database) -> tuple[str, str]:
    users = Users(db)
    ada = await users.create("ada@example.com", "Ada", "hash")
    bob = await users.create("bob@example.com", "Bob", "hash")
    assert ada is not None and bob is not None
    return ada.id, bob.id


async def test_create_and_get(db: Database, owners: tuple[str, str]) -> None:
    ada, bob = owners
    tasks = Tasks(db)
    task = await tasks.create(ada, "Write", None, "2026-12-01", "high")
    assert (task.title, task.notes, task.due_date, task.priority, task.status, task.version) == (
        "Write",
        None,
        "2026-12-01",
        "high",
        "open",
        1,
    )
    assert task.created_at == task.updated_at and task.created_at.endswith("Z")
    assert await tasks.get(ada, task.id) == task
    assert await tasks.get(bob, task.id) is None  # another owner's task does not exist for them


async def test_update_changes_the_given_fields_and_the_version(db: Database, owners: tuple[str, str]) -> None:
    ada, _ = owners
    tasks = Tasks(db)
    task = await tasks.create(ada, "Write", "some notes", "2026-12-01", "normal")
    updated = await tasks.update(ada, task.id, {"notes": None, "status": "done"}, None)
    assert isinstance(updated, TaskRecord)
    assert (updated.title, updated.notes, updated.due_date, updated.status) == ("Write", None, "2026-12-01", "done")
    assert updated.version == 2 and updated.created_at == task.created_at
    assert await tasks.get(ada, task.id) == updated


async def test_update_and_delete_check_the_version(db: Database, owners: tuple[str, str]) -> None:
    ada, bob = owners
    tasks = Tasks(db)
    task = await tasks.create(ada, "Write", None, None, "low")
    assert await tasks.update(ada, task.id, {"title": "x"}, frozenset({2, 3})) is Refused.CHANGED
    assert await tasks.update(ada, task.id, {"title": "x"}, frozenset()) is Refused.CHANGED
    assert await tasks.update(bob, task.id, {"title": "x"}, frozenset({1})) is Refused.NOT_FOUND
    assert await tasks.update(bob, task.id, {"title": "x"}, None) is Refused.NOT_FOUND
    updated = await tasks.update(ada, task.id, {"title": "y"}, frozenset({1, 7}))
    assert isinstance(updated, TaskRecord) and updated.title == "y"
    assert await tasks.delete(ada, task.id, frozenset({1})) is Refused.CHANGED
    assert await tasks.delete(bob, task.id, None) is Refused.NOT_FOUND
    assert await tasks.delete(ada, task.id, frozenset({2})) is None
    assert await tasks.delete(ada, task.id, None) is Refused.NOT_FOUND
    assert await tasks.update(ada, task.id, {"title": "z"}, frozenset({1})) is Refused.NOT_FOUND


async def test_of_two_updates_expecting_one_version_exactly_one_wins(db: Database, owners: tuple[str, str]) -> None:
    ada, _ = owners
    tasks = Tasks(db)
    task = await tasks.create(ada, "Write", None, None, "low")
    results = await asyncio.gather(
        tasks.update(ada, task.id, {"title": "first"}, frozenset({1})),
        tasks.update(ada, task.id, {"title": "second"}, frozenset({1})),
    )
    assert sorted(isinstance(r, TaskRecord) for r in results) == [False, True]
    assert Refused.CHANGED in results


async def test_deleting_an_owner_deletes_their_tasks(db: Database, owners: tuple[str, str]) -> None:
    ada, _ = owners
    await Tasks(db).create(ada, "Write", None, None, "low")
    await db.execute("DELETE FROM users WHERE id = :id", {"id": ada})
    assert await db.fetch_all("SELECT id FROM tasks", {}) == []


async def test_pages_are_newest_first_and_stable_under_inserts(db: Database, owners: tuple[str, str]) -> None:
    ada, bob = owners
    tasks = Tasks(db)
    made = [await tasks.create(ada, f"task {i}", None, None, "low") for i in range(5)]
    await tasks.create(bob, "not ada's", None, None, "low")
    first, after = await tasks.page(ada, 2, None, None, None)
    assert [t.title for t in first] == ["task 4", "task 3"] and after == made[3].seq
    await tasks.create(ada, "newer", None, None, "low")  # lands before the first page, not in the next ones
    second, after = await tasks.page(ada, 2, after, None, None)
    assert [t.title for t in second] == ["task 2", "task 1"]
    third, after = await tasks.page(ada, 2, after, None, None)
    assert [t.title for t in third] == ["task 0"] and after is None


async def test_a_full_last_page_has_no_next(db: Database, owners: tuple[str, str]) -> None:
    ada, _ = owners
    tasks = Tasks(db)
    for i in range(2):
        await tasks.create(ada, f"task {i}", None, None, "low")
    page, after = await tasks.page(ada, 2, None, None, None)
    assert len(page) == 2 and after is None


async def test_filters(db: Database, owners: tuple[str, str]) -> None:
    ada, _ = owners
    tasks = Tasks(db)
    await tasks.create(ada, "Buy MILK", None, None, "low")
    notes = await tasks.create(ada, "Call", "about the milk", None, "low")
    done = await tasks.create(ada, "Write", None, None, "low")
    await tasks.update(ada, done.id, {"status": "done"}, None)
    await tasks.create(ada, "Ünïcode", None, None, "low")

    async def titles(status: str | None, query: str | None) -> list[str]:
        return [t.title for t in (await tasks.page(ada, 10, None, status, query))[0]]

    assert await titles(None, "milk") == ["Call", "Buy MILK"]  # title or notes, ASCII case ignored
    assert await titles("done", None) == ["Write"]
    assert await titles("open", "MiLk") == ["Call", "Buy MILK"]
    assert await titles(None, "") == ["Ünïcode", "Write", "Call", "Buy MILK"]  # empty q: no filter
    assert await titles(None, "ünï") == []  # only ASCII letters are folded
    assert await titles(None, "Ünï") == ["Ünïcode"]
    assert await titles(None, "%") == []  # no LIKE wildcards
    assert notes.notes == "about the milk"
