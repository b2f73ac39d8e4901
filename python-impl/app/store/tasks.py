"""Tasks: owned by one account, versioned for ETags, listed newest first by seq."""

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from app.core.db import Database, IntegrityError, utc_now

_COLUMNS = "seq, id, title, notes, due_date, priority, status, version, created_at, updated_at"
# The fields a patch may change, mapped to their columns; nothing else ever reaches the SQL text.
PATCHABLE = {
    "title": "title",
    "notes": "notes",
    "due_date": "due_date",
    "priority": "priority",
    "status": "status",
}


@dataclass(frozen=True, slots=True)
class TaskRecord:
    seq: int
    id: str
    title: str
    notes: str | None
    due_date: str | None
    priority: str
    status: str
    version: int
    created_at: str
    updated_at: str


# Title or notes contain :q, ignoring ASCII case only. SQLite's lower() folds A-Z alone; on PostgreSQL the columns
# are COLLATE "C" (postgresql/0001_init.sql), whose lower() does the same, and the parameter is given that collation.
_CONTAINS = {
    "sqlite": " AND (instr(lower(title), lower(:q)) > 0 OR instr(lower(coalesce(notes, '')), lower(:q)) > 0)",
    "postgresql": ' AND (strpos(lower(title), lower(:q::text COLLATE "C")) > 0'
    " OR strpos(lower(coalesce(notes, '')), lower(:q::text COLLATE \"C\")) > 0)",
}


class Refused(enum.Enum):
    NOT_FOUND = "not found"  # no such task for this owner
    CHANGED = "changed"  # the task exists but its version is none of the expected ones


class Tasks:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        owner_id: str,
        title: str,
        notes: str | None,
        due_date: str | None,
        priority: str,
    ) -> TaskRecord | None:
        """The new task, or None when its owner no longer exists (the account was deleted after authenticating)."""
        now = utc_now()
        values = {
            "id": str(uuid.uuid4()),
            "owner_id": owner_id,
            "title": title,
            "notes": notes,
            "due_date": due_date,
            "priority": priority,
            "status": "open",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        try:
            row = await self._db.fetch_one(
                "INSERT INTO tasks"
                " (id, owner_id, title, notes, due_date, priority, status, version, created_at, updated_at) VALUES"
                " (:id, :owner_id, :title, :notes, :due_date, :priority, :status, :version, :created_at, :updated_at)"
                f" RETURNING {_COLUMNS}",
                values,
            )
        except IntegrityError:  # the only constraint an insert can break is the owner's foreign key
            return None
        assert row is not None  # INSERT ... RETURNING always returns the row it wrote
        return TaskRecord(*row)

    async def get(self, owner_id: str, task_id: str) -> TaskRecord | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM tasks WHERE id = :id AND owner_id = :owner_id",
            {"id": task_id, "owner_id": owner_id},
        )
        return None if row is None else TaskRecord(*row)

    async def update(
        self,
        owner_id: str,
        task_id: str,
        changes: Mapping[str, object],
        versions: frozenset[int] | None,
    ) -> TaskRecord | Refused:
        """Applies `changes` (keys of PATCHABLE) if the current version is in `versions` (None: any version).

        The version check is part of the UPDATE itself, so of two writers expecting the same version one wins.
        """
        params: dict[str, object] = {
            "id": task_id,
            "owner_id": owner_id,
            "now": utc_now(),
        }
        sets = ["version = version + 1", "updated_at = :now"]
        for field, value in changes.items():
            sets.append(f"{PATCHABLE[field]} = :{field}")
            params[field] = value
        where = _version_condition(versions, params)
        if where is None:
            return await self._refusal(owner_id, task_id)
        row = await self._db.fetch_one(
            f"UPDATE tasks SET {', '.join(sets)} WHERE id = :id AND owner_id = :owner_id{where} RETURNING {_COLUMNS}",
            params,
        )
        return TaskRecord(*row) if row is not None else await self._refusal(owner_id, task_id)

    async def delete(self, owner_id: str, task_id: str, versions: frozenset[int] | None) -> Refused | None:
        """Deletes the task if its version is in `versions` (None: any version); None when it is gone."""
        params: dict[str, object] = {"id": task_id, "owner_id": owner_id}
        where = _version_condition(versions, params)
        if where is None:
            return await self._refusal(owner_id, task_id)
        deleted = await self._db.execute(f"DELETE FROM tasks WHERE id = :id AND owner_id = :owner_id{where}", params)
        return None if deleted else await self._refusal(owner_id, task_id)

    async def page(
        self,
        owner_id: str,
        limit: int,
        after: int | None,
        status: str | None,
        query: str | None,
    ) -> tuple[list[TaskRecord], int | None]:
        """Up to `limit` tasks with seq below `after`, newest first, and the seq to continue after (or None)."""
        params: dict[str, object] = {"owner_id": owner_id, "limit": limit + 1}
        sql = f"SELECT {_COLUMNS} FROM tasks WHERE owner_id = :owner_id"
        # Conditions are added only when used, so the (owner_id, seq) index serves the range and the order.
        if after is not None:
            sql += " AND seq < :after"
            params["after"] = after
        if status is not None:
            sql += " AND status = :status"
            params["status"] = status
        if query:
            sql += _CONTAINS[self._db.dialect]
            params["q"] = query
        rows = await self._db.fetch_all(sql + " ORDER BY seq DESC LIMIT :limit", params)
        tasks = [TaskRecord(*row) for row in rows[:limit]]
        return tasks, tasks[-1].seq if len(rows) > limit else None

    async def _refusal(self, owner_id: str, task_id: str) -> Refused:
        # 404 takes precedence over 412: only an existing task can have changed.
        row = await self._db.fetch_one(
            "SELECT 1 FROM tasks WHERE id = :id AND owner_id = :owner_id",
            {"id": task_id, "owner_id": owner_id},
        )
        return Refused.NOT_FOUND if row is None else Refused.CHANGED


def _version_condition(versions: frozenset[int] | None, params: dict[str, object]) -> str | None:
    """The SQL condition for the expected versions; None when no version can match."""
    if versions is None:
        return ""
    if not versions:
        return None
    names = []
    for i, version in enumerate(sorted(versions)):
        params[f"v{i}"] = version
        names.append(f":v{i}")
    return f" AND version IN ({', '.join(names)})"
