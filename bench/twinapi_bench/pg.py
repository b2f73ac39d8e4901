"""The database-bound workloads on PostgreSQL: a throwaway cluster (twinapi_conformance.postgres), one template
database migrated by an implementation and filled with the seeded SQLite file's rows, and a fresh copy of the
template for every server, so that each one starts from the same 10 users and 10,000 tasks as on SQLite.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from twinapi_conformance.postgres import Cluster, ClusterError, throwaway_cluster

__all__ = ["Cluster", "ClusterError", "copy_database", "fill", "seed_template", "throwaway_cluster", "versions"]

# The seeded tables, parents first; every other table (schema_migrations, login_failures) is the migration's own.
TABLES = {
    "users": ("id", "email", "email_key", "display_name", "password_hash", "created_at"),
    "tasks": (
        "seq",
        "id",
        "owner_id",
        "title",
        "notes",
        "due_date",
        "priority",
        "status",
        "version",
        "created_at",
        "updated_at",
    ),
}
NULL = r"\N"  # COPY's NULL marker: the seeded texts never hold it, and "" stays an empty string


def seed_template(cluster: Cluster, seed_db: Path, workdir: Path, migrate: Callable[[str], None]) -> str:
    """A database named after the template, migrated by `migrate(url)` (a server started once on it), then filled
    with the rows of the seeded SQLite file; returns its name. Nothing may stay connected to it: it is copied."""
    name = f"bench_seed_{uuid.uuid4().hex[:8]}"
    cluster.psql(f'CREATE DATABASE "{name}"')
    migrate(cluster.url(name))
    fill(cluster, name, seed_db, workdir)
    return name


def fill(cluster: Cluster, name: str, seed_db: Path, workdir: Path) -> None:
    """Copies the rows of the seeded SQLite file into the migrated, empty database `name` of the cluster."""
    with closing(sqlite3.connect(f"file:{seed_db}?mode=ro", uri=True)) as conn:
        for table, columns in TABLES.items():
            rows = workdir / f"pg-{table}.csv"
            with rows.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"):  # noqa: S608
                    writer.writerow(NULL if value is None else value for value in row)
            cluster.psql(f"\\copy {table} ({', '.join(columns)}) FROM '{rows}' WITH (FORMAT csv, NULL '{NULL}')", name)
    # The copied seq values came with the rows: new tasks continue after them, as on SQLite.
    cluster.psql("SELECT setval(pg_get_serial_sequence('tasks', 'seq'), (SELECT max(seq) FROM tasks))", name)
    cluster.psql("VACUUM ANALYZE", name)


def copy_database(cluster: Cluster, template: str, prefix: str) -> str:
    """A fresh copy of the template for one server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    cluster.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return cluster.url(name)


def versions(url: str) -> dict[str, int]:
    """The current version of every task of the PostgreSQL database at `url`, read alongside a running server."""
    done = subprocess.run(  # noqa: S603 - psql on a loopback URL of our own cluster
        [shutil.which("psql") or "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]
        + ["-c", "SELECT id, version FROM tasks"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(f"reading the task versions failed: {done.stderr.strip()}")
    found: dict[str, int] = {}
    for line in done.stdout.splitlines():
        task_id, _, version = line.partition("|")
        if version:
            found[task_id] = int(version)
    return found
