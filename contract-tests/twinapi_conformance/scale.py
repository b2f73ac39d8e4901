"""A scaled-out deployment on this machine: N instances of each implementation on one throwaway PostgreSQL, behind
HAProxy on loopback, all on free ports and stopped by PID when the block ends however it ends.

The shape is production's: stateless instances sharing one JWT secret and one DATABASE_URL, all started at once
(the migrations' advisory lock makes exactly one of them migrate), HTTP health checks on the readiness path, round
robin without sticky sessions, and retries only of requests that never reached a server (a connection that could
not be made), so that no write is ever sent twice. The balancer adds X-Forwarded-For and the instances trust it
from the balancer's address only (TRUSTED_PROXIES).

`python -m twinapi_conformance.scale` runs it in the foreground until Ctrl-C (`make scale`); tests and the
benchmark use `deployed()`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from twinapi_conformance import config as configuration
from twinapi_conformance.postgres import Cluster, ClusterError, throwaway_cluster
from twinapi_conformance.servers import LOOPBACK, POLL_INTERVAL, ServerError, free_port, render

HAPROXY_MISSING = "HAProxy is not installed: apt-get install haproxy (or `make scale-setup`)"
# Health checks: every CHECK_INTERVAL, DOWN after FALL failures in a row, UP again after RISE successes.
CHECK_INTERVAL_MS = 500
FALL = 2
RISE = 2
# The balancer's timeouts against the kits' own (their defaults, Limits in env.py and env.ts): a client's head gets
# the kits' header timeout, a stalled client body outlasts the kits' body timeout (30 s, which answers 408 itself),
# and a server's answer outlasts the longest wait for a pooled connection plus the statement timeout (5 + 30 s,
# after which the instance answers 503 itself).
HAPROXY_TIMEOUTS = {
    "connect": "2s",
    "client": "35s",
    "server": "40s",
    "http-request": "10s",
    "http-keep-alive": "4s",
    "queue": "5s",
}
# HAProxy closes half of its idle connections to the instances every POOL_PURGE_DELAY; the instances keep an idle
# connection open much longer than that, so that an instance never closes one just as the balancer reuses it (the
# request would be lost on the way, and not retried: it may have arrived).
POOL_PURGE_DELAY = "5s"
INSTANCE_KEEP_ALIVE_SECONDS = "65"
RETRIES = 3
SERVED_BY = "X-Served-By"


class ScaleError(RuntimeError):
    """The deployment could not be started; the message is one line naming what is missing or what failed."""


@dataclass
class Instance:
    name: str  # "<implementation>-<n>", also its server name in HAProxy
    kind: str  # the implementation's name in the harness configuration
    url: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Deployment:
    balancer_url: str
    instances: list[Instance]
    cluster: Cluster
    database_url: str
    jwt_secret: str
    work_dir: Path
    haproxy_pid: int
    stats_socket: Path

    def server_states(self) -> dict[str, str]:
        """Each instance's state as HAProxy's health checks see it: "UP", "DOWN", or a transition ("UP 1/2")."""
        csv = _admin(self.stats_socket, "show stat -1 4 -1")
        lines = [line for line in csv.splitlines() if line and not line.startswith("#")]
        header = csv.splitlines()[0].lstrip("# ").split(",")
        name, status = header.index("svname"), header.index("status")
        return {row.split(",")[name]: row.split(",")[status] for row in lines}

    def wait_for_states(self, wanted: dict[str, str], timeout: float) -> dict[str, str]:
        """Polls the health-check states until each named instance has its wanted state, or the timeout; returns
        the last states seen."""
        deadline = time.monotonic() + timeout
        states = self.server_states()
        while time.monotonic() < deadline and any(states.get(name) != state for name, state in wanted.items()):
            time.sleep(POLL_INTERVAL)
            states = self.server_states()
        return states


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)
    if found is None:
        raise ScaleError(HAPROXY_MISSING)
    return found


def haproxy_config(port: int, instances: list[Instance], stats_socket: Path, readiness_path: str) -> str:
    """The balancer's configuration: HTTP on loopback, round robin over the instances with health checks."""
    timeouts = "".join(f"    timeout {name} {value}\n" for name, value in HAPROXY_TIMEOUTS.items())
    servers = "".join(f"    server {i.name} {LOOPBACK}:{i.port}\n" for i in instances)
    return (
        "# Written by twinapi_conformance.scale for one run; not a file to edit.\n"
        "global\n"
        "    maxconn 4096\n"
        f"    stats socket {stats_socket} mode 600 level admin\n"
        "defaults\n"
        "    mode http\n"
        f"{timeouts}"
        # Retried (on another server) only when no connection could be made: the request was never sent. A request
        # that reached a server and lost its answer is not sent again, whatever its method, so no write doubles.
        f"    retries {RETRIES}\n"
        "    retry-on conn-failure\n"
        "    option redispatch 1\n"
        # The client's address, for the instances' TRUSTED_PROXIES; appended to what the client sent.
        "    option forwardfor\n"
        "    http-reuse safe\n"
        "frontend api\n"
        f"    bind {LOOPBACK}:{port}\n"
        "    default_backend instances\n"
        "backend instances\n"
        "    balance roundrobin\n"
        # Which instance answered, so that a test can say where a failure came from.
        f"    http-response set-header {SERVED_BY} %[srv_name]\n"
        "    option httpchk\n"
        f"    http-check send meth GET uri {readiness_path} ver HTTP/1.1 hdr Host {LOOPBACK}\n"
        "    http-check expect status 200\n"
        f"    default-server check inter {CHECK_INTERVAL_MS}ms fall {FALL} rise {RISE}"
        f" pool-purge-delay {POOL_PURGE_DELAY}\n"
        f"{servers}"
    )


