"""The scale mode: the scaled-out set behind HAProxy beside one instance of each implementation, in one run."""

import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from twinapi_bench import report, run, scaleout, servers
from twinapi_bench.workloads import WORKLOADS, Data

KEYS = ("haproxy", "python-impl/uvicorn", "node-impl")


@pytest.fixture(scope="module")
def result(bench_run: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any]:
    return bench_run(
        ["--mode", "scale", "--no-build", "--bcrypt-rounds", "4"]
        + ["--duration", "1", "--warmup", "0", "--server-warmup", "1", "--connections", "8"]
        + ["--only", "health", "get-task", "update-task"]
    )


def test_the_set_and_one_instance_of_each_run_the_database_workloads(result: dict[str, Any]) -> None:
    assert result["valid"] is True and result["config"]["modes"] == ["scale"] and not result["skipped"]
    assert {(s["key"], s["role"], s["instances"], s["database"]) for s in result["servers"]} == {
        ("haproxy", "set", 4, "postgresql"),
        ("python-impl/uvicorn", "impl", 1, "postgresql"),
        ("node-impl", "impl", 1, "postgresql"),
    }
    # GET /health reads no database: not a workload of the mode. Every PATCH through the balancer found its task's
    # current version in the one shared database (a stale one would be a 412, and the run invalid).
    assert {(r["server"], r["workload"]) for r in result["runs"]} == {
        (k, w) for k in KEYS for w in ("get-task", "update-task")
    }
    for r in result["runs"]:
        assert r["mode"] == "scale" and r["database"] == "postgresql" and r["wrk_threads"] == 2
        assert r["instances"] == (4 if r["server"] == "haproxy" else 1)
        assert r["valid"] and r["requests"] > 0 and r["non_2xx"] == 0
        assert r["server_cpu_us_per_request"] > 0 and r["peak_rss_mb"] > 0
        assert ("HAProxy and all 4 instances" in r["server_cpu_of"]) == (r["server"] == "haproxy")


def test_the_table_and_chart_show_the_set_beside_one_instance(result: dict[str, Any]) -> None:
    assert {(x["workload"], x["versus"]) for x in result["scale"]} == {
        (w, k) for w in ("get-task", "update-task") for k in KEYS[1:]
    }
    table = report.markdown(result)
    assert "per workload, scale-out on PostgreSQL (HAProxy, 2 + 2)" in table
    assert "### The scaled-out set ÷ one instance on the same deployment, 8 connections" in table
    assert "| PATCH /tasks/{id} If-Match | 8 | haproxy |" in table
    assert (Path(result["_out"]) / result["chart"]).stat().st_size > 10_000


def _run(server: str, rps: float, cpu_us: float | None, valid: bool = True) -> dict[str, Any]:
    return {
        "mode": "scale",
        "server": server,
        "workload": "get-task",
        "request": "GET /tasks/{id}",
        "connections": 64,
        "instances": 4 if server == "haproxy" else 1,
        "rps": rps,
        "server_cpu_us_per_request": cpu_us,
        "valid": valid,
    }


def test_scale_ratios_divide_the_set_by_each_instance() -> None:
    runs = [_run("haproxy", 600, 1500), _run("python-impl/uvicorn", 1200, 500), _run("node-impl", 2000, None, False)]
    found = {x["versus"]: x for x in report.scale_ratios({"config": {"connections": 64}, "runs": runs})}
    python, node = found["python-impl/uvicorn"], found["node-impl"]
    assert python["ratio"] == 0.5 and python["ratio_by_cpu"] == 0.333 and python["rps"] == [600, 1200]
    assert python["valid"] is True and python["instances"] == 4
    # No CPU figure on one side: no ratio by CPU; an invalid side makes the ratio invalid.
    assert node["ratio"] == 0.3 and node["ratio_by_cpu"] is None and node["valid"] is False


def test_scale_ratios_need_the_set_and_the_instance() -> None:
    runs = [_run("python-impl/uvicorn", 1200, 500), {**_run("haproxy", 600, 1500), "mode": "postgresql"}]
    assert report.scale_ratios({"config": {"connections": 64}, "runs": runs}) == []


def test_a_member_is_alive_while_every_process_it_counts_runs(tmp_path: Path) -> None:
    # Each burns some CPU, says so, then sleeps: both are counted, and the member lives as long as both do.
    code = "import time; sum(range(3_000_000)); print('busy', flush=True); time.sleep(30)"
    sleepers = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        assert all(p.stdout and p.stdout.readline() == "busy\n" for p in sleepers)
        spec = servers.specs("single", 1, granian=False, references=set())[0]
        member = scaleout.Member(spec, 1, tuple(p.pid for p in sleepers), (tmp_path / "none.log",), 2, "both")
        assert member.alive() and member.cpu_seconds() > 0 and member.rss_bytes() > 0
        sleepers[1].kill()
        sleepers[1].wait(10)
        assert not member.alive()
        assert member.log_tail() == "none.log: "
    finally:
        for p in sleepers:
            p.kill()
            p.wait(10)
            if p.stdout:
                p.stdout.close()


def test_a_deployment_that_cannot_start_is_a_skipped_and_invalid_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(*args: object) -> AbstractContextManager[list[scaleout.Member]]:
        raise scaleout.ScaleError("HAProxy is not installed: apt-get install haproxy (or `make scale-setup`)")

    monkeypatch.setattr(scaleout, "members", missing)
    found: dict[str, Any] = {"runs": [], "servers": [], "skipped": []}
    lines: list[str] = []
    settings = servers.Settings("scale-test-secret-" + "x" * 32, 3600, 4, "warning")
    options = run.Options(modes=("scale",))
    run._run_scale(options, settings, WORKLOADS, tmp_path / "seed.db", Data([], {}, {}), tmp_path, found, lines.append)
    assert found["skipped"] == [
        {
            "server": "haproxy",
            "mode": "scale",
            "role": "set",
            "reason": "HAProxy is not installed: apt-get install haproxy (or `make scale-setup`)",
        }
    ]
    assert found["runs"] == [] and lines[-1].startswith("[scale] skipped: HAProxy is not installed")
    assert "set" in run.MEASURED_ROLES and run.wrk_threads("scale") == 2
