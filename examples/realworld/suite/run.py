"""RealWorld's official Postman collection, run by newman against each Conduit server on a fresh database.

The servers start as the conformance harness starts them (contract-tests/conformance.toml: command, working
directory, environment, readiness), each on a free loopback port and a new database file. The collection runs with
the global variables upstream's run-api-tests.sh sets and no delay between requests. newman's JUnit report goes to
the reports folder; one line per server gives the figures. Exit status 1 when any request or assertion failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twinapi_conformance import config as harness_config
from twinapi_conformance import servers

PROJECT = Path(__file__).resolve().parent.parent
NEWMAN = PROJECT / "suite" / "node_modules" / "newman" / "bin" / "newman.js"
# Upstream's defaults (run-api-tests.sh): a username unique per run, its email, a fixed password.
PASSWORD = "password"
# One run of the 32 requests takes seconds; this bounds a server that stops answering.
NEWMAN_TIMEOUT = 300


class SuiteError(RuntimeError):
    """The collection could not be run against a server (it did not start, or newman did not finish)."""


@dataclasses.dataclass(frozen=True)
class Figures:
    requests: int
    failed_requests: int
    assertions: int
    failed_assertions: int
    seconds: float

    @property
    def passed(self) -> bool:
        return self.failed_requests == 0 and self.failed_assertions == 0

    def line(self, name: str) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"{name}: {verdict}: {self.requests} requests ({self.failed_requests} failed), "
            f"{self.assertions} assertions ({self.failed_assertions} failed), {self.seconds:.2f} s"
        )


def figures_of(summary: dict[str, object]) -> Figures:
    run = summary["run"]
    assert isinstance(run, dict)
    stats, timings = run["stats"], run["timings"]
    return Figures(
        requests=int(stats["requests"]["total"]),
        failed_requests=int(stats["requests"]["failed"]),
        assertions=int(stats["assertions"]["total"]),
        failed_assertions=int(stats["assertions"]["failed"]),
        seconds=(float(timings["completed"]) - float(timings["started"])) / 1000,
    )


def run_newman(collection: Path, api_url: str, junit: Path, work: Path) -> Figures:
    username = f"u{int(time.time())}"
    summary = work / "newman.json"
    command = [
        "node",
        str(NEWMAN),
        "run",
        str(collection),
        # No delay between requests (upstream's DELAY_REQUEST=0): newman's default, and the only way to ask for it,
        # since its CLI refuses `--delay-request 0` ("must be a positive integer").
        "--global-var",
        f"APIURL={api_url}",
        "--global-var",
        f"USERNAME={username}",
        "--global-var",
        f"EMAIL={username}@mail.com",
        "--global-var",
        f"PASSWORD={PASSWORD}",
        "--reporters",
        "cli,junit,json",
        "--reporter-junit-export",
        str(junit),
        "--reporter-json-export",
        str(summary),
        "--color",
        "off",
        "--disable-unicode",
    ]
    try:
        subprocess.run(command, check=False, timeout=NEWMAN_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SuiteError(f"newman did not finish within {NEWMAN_TIMEOUT} s") from None
    if not summary.is_file():
        raise SuiteError(f"newman wrote no summary ({summary}): see its output above")
    return figures_of(json.loads(summary.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True, help="Conduit.postman_collection.json")
    parser.add_argument("--config", type=Path, default=PROJECT / "contract-tests" / "conformance.toml")
    parser.add_argument(
        "--only",
        action="append",
        help="run against this implementation only (repeatable)",
    )
    args = parser.parse_args(argv)

    collection = args.collection.resolve()
    if not collection.is_file():
        print(f"error: no Postman collection at {collection}", file=sys.stderr)
        return 2
    if not NEWMAN.is_file():
        print(
            f"error: newman is not installed at {NEWMAN}: run `make test-realworld`, which installs it",
            file=sys.stderr,
        )
        return 2
    conf = harness_config.load(args.config)
    names = args.only or sorted(conf.implementations)
    unknown = [name for name in names if name not in conf.implementations]
    if unknown:
        print(
            f"error: no implementation {', '.join(unknown)} in {args.config}",
            file=sys.stderr,
        )
        return 2
    reports = conf.reports / "realworld"
    reports.mkdir(parents=True, exist_ok=True)
    # A fresh database per server, always (the harness's {database_url}: a new SQLite file for each run); a secret of
    # its own when the harness settings name none.
    chosen = {name: value for name, value in conf.server.env.items() if name not in ("DATABASE_PATH", "DATABASE_URL")}
    env = {"JWT_SECRET": secrets.token_urlsafe(32), **chosen, "DATABASE_URL": "{database_url}"}
    settings = dataclasses.replace(conf.server, env=env)

    results: dict[str, Figures | str] = {}
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"conduit-suite-{name}-") as tmp:
            work = Path(tmp)
            print(f"== {name}: RealWorld's Postman collection", flush=True)
            impl = conf.implementations[name]
            try:
                with servers.started(impl, settings, db_path=work / "conduit.db", log_dir=reports) as server:
                    results[name] = run_newman(collection, server.base_url, reports / f"{name}.junit.xml", work)
            except (servers.ServerError, SuiteError) as exc:
                results[name] = str(exc)
    print()
    for name, result in results.items():
        print(result.line(name) if isinstance(result, Figures) else f"{name}: FAILED: {result}")
    print(f"JUnit reports: {reports}")
    return 0 if all(isinstance(result, Figures) and result.passed for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
