"""The benchmark's database: users and tasks written straight into a file a server has migrated.

Rows follow db/migrations/0001_init.sql and CONVENTIONS.md exactly (lowercase uuid4 ids, `...mmmZ` timestamps,
version 1, seq in creation order, bcrypt $2b$ hashes at the configured cost), so both implementations read
them as their own. The data is deterministic for a given random seed, apart from the bcrypt salts and ids'
randomness being drawn from that seed too.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import jwt

_VERBS = ["Write", "Review", "Fix", "Plan", "Ship", "Test", "Refactor", "Document", "Measure", "Call", "Book", "Pay"]
_THINGS = [
    "the contract tests",
    "the quarterly report",
    "the login page",
    "flaky CI job",
    "the dentist",
    "invoice #{n}",
    "release notes for v{n}",
    "the migration plan",
    "benchmark table",
    "team offsite agenda",
    "the database backup",
    "onboarding checklist",
]
_NOTES = [
    "Both implementations, every check.",
    "Ask Ada before Friday.",
    "Blocked on the vendor's answer.",
    "Half done; see the draft in the shared folder.",
    "Needs a second pair of eyes.",
]
_EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password: str


@dataclass(frozen=True)
class Seeded:
    users: list[User]
    task_owners: dict[str, str]  # task id -> owner id, in seq order


def timestamp(moment: datetime) -> str:
    """The contract's form: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seed(path: Path, *, users: int = 10, tasks: int = 10_000, bcrypt_rounds: int = 10, rng_seed: int = 6) -> Seeded:
    """Fills a migrated, empty database; tasks are spread round-robin over the users, oldest first."""
    rng = random.Random(rng_seed)

    def uuid4() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    accounts = []
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("SELECT count(*) FROM users").fetchone()[0]:
            raise ValueError(f"{path} already has users: seed a freshly migrated database")
        conn.execute("BEGIN IMMEDIATE")
        for i in range(1, users + 1):
            user = User(uuid4(), f"Bench.User{i:02d}@example.com", f"bench-password-{i:02d}")
            hashed = bcrypt.hashpw(user.password.encode()[:72], bcrypt.gensalt(bcrypt_rounds, prefix=b"2b"))
            conn.execute(
                "INSERT INTO users (id, email, email_key, display_name, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    user.id,
                    user.email,
                    ascii_lower(user.email),
                    f"Bench User {i:02d}",
                    hashed.decode(),
                    timestamp(_EPOCH - timedelta(days=30 - i)),
                ),
            )
            accounts.append(user)
        owners: dict[str, str] = {}
        moment = _EPOCH
        rows = []
        for n in range(tasks):
            moment += timedelta(seconds=rng.randint(30, 3600), milliseconds=rng.randint(0, 999))
            task_id, owner = uuid4(), accounts[n % users].id
            title = f"{rng.choice(_VERBS)} {rng.choice(_THINGS).format(n=n)}"
            notes = rng.choice(_NOTES) if rng.random() < 0.5 else None
            due = (moment + timedelta(days=rng.randint(1, 90))).date().isoformat() if rng.random() < 0.6 else None
            priority = rng.choices(["low", "normal", "high"], weights=[2, 5, 3])[0]
            status = "done" if rng.random() < 0.3 else "open"
            stamp = timestamp(moment)
            rows.append((task_id, owner, title, notes, due, priority, status, 1, stamp, stamp))
            owners[task_id] = owner
        conn.executemany(
            "INSERT INTO tasks (id, owner_id, title, notes, due_date, priority, status, version, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        # One self-contained file to copy: everything in the main file, no -wal beside it.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seeded(accounts, owners)


def ascii_lower(text: str) -> str:
    """CONVENTIONS' email key: only A-Z are lowered."""
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


def token(secret: str, user_id: str, ttl_seconds: int) -> str:
    """An HS256 JWT exactly as both servers issue it (header alg HS256, typ JWT; claims sub, iat, exp)."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def versions(path: Path) -> dict[str, int]:
    """The current version of every task, read alongside a running server (WAL readers do not block it)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("PRAGMA busy_timeout = 5000")
        return dict(conn.execute("SELECT id, version FROM tasks"))
