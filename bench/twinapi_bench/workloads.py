"""The workloads: what each wrk script sends, built from the seeded data."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinapi_bench import pg, seed, wrk


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    path: str  # the URL path wrk is pointed at (the scripts may send others)
    template: str | None  # Lua template; None = wrk's static request
    timeout_s: float
    read: bool  # a read, for the p99 targets


WORKLOADS = [
    Workload("health", "GET /health", "/health", None, 5, True),
    Workload("get-task", "GET /tasks/{id}", "/tasks", "rotate.lua", 5, True),
    Workload("list-tasks", "GET /tasks?limit=20", "/tasks", "rotate.lua", 5, True),
    Workload("create-task", "POST /tasks", "/tasks", "rotate.lua", 5, False),
    Workload("update-task", "PATCH /tasks/{id} If-Match", "/tasks", "patch.lua", 5, False),
    # bcrypt-bound: at 64 connections each request waits for dozens of hashes ahead of it.
    Workload("login", "POST /auth/login", "/auth/login", "rotate.lua", 60, False),
]
BY_KEY = {w.key: w for w in WORKLOADS}
SWEEP = ("get-task", "create-task")  # one read and one write at every connection count
# What the database decides: the workloads run on PostgreSQL too (GET /health reads nothing, login is bcrypt's).
DATABASE_BOUND = ("get-task", "list-tasks", "create-task", "update-task")


@dataclass(frozen=True)
class Data:
    """What the scripts need from the seed: users (with passwords), task owners, and a token per user."""

    users: list[seed.User]
    task_owners: dict[str, str]
    tokens: dict[str, str]  # user id -> "Bearer <jwt>"


def script(
    workload: Workload, data: Data, path: Path, *, threads: int, db_path: Path | None, database_url: str | None = None
) -> Path:
    """Writes the wrk script of a workload; update-task reads the server's current task versions first (from its
    SQLite file, or its PostgreSQL database)."""
    user_ids = [u.id for u in data.users]
    tokens = [data.tokens[uid] for uid in user_ids]
    token_of = {uid: i + 1 for i, uid in enumerate(user_ids)}  # Lua index; 0 = no Authorization header
    rng = random.Random(workload.key)
    tasks = list(data.task_owners.items())
    rng.shuffle(tasks)
    values: dict[str, Any]
    if workload.key == "health":
        values = {}
    elif workload.key == "get-task":
        values = {"items": [["GET", f"/tasks/{tid}", token_of[owner], None] for tid, owner in tasks]}
    elif workload.key == "list-tasks":
        values = {"items": [["GET", "/tasks?limit=20", token_of[uid], None] for uid in user_ids]}
    elif workload.key == "create-task":
        bodies = [
            {"title": "Write the benchmark section", "priority": "high"},
            {"title": "Call the plumber", "notes": "Kitchen sink, after 5 pm.", "dueDate": "2026-12-01"},
            {"title": "Review pull request #42", "priority": "low", "dueDate": "2027-01-15"},
        ]
        values = {
            "items": [
                ["POST", "/tasks", token_of[uid], json.dumps(bodies[i % len(bodies)], separators=(",", ":"))]
                for i, uid in enumerate(user_ids)
            ]
        }
    elif workload.key == "update-task":
        if db_path is None and database_url is None:
            raise ValueError("update-task needs the server's database for the current versions")
        current = seed.versions(db_path) if db_path is not None else pg.versions(str(database_url))
        values = {
            "items": [[f"/tasks/{tid}", token_of[owner], tid, current[tid]] for tid, owner in tasks],
            "nthreads": threads,
            "body": json.dumps({"status": "done"}),
        }
    elif workload.key == "login":
        values = {
            "items": [
                ["POST", "/auth/login", 0, json.dumps({"email": u.email, "password": u.password})] for u in data.users
            ]
        }
    else:
        raise ValueError(f"unknown workload {workload.key}")
    return wrk.write_script(path, workload.template, {"tokens": tokens, **values} if values else {})
