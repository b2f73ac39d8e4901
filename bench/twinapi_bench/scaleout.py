"""The scaled-out set behind its balancer beside one instance of each implementation, on one PostgreSQL:
`python -m twinapi_bench scale` (`make bench-scale`).

The deployment is the harness's (twinapi_conformance.scale, as `make scale` runs it): 2 Python and 2 Node instances
behind HAProxy. The database-bound workloads are driven through the balancer, then straight at one instance of each
implementation in the same deployment, so that the three figures share the database, the data and the machine.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from twinapi_conformance.config import ConfigError, load
from twinapi_conformance.scale import ScaleError, deployed

from twinapi_bench import seed, wrk
from twinapi_bench.run import machine, source
from twinapi_bench.servers import BENCH
from twinapi_bench.workloads import BY_KEY, Data, script

CONFIG = BENCH.parent / "contract-tests" / "conformance.toml"
WORKLOADS = ("get-task", "list-tasks", "create-task")
USERS = 10
TASKS = 2_000
SEEDERS = 8  # threads creating the tasks through the balancer
PASSWORD = "bench-password-1"
TOKEN_TTL_SECONDS = 86_400
WRK_THREADS = 2

Log = Callable[[str], None]


def run(*, duration_s: float, warmup_s: float, connections: int, log: Log) -> dict[str, Any]:
    config = load(CONFIG)
    result: dict[str, Any] = {
        "kind": "scale-out",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source(BENCH.parent),
        "config": {
            "duration_s": duration_s,
            "warmup_s": warmup_s,
            "connections": connections,
            "users": USERS,
            "tasks": TASKS,
            "wrk_threads": WRK_THREADS,
            "instances": "2 python + 2 node behind HAProxy",
        },
        "runs": [],
    }
    log("starting PostgreSQL, 2 Python + 2 Node instances and HAProxy")
    with deployed(config, env={"LOG_LEVEL": "warning"}) as deployment, tempfile.TemporaryDirectory() as work:
        log(f"seeding {USERS} users and {TASKS} tasks through the balancer")
        data = _seed(deployment.balancer_url, deployment.jwt_secret)
        first = {kind: next(i for i in deployment.instances if i.kind == kind) for kind in config.implementations}
        targets = [("balancer", "2 python + 2 node behind HAProxy", deployment.balancer_url)] + [
            (instance.name, f"one {kind} instance", instance.url) for kind, instance in first.items()
        ]
        for key in WORKLOADS:
            workload = BY_KEY[key]
            for target, title, url in targets:
                path = Path(work) / f"{target}-{key}.lua"
                record: dict[str, Any] = {"workload": key, "request": workload.title, "target": target, "title": title}
                try:
                    lua = script(workload, data, path, threads=WRK_THREADS, db_path=None)
                    if warmup_s > 0:
                        _wrk(url + workload.path, lua, connections, warmup_s, workload.timeout_s)
                    out = _wrk(url + workload.path, lua, connections, duration_s, workload.timeout_s)
                except wrk.WrkError as exc:
                    record.update(valid=False, error=str(exc))
                else:
                    record.update(
                        requests=out.requests,
                        rps=round(out.rps, 1),
                        latency_ms={k: round(v, 3) for k, v in out.latency_ms.items()},
                        errors=out.errors,
                        valid=out.valid,
                    )
                result["runs"].append(record)
                log(_line(record))
        result["alive"] = all(instance.alive() for instance in deployment.instances)
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["valid"] = result["alive"] and all(r["valid"] for r in result["runs"])
    return result


def _wrk(url: str, lua: Path, connections: int, duration_s: float, timeout_s: float) -> wrk.WrkResult:
    return wrk.run(url, lua, connections=connections, threads=WRK_THREADS, duration_s=duration_s, timeout_s=timeout_s)


def _seed(base_url: str, secret: str) -> Data:
    """Users registered and tasks created through the API (the database is the deployment's), tokens minted with
    the deployment's secret as the servers mint them."""
    users: list[seed.User] = []
    owners: dict[str, str] = {}
    lock = threading.Lock()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for number in range(USERS):
            email = f"bench{number}@example.com"
            answer = client.post("/users", json={"email": email, "password": PASSWORD, "displayName": "Bench"})
            if answer.status_code != 201:
                raise ScaleError(f"seeding: registering {email} answered {answer.status_code}")
            users.append(seed.User(id=answer.json()["id"], email=email, password=PASSWORD))
    tokens = {user.id: f"Bearer {seed.token(secret, user.id, TOKEN_TTL_SECONDS)}" for user in users}
    failures: list[str] = []

    def create(worker: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for number in range(worker, TASKS, SEEDERS):
                user = users[number % USERS]
                answer = client.post(
                    "/tasks", json={"title": f"Seeded task {number}"}, headers={"Authorization": tokens[user.id]}
                )
                if answer.status_code != 201:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
                    return
                with lock:
                    owners[answer.json()["id"]] = user.id

    threads = [threading.Thread(target=create, args=(n,), daemon=True) for n in range(SEEDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    if failures or len(owners) != TASKS:
        raise ScaleError(f"seeding: {len(owners)} of {TASKS} tasks created; {failures[:1]}")
    return Data(users=users, task_owners=owners, tokens=tokens)


def _line(record: dict[str, Any]) -> str:
    if not record["valid"]:
        return f"{record['workload']:<12} {record['title']:<34} INVALID {record.get('error', record.get('errors'))}"
    latency = record["latency_ms"]
    return (
        f"{record['workload']:<12} {record['title']:<34} {record['rps']:>9,.0f} req/s"
        f"  p50 {latency['p50']:.1f} ms  p99 {latency['p99']:.1f} ms"
    )


def markdown(result: dict[str, Any]) -> str:
    rows = ["| workload | served by | req/s | p50 | p99 | errors |", "| --- | --- | --- | --- | --- | --- |"]
    for record in result["runs"]:
        if not record["valid"]:
            rows.append(f"| {record['request']} | {record['title']} | invalid | | | {record.get('error', '')} |")
            continue
        latency, errors = record["latency_ms"], sum(record["errors"].values())
        rows.append(
            f"| {record['request']} | {record['title']} | {record['rps']:,.0f} | {latency['p50']:.1f} ms"
            f" | {latency['p99']:.1f} ms | {errors} |"
        )
    cores = result["machine"]["cores"]
    return "\n".join(rows) + f"\n\n{result['started_at']}, {cores} cores, {result['config']['connections']} connections"


def main(duration_s: float, warmup_s: float, connections: int, out: Path) -> int:
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        result = run(duration_s=duration_s, warmup_s=warmup_s, connections=connections, log=log)
    except (ScaleError, ConfigError) as exc:
        log(f"error: {exc}")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-scale-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(f"results: {path}")
    return 0 if result["valid"] else 1