@contextmanager
def deployed(
    config: configuration.Config,
    *,
    per_implementation: int = 2,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
) -> Iterator[Deployment]:
    """`per_implementation` instances of each configured implementation, on one fresh PostgreSQL database, behind
    HAProxy; `env` overrides the instances' settings. Everything started is stopped when the block ends."""
    binary = haproxy_binary()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="twinapi-scale-")))
        logs = log_dir or work
        logs.mkdir(parents=True, exist_ok=True)
        try:
            cluster = stack.enter_context(throwaway_cluster())
            database = cluster.create_database("scale")
        except ClusterError as exc:
            raise ScaleError(f"postgresql: {exc}") from None
        secret = secrets.token_urlsafe(48)
        overrides = {
            "DATABASE_URL": database,
            "JWT_SECRET": secret,
            # The instances see every request come from the balancer, on loopback.
            "TRUSTED_PROXIES": LOOPBACK,
            "KEEP_ALIVE_TIMEOUT_SECONDS": INSTANCE_KEEP_ALIVE_SECONDS,
            **(env or {}),
        }
        instances: list[Instance] = []
        stack.callback(_stop_all, instances, config.server.stop_timeout)
        # All at once: the migrations' advisory lock is what keeps them from migrating twice.
        for impl in config.implementations.values():
            for number in range(1, per_implementation + 1):
                instances.append(_spawn(impl, config.server, f"{impl.name}-{number}", overrides, logs))
        deadline = time.monotonic() + config.server.startup_timeout
        for instance in instances:
            _wait_ready(instance, config.server.readiness_path, deadline)
        port = free_port()
        stats = work / "haproxy.sock"
        haproxy_cfg = work / "haproxy.cfg"
        haproxy_cfg.write_text(haproxy_config(port, instances, stats, config.server.readiness_path), encoding="utf-8")
        _check_config(binary, haproxy_cfg)
        with open(logs / "haproxy.log", "wb") as log:
            balancer = subprocess.Popen(  # noqa: S603 - Debian's haproxy with our own configuration
                [binary, "-db", "-f", str(haproxy_cfg)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        stack.callback(_stop_process, balancer, config.server.stop_timeout)
        deployment = Deployment(
            balancer_url=f"http://{LOOPBACK}:{port}",
            instances=instances,
            cluster=cluster,
            database_url=database,
            jwt_secret=secret,
            work_dir=work,
            haproxy_pid=balancer.pid,
            stats_socket=stats,
        )
        _wait_balanced(deployment, balancer, logs / "haproxy.log", deadline)
        yield deployment


def _spawn(
    impl: configuration.Implementation,
    settings: configuration.ServerSettings,
    name: str,
    overrides: dict[str, str],
    log_dir: Path,
) -> Instance:
    port = free_port()
    values = {"port": str(port), "db_path": "", "database_url": overrides["DATABASE_URL"]}
    values |= {"python": sys.executable, "host": LOOPBACK}
    templates = {**settings.env, **impl.env}
    env = {**os.environ, **{key: render(value, values) for key, value in templates.items()}, **overrides}
    if env.get("HOST") != LOOPBACK:
        raise ScaleError(f"{name}: HOST must be {LOOPBACK}; the deployment listens on loopback only")
    log_path = log_dir / f"{name}.server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the command comes from the harness configuration
            [render(part, values) for part in impl.command],
            cwd=impl.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Instance(
        name=name, kind=impl.name, url=f"http://{LOOPBACK}:{port}", port=port, log_path=log_path, process=process
    )


def _wait_ready(instance: Instance, readiness_path: str, deadline: float) -> None:
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not instance.alive():
                raise ScaleError(
                    f"{instance.name} exited with {instance.process.returncode} before it was ready; "
                    f"log {instance.log_path}: {_tail(instance.log_path)}"
                )
            try:
                if client.get(instance.url + readiness_path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL)
    raise ScaleError(f"{instance.name} was not ready in time; log {instance.log_path}: {_tail(instance.log_path)}")


def _check_config(binary: str, path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - haproxy -c on our own configuration
        [binary, "-c", "-q", "-f", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        raise ScaleError(f"haproxy refused {path}: {(result.stderr or result.stdout).strip()}")


def _wait_balanced(deployment: Deployment, balancer: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    """Until HAProxy's health checks have every instance UP."""
    wanted = {instance.name: "UP" for instance in deployment.instances}
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        if balancer.poll() is not None:
            raise ScaleError(f"haproxy exited with {balancer.returncode}; log {log}: {_tail(log)}")
        try:
            states = deployment.server_states()
        except OSError:  # its socket is not there yet
            states = {}
        if states == wanted:
            return
        time.sleep(POLL_INTERVAL)
    raise ScaleError(f"haproxy's health checks did not see every instance UP in time: {states}")


def _admin(path: Path, command: str) -> str:
    """One command on HAProxy's admin socket, its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def _stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout`; by this PID only."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


def _stop_all(instances: list[Instance], timeout: float) -> None:
    # SIGTERM to all first, so that they drain side by side, then wait for each.
    for instance in instances:
        if instance.alive():
            os.kill(instance.pid, signal.SIGTERM)
    for instance in instances:
        _stop_process(instance.process, timeout)


def _tail(path: Path, lines: int = 5) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return " | ".join(text[-lines:])


def main(argv: list[str] | None = None) -> int:
    """`python -m twinapi_conformance.scale`: the deployment in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m twinapi_conformance.scale", description=__doc__)
    parser.add_argument("--config", type=Path, default=configuration.DEFAULT_CONFIG)
    parser.add_argument("--instances", type=int, default=2, help="instances of each implementation (default: 2)")
    args = parser.parse_args(argv)
    if not 1 <= args.instances <= 16:
        parser.error("--instances must be from 1 to 16")
    config = configuration.load(args.config)
    stop = False

    def interrupted(sig: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        with deployed(config, per_implementation=args.instances, env={"LOG_LEVEL": "info"}) as deployment:
            print(f"balancer  {deployment.balancer_url}  (haproxy, pid {deployment.haproxy_pid})")
            for instance in deployment.instances:
                print(f"{instance.name:<9} {instance.url}  pid {instance.pid}  log {instance.log_path}")
            print(f"database  {deployment.database_url}")
            print("Ctrl-C stops everything above.", flush=True)
            reported: set[str] = set()
            while not stop:
                for instance in deployment.instances:
                    if not instance.alive() and instance.name not in reported:
                        reported.add(instance.name)
                        print(f"{instance.name} exited ({instance.process.returncode}); HAProxy routes around it")
                time.sleep(0.5)
    except (ScaleError, ServerError, configuration.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
