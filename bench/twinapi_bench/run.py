"""One benchmark run: seed, start every server, drive every workload alternately, collect the results."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twinapi_bench import pg, scaleout, seed, servers, wrk
from twinapi_bench.workloads import BY_KEY, DATABASE_BOUND, SWEEP, WORKLOADS, Data, Workload, script

SCHEMA_VERSION = 2
QUICK_REFERENCES = {"fastify", "fastapi/uvicorn", "asgi/uvicorn"}  # the ones the targets divide by
# Each implementation beside the idiomatic reference of the same API on the same HTTP server: measured one after
# the other (and in reverse order on every other workload), so drift hits both sides of a ratio alike.
PAIRS = (
    ("python-impl/uvicorn", "fastapi-tasks/uvicorn"),
    ("python-impl/granian", "fastapi-tasks/granian"),
    ("node-impl", "fastify-tasks"),
)
# What each server runs before its first measured run, so that none is measured cold (V8's JIT above all).
SERVER_WARMUP = ("get-task", "list-tasks", "create-task", "update-task", "health")
# The modes: one process and all cores on SQLite; one process of each implementation on PostgreSQL (the idiomatic
# references speak SQLite only), on the database-bound workloads; and those workloads on the scaled-out set behind
# its balancer beside one instance of each implementation in the same deployment (scaleout.py).
MODES = ("single", "all", "postgresql", "scale")
# The roles whose runs are the product's: the implementations, the references of the whole API, the scaled-out set.
MEASURED_ROLES = ("impl", "api", "set")


@dataclass(frozen=True)
class Options:
    quick: bool = False
    duration_s: float = 10
    warmup_s: float = 3
    server_warmup_s: float = 15  # per server, once, spread over SERVER_WARMUP (at least 1 s each)
    connections: int = 64
    sweep: tuple[int, ...] = (1, 16, 64, 256)
    modes: tuple[str, ...] = MODES
    only: tuple[str, ...] = ()
    granian: bool = True
    build: bool = True
    bcrypt_rounds: int = 10
    log_level: str = "warning"
    workers: int = os.cpu_count() or 1

    @classmethod
    def quick_defaults(cls, **overrides: Any) -> Options:
        base: dict[str, Any] = dict(
            quick=True,
            duration_s=2,
            warmup_s=1,
            server_warmup_s=5,
            sweep=(256,),
            modes=("single",),
            granian=False,
            bcrypt_rounds=6,
        )
        return cls(**{**base, **overrides})


Log = Callable[[str], None]


def run(options: Options, log: Log) -> dict[str, Any]:
    workloads = [w for w in WORKLOADS if not _only_workloads(options) or w.key in options.only]
    started = datetime.now(UTC)
    settings = servers.Settings(
        jwt_secret=secrets.token_urlsafe(48),
        jwt_ttl_seconds=86_400,
        bcrypt_rounds=options.bcrypt_rounds,
        log_level=options.log_level,
    )
    result: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source(servers.PYTHON_IMPL.parent),
        "config": {
            "quick": options.quick,
            "duration_s": options.duration_s,
            "warmup_s": options.warmup_s,
            "server_warmup_s": options.server_warmup_s,
            "server_warmup": list(SERVER_WARMUP),
            "pairs": [list(p) for p in PAIRS],
            "connections": options.connections,
            "sweep": list(options.sweep),
            "modes": list(options.modes),
            "workers_all_cores": options.workers,
            "bcrypt_rounds": options.bcrypt_rounds,
            "log_level": options.log_level,
            "users": 10,
            "tasks": 10_000,
            "wrk_threads": {mode: wrk_threads(mode) for mode in MODES},
            "postgresql_workloads": list(DATABASE_BOUND),
            "scale_instances_per_implementation": scaleout.PER_IMPLEMENTATION,
            "only": list(options.only),
        },
        "servers": [],
        "runs": [],
        "skipped": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="twinapi-bench-"))
    try:
        log("preparing: npm ci for bench/node if needed" + (", npm run build in node-impl" if options.build else ""))
        servers.install_node_refs()
        if options.build:
            servers.build_node_impl()
        log(f"seeding 10 users (bcrypt cost {options.bcrypt_rounds}) and 10,000 tasks")
        seed_db, data = prepare_database(workdir, settings)
        for mode in options.modes:
            _run_mode(mode, options, settings, workloads, seed_db, data, workdir, result, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    # Other work on the machine during the run is the main source of noise: keep the evidence with the figures.
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["valid"] = (
        bool(result["runs"])
        and all(r["valid"] for r in result["runs"])
        and not any(s["role"] in MEASURED_ROLES for s in result["skipped"])
    )
    return result


def _only_workloads(options: Options) -> bool:
    return any(name in BY_KEY for name in options.only)


def _only_servers(options: Options) -> set[str]:
    return {name for name in options.only if name not in BY_KEY}


def prepare_database(workdir: Path, settings: servers.Settings) -> tuple[Path, Data]:
    """Lets the Python implementation apply the migrations to an empty file, then seeds it directly."""
    empty = workdir / "empty.db"
    spec = servers.specs("single", 1, granian=False, references=set())[0]
    migrating = servers.start(spec, "single", 1, settings, workdir, seed_db=None, db_path=empty)
    migrating.stop()
    seeded = workdir / "seed.db"
    shutil.copyfile(empty, seeded)
    done = seed.seed(seeded, bcrypt_rounds=settings.bcrypt_rounds)
    tokens = {u.id: "Bearer " + seed.token(settings.jwt_secret, u.id, settings.jwt_ttl_seconds) for u in done.users}
    return seeded, Data(done.users, done.task_owners, tokens)


def _run_mode(
    mode: str,
    options: Options,
    settings: servers.Settings,
    workloads: list[Workload],
    seed_db: Path,
    data: Data,
    workdir: Path,
    result: dict[str, Any],
    log: Log,
) -> None:
    if mode == "postgresql":
        _run_postgres(options, settings, workloads, seed_db, data, workdir, result, log)
        return
    if mode == "scale":
        _run_scale(options, settings, workloads, seed_db, data, workdir, result, log)
        return
    only_servers = _only_servers(options)
    references = QUICK_REFERENCES if options.quick else None
    specs = servers.specs(mode, options.workers, granian=options.granian, references=references)
    specs = [s for s in specs if not only_servers or s.key in only_servers]

    def start(spec: servers.ServerSpec) -> servers.Server:
        return servers.start(spec, mode, options.workers, settings, workdir, seed_db)

    _drive(mode, specs, start, options, workloads, data, workdir, result, log)


def _run_postgres(
    options: Options,
    settings: servers.Settings,
    workloads: list[Workload],
    seed_db: Path,
    data: Data,
    workdir: Path,
    result: dict[str, Any],
    log: Log,
) -> None:
    """One process of each implementation as it ships (Python on uvicorn, `python -m app`; Node), each on its own
    copy of the seeded data in one throwaway cluster."""
    chosen = [w for w in workloads if w.key in DATABASE_BOUND]
    only_servers = _only_servers(options)
    specs = [
        s
        for s in servers.specs("single", 1, granian=False, references=set())
        if s.role == "impl" and (not only_servers or s.key in only_servers)
    ]
    if not chosen or not specs:
        return
    log("[postgresql] starting a throwaway PostgreSQL cluster and copying the seeded data into it")
    try:
        with pg.throwaway_cluster() as cluster:

            def migrate(url: str) -> None:
                first = servers.specs("single", 1, granian=False, references=set())[0]
                servers.start(first, "postgresql", 1, settings, workdir, None, database_url=url).stop()

            template = pg.seed_template(cluster, seed_db, workdir, migrate)

            def start(spec: servers.ServerSpec) -> servers.Server:
                url = pg.copy_database(cluster, template, "bench_" + spec.key.replace("/", "_").replace("-", "_"))
                return servers.start(spec, "postgresql", 1, settings, workdir, None, database_url=url)

            _drive("postgresql", specs, start, options, chosen, data, workdir, result, log)
    except pg.ClusterError as exc:
        log(f"[postgresql] skipped: {exc}")
        for spec in specs:
            result["skipped"].append({"server": spec.key, "mode": "postgresql", "role": spec.role, "reason": str(exc)})


def _run_scale(
    options: Options,
    settings: servers.Settings,
    workloads: list[Workload],
    seed_db: Path,
    data: Data,
    workdir: Path,
    result: dict[str, Any],
    log: Log,
) -> None:
    """The database-bound workloads through the balancer of the scaled-out set, and straight at one instance of
    each implementation in it."""
    chosen = [w for w in workloads if w.key in DATABASE_BOUND]
    only_servers = _only_servers(options)
    if not chosen:
        return
    log("[scale] starting PostgreSQL, 2 Python + 2 Node instances and HAProxy; copying the seeded data into it")
    try:
        with scaleout.members(settings, seed_db, workdir) as found:
            by_key = {m.spec.key: m for m in found if not only_servers or m.spec.key in only_servers}
            specs = [m.spec for m in by_key.values()]
            _drive("scale", specs, lambda spec: by_key[spec.key], options, chosen, data, workdir, result, log)
    except (scaleout.ScaleError, scaleout.ConfigError, pg.ClusterError) as exc:
        log(f"[scale] skipped: {exc}")
        result["skipped"].append({"server": scaleout.BALANCER, "mode": "scale", "role": "set", "reason": str(exc)})


def _drive(
    mode: str,
    specs: list[servers.ServerSpec],
    start: Callable[[servers.ServerSpec], servers.Target],
    options: Options,
    workloads: list[Workload],
    data: Data,
    workdir: Path,
    result: dict[str, Any],
    log: Log,
) -> None:
    """Starts the servers of one mode, warms each up, drives every workload on them alternately, stops them."""
    running: list[servers.Target] = []
    try:
        for spec in specs:
            log(f"[{mode}] starting {spec.key}")
            try:
                server = start(spec)
            except (servers.ServerError, pg.ClusterError) as exc:
                log(f"[{mode}] {spec.key} skipped: {exc}")
                result["skipped"].append({"server": spec.key, "mode": mode, "role": spec.role, "reason": str(exc)})
                continue
            running.append(server)
            result["servers"].append(describe(server))
        for server in running:
            log(f"[{mode}] warming up {server.spec.key}")
            warm_up(server, options, data, workdir)
        impls = paired([s for s in running if s.spec.role in MEASURED_ROLES])
        plan: list[tuple[Workload, int, list[servers.Target]]] = []
        for workload in workloads:
            targets = paired(running) if workload.key == "health" else impls
            plan.append((workload, options.connections, targets))
        if mode == "single":
            for connections in options.sweep:
                if connections == options.connections:
                    continue
                plan += [(BY_KEY[k], connections, impls) for k in SWEEP if BY_KEY[k] in workloads]
        for i, (workload, connections, targets) in enumerate(plan):
            # Alternate the order so that drift over the run (heat, a noisy neighbour) hits both sides alike.
            for server in targets if i % 2 == 0 else list(reversed(targets)):
                record = measure(server, workload, connections, options, data, workdir)
                result["runs"].append(record)
                log(_progress(record))
    finally:
        for server in running:
            server.stop()


def wrk_threads(mode: str) -> int:
    """wrk's threads: one against one server process, two against all cores and against the scaled-out set (and the
    single instances beside it, so that the three are driven alike)."""
    return 2 if mode in ("all", "scale") else 1


def paired(running: list[servers.Target]) -> list[servers.Target]:
    """The servers with each implementation directly followed by its idiomatic reference, the others after."""
    order = {key: i for i, key in enumerate(k for pair in PAIRS for k in pair)}
    return sorted(running, key=lambda s: order.get(s.spec.key, len(order)))


def warm_up(server: servers.Target, options: Options, data: Data, workdir: Path) -> None:
    """Drives a freshly started server through every workload it serves, so that no measured run finds it cold."""
    keys = [k for k in SERVER_WARMUP if k == "health" or server.spec.uses_db]
    if options.server_warmup_s <= 0 or not keys:
        return
    each = max(1.0, options.server_warmup_s / len(SERVER_WARMUP))  # a bare route gets its share, not all of it
    threads = wrk_threads(server.mode)
    for key in keys:
        workload = BY_KEY[key]
        name = f"{server.spec.key.replace('/', '-')}-{server.mode}-serverwarmup-{key}"
        warm = script(
            workload,
            data,
            workdir / f"{name}.lua",
            threads=threads,
            db_path=server.db_path,
            database_url=server.database_url,
        )
        try:
            wrk.run(
                server.url + workload.path,
                warm,
                connections=options.connections,
                threads=threads,
                duration_s=each,
                timeout_s=workload.timeout_s,
            )
        except wrk.WrkError:
            pass  # the measured runs that follow record what is wrong with this server
        wait_idle(server)


def measure(
    server: servers.Target, workload: Workload, connections: int, options: Options, data: Data, workdir: Path
) -> dict[str, Any]:
    threads = min(wrk_threads(server.mode), connections)
    name = f"{server.spec.key.replace('/', '-')}-{server.mode}-{workload.key}-{connections}"
    url = server.url + workload.path
    record: dict[str, Any] = {
        "mode": server.mode,
        "server": server.spec.key,
        "framework": server.spec.framework,
        "language": server.spec.language,
        "http_server": server.spec.server,
        "role": server.spec.role,
        "workers": server.workers,
        "instances": server.instances,
        "database": "postgresql" if server.database_url else "sqlite",
        "workload": workload.key,
        "request": workload.title,
        "connections": connections,
        "wrk_threads": threads,
    }
    try:
        if options.warmup_s > 0:
            warm = script(
                workload,
                data,
                workdir / f"{name}-warmup.lua",
                threads=threads,
                db_path=server.db_path,
                database_url=server.database_url,
            )
            wrk.run(
                url,
                warm,
                connections=connections,
                threads=threads,
                duration_s=options.warmup_s,
                timeout_s=workload.timeout_s,
            )
            # Requests wrk abandoned at the end of the warm-up may still be queued (bcrypt above all): measure
            # from an idle server, and read the task versions only after the last PATCH has landed.
            wait_idle(server)
        measured = script(
            workload,
            data,
            workdir / f"{name}.lua",
            threads=threads,
            db_path=server.db_path,
            database_url=server.database_url,
        )
        cpu_before = server.cpu_seconds()
        with servers.peak_rss([server]) as peaks:
            out = wrk.run(
                url,
                measured,
                connections=connections,
                threads=threads,
                duration_s=options.duration_s,
                timeout_s=workload.timeout_s,
            )
        cpu = server.cpu_seconds() - cpu_before
    except (wrk.WrkError, OSError, ValueError) as exc:
        return {**record, "valid": False, "error": str(exc)}
    alive = server.alive()
    record.update(
        requests=out.requests,
        duration_s=round(out.duration_s, 3),
        rps=round(out.rps, 1),
        latency_ms={k: round(v, 3) for k, v in out.latency_ms.items()},
        errors=out.errors,
        non_2xx=out.errors["status"],
        peak_rss_mb=round(peaks[server.spec.key] / 2**20, 1),
        server_cpu_s=round(cpu, 2),
        server_cpu_of=server.cpu_of,
        # CPU per answer is far less sensitive than req/s to other work on a shared machine.
        server_cpu_us_per_request=round(cpu / out.requests * 1e6, 1) if out.requests else None,
        loadgen_cpu_s=round(out.loadgen_cpu_s, 2),
        valid=out.valid and alive,
    )
    if not alive:
        record["error"] = f"the server died during the run:\n{server.log_tail()}"
    return record


def wait_idle(server: servers.Target, *, timeout: float = 60, busy: float = 0.05, step: float = 0.25) -> None:
    """Returns once the server used less than `busy` of a core over `step` seconds (or after `timeout`)."""
    deadline = time.monotonic() + timeout
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(step)
        now = server.cpu_seconds()
        if now - before < busy * step:
            return
        before = now


def _progress(r: dict[str, Any]) -> str:
    head = f"[{r['mode']}] {r['workload']:<12} c={r['connections']:<3} {r['server']:<22}"
    if "rps" not in r:
        return f"{head} FAILED: {r.get('error', '')[:300]}"
    lat = r["latency_ms"]
    flag = "" if r["valid"] else f"  INVALID errors={r['errors']}"
    return (
        f"{head} {r['rps']:>9.0f} req/s  p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms  "
        f"rss {r['peak_rss_mb']:.0f} MB{flag}"
    )


def describe(server: servers.Target) -> dict[str, Any]:
    spec = server.spec
    return {
        "key": spec.key,
        "mode": server.mode,
        "framework": spec.framework,
        "language": spec.language,
        "http_server": spec.server,
        "role": spec.role,
        "workers": server.workers,
        "instances": server.instances,
        "database": "postgresql" if server.database_url else "sqlite",
        "command": [p.replace("{port}", str(server.port)) for p in spec.command],
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "node": _version(["node", "--version"]),
        "wrk": _version(["wrk", "--version"]).split(" [")[0],
        "executable": sys.executable,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def source(tree: Path) -> dict[str, Any]:
    """Which code was measured: the tree, its commit, and whether the implementations had uncommitted changes."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True, timeout=30)
        except OSError:
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    status = git("status", "--porcelain", "--", "python-impl", "node-impl", "db", "openapi.yaml")
    return {"tree": str(tree), "commit": git("rev-parse", "HEAD") or None, "dirty": bool(status)}


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else ""
