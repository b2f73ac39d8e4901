"""A small real run (two servers, GET /health and one write) has the result shape the report and the JSON need."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from twinapi_bench import report, run

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make bench-setup)")

RUN_KEYS = {
    "mode",
    "server",
    "framework",
    "language",
    "http_server",
    "role",
    "workers",
    "instances",
    "database",
    "workload",
    "request",
    "connections",
    "wrk_threads",
    "requests",
    "duration_s",
    "rps",
    "latency_ms",
    "errors",
    "non_2xx",
    "peak_rss_mb",
    "server_cpu_s",
    "server_cpu_of",
    "server_cpu_us_per_request",
    "loadgen_cpu_s",
    "valid",
}


@pytest.fixture(scope="module")
def result(bench_run: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any]:
    return bench_run(
        [
            "--quick",
            "--no-build",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--server-warmup",
            "1",
            "--sweep",
            "--connections",
            "8",
            "--only",
            "health",
            "update-task",
            "python-impl/uvicorn",
            "fastapi-tasks/uvicorn",
            "asgi/uvicorn",
        ]
    )


def test_top_level_shape(result: dict[str, Any]) -> None:
    assert result["schema"] == run.SCHEMA_VERSION
    assert result["valid"] is True
    assert {"cpu", "cores", "memory_gb", "python", "node", "wrk"} <= set(result["machine"])
    assert result["config"]["connections"] == 8 and result["config"]["modes"] == ["single"]
    assert {s["key"] for s in result["servers"]} == {"python-impl/uvicorn", "fastapi-tasks/uvicorn", "asgi/uvicorn"}
    assert {s["role"] for s in result["servers"]} == {"impl", "api", "ref"}
    assert (Path(result["_out"]) / result["chart"]).stat().st_size > 10_000


def test_every_run_has_its_measures(result: dict[str, Any]) -> None:
    runs = {(r["server"], r["workload"]) for r in result["runs"]}
    assert runs == {
        ("python-impl/uvicorn", "health"),
        ("fastapi-tasks/uvicorn", "health"),
        ("asgi/uvicorn", "health"),
        ("python-impl/uvicorn", "update-task"),
        ("fastapi-tasks/uvicorn", "update-task"),
    }
    # Each implementation is measured right beside its reference of the same API, in turns.
    assert [r["server"] for r in result["runs"] if r["workload"] == "health"] == [
        "python-impl/uvicorn",
        "fastapi-tasks/uvicorn",
        "asgi/uvicorn",
    ]
    assert [r["server"] for r in result["runs"] if r["workload"] == "update-task"] == [
        "fastapi-tasks/uvicorn",
        "python-impl/uvicorn",
    ]
    for r in result["runs"]:
        assert RUN_KEYS <= set(r)
        assert r["valid"] and r["requests"] > 0 and r["non_2xx"] == 0
        assert set(r["latency_ms"]) == {"p50", "p90", "p99", "p999", "max", "mean"}
        assert r["peak_rss_mb"] > 5 and r["server_cpu_s"] > 0 and r["loadgen_cpu_s"] > 0


def test_like_for_like_in_the_json(result: dict[str, Any]) -> None:
    pairs = {(x["workload"], x["connections"]): x for x in result["like_for_like"]}
    assert set(pairs) == {("health", 8), ("update-task", 8)}
    patch = pairs[("update-task", 8)]
    assert (patch["implementation"], patch["reference"]) == ("python-impl/uvicorn", "fastapi-tasks/uvicorn")
    assert patch["ratio"] == round(patch["rps"][0] / patch["rps"][1], 3) and patch["ratio_by_cpu"] > 0
    assert patch["target"] == ">= 2.0" and isinstance(patch["met"], bool) and patch["valid"]
    assert result["config"]["server_warmup_s"] == 1


def test_ratios_and_table(result: dict[str, Any]) -> None:
    names = {x["name"] for x in result["ratios"]}
    assert "Python impl / raw ASGI (uvicorn)" in names
    assert "Python kit (uvicorn) / FastAPI API (uvicorn), update-task" in names
    table = report.markdown(result)
    assert "| framework | language | server | req/s | p99 | memory |" in table
    assert "PATCH /tasks/{id} If-Match" in table
    assert "### Like for like: kit ÷ the same API written idiomatically, same server, single process" in table
