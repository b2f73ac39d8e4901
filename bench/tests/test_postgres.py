"""The PostgreSQL mode: both implementations on copies of the seeded data in a throwaway cluster, and the copy."""

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from twinapi_bench import pg, report, run, servers

SETTINGS = servers.Settings("pg-test-secret-" + "x" * 32, 3600, 4, "warning")


@pytest.fixture(scope="module")
def result(bench_run: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any]:
    return bench_run(
        ["--mode", "postgresql", "--no-build", "--no-granian", "--bcrypt-rounds", "4"]
        + ["--duration", "1", "--warmup", "0", "--server-warmup", "1", "--connections", "8"]
        + ["--only", "health", "get-task", "update-task", "python-impl/uvicorn", "node-impl"]
    )


def test_both_implementations_run_the_database_workloads_on_postgresql(result: dict[str, Any]) -> None:
    assert result["valid"] is True and result["config"]["modes"] == ["postgresql"]
    assert {(s["key"], s["database"]) for s in result["servers"]} == {
        ("python-impl/uvicorn", "postgresql"),
        ("node-impl", "postgresql"),
    }
    # GET /health reads no database: it is not a PostgreSQL workload. Every PATCH found its task's current
    # version in the server's own database (a stale one would be a 412, and the run invalid).
    runs = {(r["server"], r["workload"]) for r in result["runs"]}
    assert runs == {(s, w) for s in ("python-impl/uvicorn", "node-impl") for w in ("get-task", "update-task")}
    for r in result["runs"]:
        assert r["mode"] == "postgresql" and r["database"] == "postgresql" and r["wrk_threads"] == 1
        assert r["valid"] and r["requests"] > 0 and r["non_2xx"] == 0


def test_the_table_ratios_and_chart_show_the_mode(result: dict[str, Any]) -> None:
    table = report.markdown(result)
    assert "per workload, single process on PostgreSQL" in table
    assert "| postgresql | Python (uvicorn) / Node on GET /tasks/{id} |" in table
    assert (Path(result["_out"]) / result["chart"]).stat().st_size > 10_000


def test_the_template_holds_the_seeded_rows(tmp_path: Path) -> None:
    seed_db, data = run.prepare_database(tmp_path, SETTINGS)
    python = servers.specs("single", 1, granian=False, references=set())[0]
    with pg.throwaway_cluster() as cluster:

        def migrate(url: str) -> None:
            servers.start(python, "postgresql", 1, SETTINGS, tmp_path, None, database_url=url).stop()

        template = pg.seed_template(cluster, seed_db, tmp_path, migrate)
        url = pg.copy_database(cluster, template, "copy")
        name = url.rsplit("/", 1)[1]
        with closing(sqlite3.connect(seed_db)) as conn:
            notes = conn.execute("SELECT count(*) FROM tasks WHERE notes IS NULL").fetchone()[0]
            top = conn.execute("SELECT max(seq) FROM tasks").fetchone()[0]
        assert cluster.psql("SELECT count(*) FROM users", name).strip() == str(len(data.users))
        assert cluster.psql("SELECT count(*) FROM tasks WHERE notes IS NULL", name).strip() == str(notes)
        assert pg.versions(url) == {task: 1 for task in data.task_owners}
        # A task created on the copy continues the seeded sequence instead of colliding with it.
        owner = data.users[0].id
        seq = cluster.psql(
            "INSERT INTO tasks (id, owner_id, title, priority, status, version, created_at, updated_at) VALUES "
            f"('new', '{owner}', 't', 'low', 'open', 1, 'x', 'x') RETURNING seq",
            name,
        )
        assert int(seq.strip()) == top + 1
