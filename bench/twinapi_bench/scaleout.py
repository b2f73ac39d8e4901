"""The scaled-out set, what the `scale` mode of a run measures (`python -m twinapi_bench run --mode scale`).

The deployment is the harness's (twinapi_conformance.scale, as `make scale` runs it): 2 Python and 2 Node instances
on one throwaway PostgreSQL behind HAProxy, with the run's secret, bcrypt cost and log level, filled with the run's
seeded rows. Three targets are measured on it: the balancer, and one instance of each implementation straight, so
that the three figures share the database, the data and the machine. It runs this checkout's implementations, the
ones the harness configuration names (`run --tree` does not apply to it).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from twinapi_conformance.config import ConfigError, load
from twinapi_conformance.scale import ScaleError, deployed

from twinapi_bench import pg, servers

__all__ = ["ConfigError", "Member", "ScaleError", "members"]

CONFIG = servers.REPO / "contract-tests" / "conformance.toml"
PER_IMPLEMENTATION = 2
BALANCER = "haproxy"
# The harness's implementation names -> the benchmark's keys of the same servers (they run the same command).
KEYS = {"python": "python-impl/uvicorn", "node": "node-impl"}


@dataclass
class Member:
    """One target on the deployment (servers.Target): the balancer with every instance behind it, or one instance.
    Its CPU and memory are its processes' (for the balancer: HAProxy's and all the instances'); PostgreSQL's own
    are in no figure, as in the other modes."""

    spec: servers.ServerSpec
    port: int
    pids: tuple[int, ...]
    logs: tuple[Path, ...]
    instances: int
    cpu_of: str
    mode: str = "scale"
    workers: int = 1
    db_path: Path | None = None
    database_url: str | None = None
    _procs: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{servers.HOST}:{self.port}"

    def cpu_seconds(self) -> float:
        return servers.cpu_seconds(servers.process_tree(self.pids, self._procs))

    def rss_bytes(self) -> int:
        return servers.rss_bytes(servers.process_tree(self.pids, self._procs))

    def alive(self) -> bool:
        running = {p.pid for p in servers.process_tree(self.pids, self._procs)}
        return all(pid in running for pid in self.pids)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(f"{log.name}: {_tail(log, lines)}" for log in self.logs)

    def stop(self) -> None:
        """Nothing: the deployment stops all it started when its block ends."""


@contextmanager
def members(settings: servers.Settings, seed_db: Path, workdir: Path) -> Iterator[list[Member]]:
    """The deployment, started and filled with the seeded rows; yields the balancer and one instance of each
    implementation. Raises ScaleError (HAProxy or PostgreSQL missing, an instance that did not start) or
    ConfigError before anything is measured."""
    config = load(CONFIG)
    env = {
        "JWT_SECRET": settings.jwt_secret,
        "JWT_TTL_SECONDS": str(settings.jwt_ttl_seconds),
        "BCRYPT_ROUNDS": str(settings.bcrypt_rounds),
        "LOG_LEVEL": settings.log_level,
        "APP_ENV": "production",
    }
    logs = workdir / "scale"
    with deployed(config, per_implementation=PER_IMPLEMENTATION, env=env, log_dir=logs) as deployment:
        # The instances applied the migrations when they started; the rows are the other modes' own.
        pg.fill(deployment.cluster, deployment.database_url.rsplit("/", 1)[1], seed_db, workdir)
        impl_specs = {s.key: s for s in servers.specs("single", 1, granian=False, references=set())}
        count = len(deployment.instances)
        found = [
            Member(
                servers.ServerSpec(
                    BALANCER,
                    f"HAProxy, {PER_IMPLEMENTATION} Python + {PER_IMPLEMENTATION} Node instances",
                    "Python + Node",
                    "haproxy",
                    "set",
                    ("haproxy", "-db", "-f", str(deployment.work_dir / "haproxy.cfg")),
                    deployment.work_dir,
                    uses_db=True,
                ),
                int(deployment.balancer_url.rsplit(":", 1)[1]),
                (deployment.haproxy_pid, *(i.pid for i in deployment.instances)),
                (logs / "haproxy.log", *(i.log_path for i in deployment.instances)),
                count,
                f"HAProxy and all {count} instances behind it (PostgreSQL not included)",
                database_url=deployment.database_url,
            )
        ]
        for kind, key in KEYS.items():
            instance = next(i for i in deployment.instances if i.kind == kind)
            impl = config.implementations[kind]
            command = tuple(part.replace("{python}", sys.executable) for part in impl.command)
            found.append(
                Member(
                    dataclasses.replace(impl_specs[key], command=command, cwd=impl.cwd),
                    instance.port,
                    (instance.pid,),
                    (instance.log_path,),
                    1,
                    f"the instance {instance.name} (PostgreSQL not included)",
                    database_url=deployment.database_url,
                )
            )
        yield found


def _tail(path: Path, lines: int) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
