"""Every server of the benchmark as a real process: how to start it, readiness, its process tree, stopping it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil  # type: ignore[import-untyped]

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
# The implementations under test: this checkout's, or another one's (`run --tree`, e.g. a clean snapshot of HEAD
# while the working tree is being edited). Python servers get it first on PYTHONPATH, ahead of the editable install.
PYTHON_IMPL = REPO / "python-impl"
NODE_IMPL = REPO / "node-impl"


def use_tree(root: Path) -> None:
    global PYTHON_IMPL, NODE_IMPL
    PYTHON_IMPL, NODE_IMPL = root / "python-impl", root / "node-impl"


NODE_REFS = BENCH / "node"
HOST = "127.0.0.1"


class ServerError(Exception):
    """A server could not be built, did not become ready, or died."""


@dataclass(frozen=True)
class ServerSpec:
    key: str  # unique in a run, e.g. "python-impl/granian"
    framework: str  # the table's first column
    language: str
    server: str  # the HTTP server underneath: uvicorn, granian, gunicorn, node
    role: str  # "impl", "api" (the whole API written idiomatically) or "ref" (a bare route)
    command: tuple[str, ...]
    cwd: Path
    uses_db: bool = False
    extra_env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Settings:
    """What every server gets in its environment (CONVENTIONS' variables)."""

    jwt_secret: str
    jwt_ttl_seconds: int
    bcrypt_rounds: int
    log_level: str


def node_impl_entry() -> Path:
    """The Node implementation's server script, as its package.json "start" script names it."""
    scripts = json.loads((NODE_IMPL / "package.json").read_text())["scripts"]
    words = shlex.split(scripts.get("start", ""))
    if len(words) < 2 or words[0] != "node":
        raise ServerError(f'node-impl/package.json "start" is not `node <script>`: {scripts.get("start")!r}')
    return NODE_IMPL / words[-1]


def specs(mode: str, workers: int, *, granian: bool, references: set[str] | None) -> list[ServerSpec]:
    """The servers of one mode ("single" or "all"); references=None means every reference."""
    py = sys.executable
    n = str(workers if mode == "all" else 1)

    def uvicorn(target: str, *flags: str) -> tuple[str, ...]:
        return (
            py,
            "-m",
            "uvicorn",
            target,
            *flags,
            "--host",
            HOST,
            "--port",
            "{port}",
            "--workers",
            n,
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        )

    def granian_cmd(target: str, *flags: str) -> tuple[str, ...]:
        return (
            py,
            "-m",
            "granian",
            "--interface",
            "asgi",
            target,
            *flags,
            "--host",
            HOST,
            "--port",
            "{port}",
            "--workers",
            n,
            "--loop",
            "uvloop",
            "--no-ws",
            "--log-level",
            "warning",
            "--no-access-log",
        )

    def node(script: Path) -> tuple[str, ...]:
        return ("node", str(script)) if mode == "single" else ("node", str(NODE_REFS / "cluster.js"), str(script))

    node_env = (("NODE_ENV", "production"), ("WORKERS", n))
    factory = "twinapi_bench.pyimpl:create"
    # `python -m app` is how the Python implementation ships; only uvicorn's supervisor runs several workers.
    py_uvicorn = (py, "-m", "app") if mode == "single" else uvicorn(factory, "--factory")
    out = [
        ServerSpec(
            "python-impl/uvicorn",
            "Python impl (kit runtime)",
            "Python",
            "uvicorn",
            "impl",
            py_uvicorn,
            PYTHON_IMPL,
            uses_db=True,
        ),
        ServerSpec(
            "node-impl",
            "Node impl (Fastify + glue)",
            "Node",
            "node",
            "impl",
            node(node_impl_entry()),
            NODE_IMPL,
            uses_db=True,
            extra_env=node_env,
        ),
    ]
    if granian:
        out.append(
            ServerSpec(
                "python-impl/granian",
                "Python impl (kit runtime)",
                "Python",
                "granian",
                "impl",
                granian_cmd(factory, "--factory"),
                PYTHON_IMPL,
                uses_db=True,
            )
        )
    # The whole API written as each framework's docs teach it: the denominators of the like-for-like ratios.
    out += [
        ServerSpec(
            "fastapi-tasks/uvicorn",
            "FastAPI, whole API (idiomatic)",
            "Python",
            "uvicorn",
            "api",
            uvicorn("twinapi_bench.refs.fastapi_tasks:app"),
            BENCH,
            uses_db=True,
        ),
        ServerSpec(
            "fastify-tasks",
            "Fastify, whole API (idiomatic)",
            "Node",
            "node",
            "api",
            node(NODE_REFS / "fastify-tasks.js"),
            NODE_REFS,
            uses_db=True,
            extra_env=node_env,
        ),
    ]
    if granian:
        out.append(
            ServerSpec(
                "fastapi-tasks/granian",
                "FastAPI, whole API (idiomatic)",
                "Python",
                "granian",
                "api",
                granian_cmd("twinapi_bench.refs.fastapi_tasks:app"),
                BENCH,
                uses_db=True,
            )
        )
    refs = [
        ServerSpec(
            "fastify",
            "Fastify (response schema)",
            "Node",
            "node",
            "ref",
            node(NODE_REFS / "fastify.js"),
            NODE_REFS,
            extra_env=node_env,
        ),
        ServerSpec(
            "node-http",
            "node:http (raw)",
            "Node",
            "node",
            "ref",
            node(NODE_REFS / "http.js"),
            NODE_REFS,
            extra_env=node_env,
        ),
        ServerSpec(
            "express", "Express 5", "Node", "node", "ref", node(NODE_REFS / "express.js"), NODE_REFS, extra_env=node_env
        ),
        ServerSpec(
            "hono",
            "Hono (node-server)",
            "Node",
            "node",
            "ref",
            node(NODE_REFS / "hono.js"),
            NODE_REFS,
            extra_env=node_env,
        ),
        ServerSpec(
            "fastapi/uvicorn",
            "FastAPI (response_model)",
            "Python",
            "uvicorn",
            "ref",
            uvicorn("twinapi_bench.refs.fastapi_app:app"),
            BENCH,
        ),
        ServerSpec(
            "asgi/uvicorn", "raw ASGI", "Python", "uvicorn", "ref", uvicorn("twinapi_bench.refs.asgi_app:app"), BENCH
        ),
        ServerSpec(
            "fastapi/granian",
            "FastAPI (response_model)",
            "Python",
            "granian",
            "ref",
            granian_cmd("twinapi_bench.refs.fastapi_app:app"),
            BENCH,
        ),
        ServerSpec(
            "asgi/granian",
            "raw ASGI",
            "Python",
            "granian",
            "ref",
            granian_cmd("twinapi_bench.refs.asgi_app:app"),
            BENCH,
        ),
        ServerSpec(
            "drf/gunicorn",
            "Django REST framework",
            "Python",
            "gunicorn",
            "ref",
            (
                py,
                "-m",
                "gunicorn",
                "--bind",
                f"{HOST}:{{port}}",
                "--workers",
                n,
                "--no-control-socket",
                "--log-level",
                "warning",
                "twinapi_bench.refs.drf_app:application",
            ),
            BENCH,
        ),
    ]
    out += [r for r in refs if (references is None or r.key in references) and (granian or r.server != "granian")]
    return out


def build_node_impl() -> None:
    """`npm run build` in node-impl (TypeScript to dist/)."""
    _npm(["run", "--silent", "build"], NODE_IMPL, "node-impl build")


def install_node_refs() -> None:
    """`npm ci` for the Node reference servers when their node_modules is missing (a fresh clone)."""
    if not (NODE_REFS / "node_modules").is_dir():
        _npm(["ci", "--no-audit", "--no-fund"], NODE_REFS, "bench/node npm ci")


def _npm(args: list[str], cwd: Path, what: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ServerError("npm is not installed")
    done = subprocess.run([npm, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ServerError(f"{what} failed: {(done.stdout + done.stderr).strip()[-800:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Target(Protocol):
    """What the measuring code needs of whatever answers a run: one server, or a deployment's balancer."""

    spec: ServerSpec
    mode: str
    workers: int
    port: int
    db_path: Path | None
    database_url: str | None
    instances: int
    cpu_of: str

    @property
    def url(self) -> str: ...

    def cpu_seconds(self) -> float: ...

    def rss_bytes(self) -> int: ...

    def alive(self) -> bool: ...

    def log_tail(self, lines: int = 15) -> str: ...

    def stop(self) -> None: ...


def process_tree(roots: Iterable[int], known: dict[int, psutil.Process]) -> list[psutil.Process]:
    """The live processes of each root PID and their descendants; `known` keeps the handles, so that CPU deltas
    stay exact across calls."""
    for pid in roots:
        try:
            root = known.setdefault(pid, psutil.Process(pid))
            for child in root.children(recursive=True):
                known.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass
    return [p for p in known.values() if p.is_running()]


def cpu_seconds(procs: Iterable[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def rss_bytes(procs: Iterable[psutil.Process]) -> int:
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@dataclass
class Server:
    """One started server; `stop()` ends its whole process group (it was started as the group's leader)."""

    spec: ServerSpec
    mode: str
    workers: int
    port: int
    db_path: Path | None
    proc: subprocess.Popen[bytes]
    log_path: Path
    database_url: str | None = None  # PostgreSQL's, when the server is not on its SQLite copy (db_path)
    instances: int = 1
    cpu_of: str = "the server's process tree"  # what server_cpu_s and peak_rss_mb add up
    _procs: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def tree(self) -> list[psutil.Process]:
        """The server's processes (a supervisor and its workers)."""
        return process_tree([self.proc.pid], self._procs)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.tree())

    def rss_bytes(self) -> int:
        return rss_bytes(self.tree())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        # Workers of a supervisor that died first are still in the group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start(
    spec: ServerSpec,
    mode: str,
    workers: int,
    settings: Settings,
    workdir: Path,
    seed_db: Path | None,
    *,
    startup_timeout: float = 60,
    db_path: Path | None = None,
    database_url: str | None = None,
) -> Server:
    """Starts the server on a free loopback port with a fresh copy of the seeded database; returns once ready.

    db_path instead of seed_db: serve that file as it is (the first start, which applies the migrations);
    database_url instead of both: serve that PostgreSQL database.
    """
    name = f"{spec.key.replace('/', '-')}-{mode}"
    if spec.uses_db and db_path is None and database_url is None:
        if seed_db is None:
            raise ServerError(f"{spec.key} needs a database")
        db_path = workdir / f"{name}.db"
        shutil.copyfile(seed_db, db_path)
    port = free_port()
    env = {
        **os.environ,
        "HOST": HOST,
        "PORT": str(port),
        "DATABASE_URL": database_url or f"sqlite:///{db_path or workdir / 'unused.db'}",
        "JWT_SECRET": settings.jwt_secret,
        "JWT_TTL_SECONDS": str(settings.jwt_ttl_seconds),
        "BCRYPT_ROUNDS": str(settings.bcrypt_rounds),
        "LOG_LEVEL": settings.log_level,
        "APP_ENV": "production",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PYTHON_IMPL), os.environ.get("PYTHONPATH")])),
        **dict(spec.extra_env),
    }
    command = [part.replace("{port}", str(port)) for part in spec.command]
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=spec.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Server(spec, mode, workers if mode == "all" else 1, port, db_path, proc, log_path, database_url)
    try:
        wait_ready(server, startup_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def wait_ready(server: Server, timeout: float) -> None:
    """GET /health == 200; in all-cores mode also until every worker is up (so none starts under load)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise ServerError(f"{server.spec.key} exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as answer:
                if answer.status == 200 and _workers_up(server):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise ServerError(f"{server.spec.key} was not ready after {timeout:.0f} s:\n{server.log_tail()}")


def _workers_up(server: Server) -> bool:
    # A supervisor and its workers; the warm-up that follows gives late workers time to finish importing.
    return server.workers <= 1 or len(server.tree()) >= server.workers + 1


@contextmanager
def peak_rss(servers: list[Target], interval: float = 0.1) -> Iterator[dict[str, int]]:
    """Samples the RSS of each server's process tree while the block runs; yields {key: peak bytes}."""
    peaks = {s.spec.key: s.rss_bytes() for s in servers}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            for s in servers:
                peaks[s.spec.key] = max(peaks[s.spec.key], s.rss_bytes())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()
        for s in servers:
            peaks[s.spec.key] = max(peaks[s.spec.key], s.rss_bytes())
