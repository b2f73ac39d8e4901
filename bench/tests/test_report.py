"""The like-for-like comparisons, ratios and table built from a result, and the order servers are measured in."""

from pathlib import Path
from typing import Any

from twinapi_bench import report, run


def _run(server: str, workload: str, rps: float, cpu_us: float, p50: float, p99: float, rss: float) -> dict[str, Any]:
    role = "impl" if server.startswith(("python-impl", "node-impl")) else "api"
    return {
        "mode": "single",
        "server": server,
        "framework": server,
        "language": "Python",
        "http_server": "uvicorn",
        "role": role,
        "workload": workload,
        "request": {"get-task": "GET /tasks/{id}", "login": "POST /auth/login"}[workload],
        "connections": 64,
        "rps": rps,
        "latency_ms": {"p50": p50, "p90": p99, "p99": p99, "p999": p99, "max": p99, "mean": p50},
        "errors": dict.fromkeys(("connect", "read", "write", "timeout", "status"), 0),
        "peak_rss_mb": rss,
        "server_cpu_s": 1.0,
        "server_cpu_us_per_request": cpu_us,
        "loadgen_cpu_s": 0.5,
        "valid": True,
    }


RESULT: dict[str, Any] = {
    "started_at": "2026-12-01T09:00:00+00:00",
    "valid": True,
    "machine": {"cpu": "x", "cores": 2, "memory_gb": 4, "python": "3.11", "node": "v20", "wrk": "wrk 4.1.0"},
    "config": {"connections": 64, "modes": ["single"], "duration_s": 1, "warmup_s": 0, "bcrypt_rounds": 4},
    "runs": [
        _run("python-impl/uvicorn", "get-task", 3000, 300, 10, 40, 66),
        _run("fastapi-tasks/uvicorn", "get-task", 1000, 1000, 30, 60, 60),
        _run("python-impl/uvicorn", "login", 200, 5000, 300, 320, 70),
        _run("fastapi-tasks/uvicorn", "login", 160, 6000, 360, 700, 50),
    ],
    "skipped": [],
}
RESULT["config"]["log_level"] = "warning"


def test_like_for_like_pairs_each_workload() -> None:
    pairs = {x["workload"]: x for x in report.like_for_like(RESULT)}
    assert set(pairs) == {"get-task", "login"}
    get = pairs["get-task"]
    assert (get["implementation"], get["reference"]) == ("python-impl/uvicorn", "fastapi-tasks/uvicorn")
    assert get["ratio"] == 3.0 and get["ratio_by_cpu"] == 3.333 and get["rps"] == [3000, 1000]
    assert get["target"] == ">= 2.0" and get["met"] is True
    # Login is bcrypt-bound on both sides: reported, never targeted.
    assert pairs["login"]["ratio"] == 1.25 and pairs["login"]["target"] is None and pairs["login"]["met"] is None


def test_ratios_hold_the_issue_targets() -> None:
    found = {x["name"]: x for x in report.ratios(RESULT)}
    like = found["Python kit (uvicorn) / FastAPI API (uvicorn), get-task"]
    assert like["value"] == 3.0 and like["met"] is True
    assert found["Python kit (uvicorn) / FastAPI API (uvicorn), login"]["met"] is None
    spread = found["p99 / p50, Python kit (uvicorn), get-task, 64 conn"]
    assert spread["value"] == 4.0 and spread["met"] is False
    assert not any(name.startswith("p99 / p50") and "login" in name for name in found)
    rss = found["Peak RSS: Python kit (uvicorn) / FastAPI API (uvicorn)"]
    assert rss["value"] == round(70 / 60, 3) and rss["met"] is True


def test_markdown_shows_the_like_for_like_table() -> None:
    table = report.markdown(RESULT)
    assert "### Like for like: kit ÷ the same API written idiomatically, same server, single process" in table
    row = "| GET /tasks/{id} | 64 | Python kit (uvicorn) | FastAPI API (uvicorn) | 3,000 | 1,000 | 3.00 | 3.33 |"
    assert row in table
    assert "| POST /auth/login | 64 |" in table and "n/a" in table


def test_the_chart_of_the_references_alone(tmp_path: Path) -> None:
    # `--only fastify-tasks`: no implementation measured, the reference's bars are still drawn.
    alone = {**RESULT, "runs": [r for r in RESULT["runs"] if r["role"] != "impl"]}
    path = report.chart(alone, tmp_path / "refs.png")
    assert path.stat().st_size > 10_000


class _Spec:
    def __init__(self, key: str) -> None:
        self.key = key


class _Server:
    def __init__(self, key: str) -> None:
        self.spec = _Spec(key)


def test_each_implementation_is_measured_next_to_its_reference() -> None:
    keys = ["node-impl", "fastify", "python-impl/uvicorn", "fastify-tasks", "fastapi-tasks/uvicorn", "asgi/uvicorn"]
    ordered = [s.spec.key for s in run.paired([_Server(k) for k in keys])]
    assert ordered == [
        "python-impl/uvicorn",
        "fastapi-tasks/uvicorn",
        "node-impl",
        "fastify-tasks",
        "fastify",
        "asgi/uvicorn",
    ]
