"""The conformance harness: fuzz, diff, interop, selftest, and ci (the first three with the CI budget).

Run as `twinapi fuzz|diff|interop|selftest|ci` (or `python -m twinapi_conformance ...`) from the project root.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape

from twinapi_conformance import config as configuration
from twinapi_conformance import coverage, differential, fuzz, interop, matrix
from twinapi_conformance.auth import AuthError, bootstrap_token
from twinapi_conformance.coverage import Observations
from twinapi_conformance.postgres import ClusterError
from twinapi_conformance.servers import ServerError, on_postgres, started
from twinapi_conformance.spec import Spec, SpecError

# The harness's own tests: beside the package in the kit's source checkout, not part of the distribution.
TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
SELFTEST_MARKER = TESTS_DIR / "test_fuzz_catches_faults.py"
# The folder under `reports` of a run with --database postgresql.
POSTGRESQL_REPORTS = "postgresql"


def main(argv: list[str] | None = None, prog: str = "python -m twinapi_conformance") -> int:
    args = _parser(prog).parse_args(argv)
    console = Console(highlight=False)
    if args.command == "selftest":
        return _selftest()
    config = configuration.load(args.config)
    database = getattr(args, "database", "sqlite")
    config = for_database(config, database)
    if database == "postgresql":
        try:
            with on_postgres():
                console.print("database: a throwaway PostgreSQL cluster, a fresh database per server run")
                return _run(console, config, args)
        except ClusterError as exc:
            console.print(f"[red]postgresql: {escape(str(exc))}[/]")
            return 2
    return _run(console, config, args)


def for_database(config: configuration.Config, database: str) -> configuration.Config:
    """The configuration of a pass on `database`: on PostgreSQL its reports (JUnit, event logs, server logs) go to a
    folder of their own, beside the SQLite pass's instead of over them."""
    if database == "postgresql":
        return dataclasses.replace(config, reports=config.reports / POSTGRESQL_REPORTS)
    return config


def _run(console: Console, config: configuration.Config, args: argparse.Namespace) -> int:
    ci = args.command == "ci"
    observations = Observations()
    fuzzed: list[fuzz.FuzzResult] = []
    stages = {
        # In ci the matrix waits for the other stages: what they observe counts towards the documented statuses.
        "fuzz": lambda: _fuzz(console, config, args, fuzzed, observations, render=not ci),
        "diff": lambda: _diff(console, config, args, observations),
        "interop": lambda: _interop(console, config, observations),
    }
    if not ci:
        return _stage(console, args.command, stages[args.command])
    # ci: every stage runs, so one failure does not hide another
    results = [_stage(console, name, stage) for name, stage in stages.items()]
    results.append(_stage(console, "coverage", lambda: _judge(console, config, args, fuzzed, observations)))
    if args.selftest:
        results.append(_selftest(config))
    console.print(f"contract stage: {'[green]passed[/]' if not any(results) else '[red]failed[/]'}")
    return 1 if any(results) else 0


def _stage(console: Console, name: str, stage: Callable[[], int]) -> int:
    """A stage that cannot read the contract, start its servers or get a token fails with one clear message, not a
    traceback."""
    try:
        return stage()
    except (ServerError, AuthError, SpecError) as exc:
        console.print(f"[red]{name}: {escape(str(exc))}[/]")
        return 1


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    config_help = f"the harness configuration (default: {configuration.DEFAULT_CONFIG})"
    parser.add_argument("--config", type=Path, default=configuration.DEFAULT_CONFIG, help=config_help)
    commands = parser.add_subparsers(dest="command", required=True)
    budget = argparse.ArgumentParser(add_help=False)
    # Also accepted after the command (`twinapi fuzz --config ...`); the top-level default stays when it is absent.
    budget.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    budget.add_argument("--seed", type=int, help="replay a run; default: the configured CI seed")
    budget.add_argument("--max-examples", type=int, help="default: the configured CI budget")
    budget.add_argument("--only", help="one implementation by name")
    database_help = "the servers' database: a SQLite file each (default) or a throwaway PostgreSQL cluster"
    budget.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite", help=database_help)
    fuzz_cmd = commands.add_parser("fuzz", parents=[budget], help="Schemathesis against each implementation")
    fuzz_cmd.add_argument("--deep", action="store_true", help="the deep budget with a fresh seed (printed)")
    commands.add_parser("diff", parents=[budget], help="the same requests to both implementations, compared")
    configured = argparse.ArgumentParser(add_help=False)
    configured.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    configured.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite", help=database_help)
    commands.add_parser(
        "interop", parents=[configured], help="both implementations on one database, the configured scenario"
    )
    commands.add_parser(
        "selftest", help="prove the harness catches deliberately broken servers (from the kit's source checkout)"
    )
    ci = commands.add_parser("ci", parents=[budget], help="fuzz, diff and interop with the CI budget")
    ci.add_argument("--selftest", action="store_true", help="also run the harness's own tests (the kit's CI does)")
    return parser


def _budget(config: configuration.Config, args: argparse.Namespace) -> tuple[int, int]:
    if getattr(args, "deep", False):
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
        return seed, args.max_examples or config.budget.deep_max_examples
    return (
        args.seed if args.seed is not None else config.budget.seed,
        args.max_examples or config.budget.max_examples,
    )


def _selected(config: configuration.Config, args: argparse.Namespace) -> list[configuration.Implementation]:
    only = getattr(args, "only", None)
    if only is not None and only not in config.implementations:
        raise SystemExit(f"--only: no implementation {only!r} in {config.path}")
    return [impl for name, impl in config.implementations.items() if only in (None, name)]


def _names(config: configuration.Config, args: argparse.Namespace) -> list[str]:
    return [impl.name for impl in _selected(config, args)]


def _fuzz(
    console: Console,
    config: configuration.Config,
    args: argparse.Namespace,
    results: list[fuzz.FuzzResult],
    observations: Observations,
    *,
    render: bool,
) -> int:
    seed, max_examples = _budget(config, args)
    console.rule(f"fuzz: seed {seed}, max examples {max_examples}")
    console.print(f"replay: twinapi fuzz --seed {seed} --max-examples {max_examples}")
    spec = Spec.load(config.contract)
    for impl in _selected(config, args):
        console.rule(f"fuzz {impl.name}")
        # One implementation that does not start (or gets no token) is reported as its own result; the other is
        # still fuzzed, so a broken build of one does not hide what the other answers.
        try:
            with tempfile.TemporaryDirectory(prefix="conformance-") as work:
                with started(impl, config.server, db_path=Path(work) / "fuzz.db", log_dir=config.reports) as server:
                    token = _token(config, spec, server.base_url)
                    result = fuzz.run(
                        config,
                        spec,
                        name=impl.name,
                        base_url=server.base_url,
                        token=token,
                        seed=seed,
                        max_examples=max_examples,
                        output=sys.stdout,
                    )
        except (ServerError, AuthError) as exc:
            what = "did not start" if isinstance(exc, ServerError) else "got no token"
            result = fuzz.FuzzResult.unrun(config, impl.name, seed, f"{what}, so nothing was fuzzed: {exc}")
        results.append(result)
        result.observe(observations)
    if render:
        # One stage on its own: its coverage is reported; `ci`, which runs every stage, judges it.
        _report(console, config, spec, results, observations, _names(config, args), stages=("fuzz",), judged=False)
        console.print(f"replay: twinapi fuzz --seed {seed} --max-examples {max_examples}")
    return 0 if all(result.ok for result in results) else 1


def _judge(
    console: Console,
    config: configuration.Config,
    args: argparse.Namespace,
    results: list[fuzz.FuzzResult],
    observations: Observations,
) -> int:
    """The matrix after every stage, with the documented statuses no stage observed; fails as configured."""
    spec = Spec.load(config.contract)
    console.rule("documented statuses")
    problems = coverage.check_exclusions(spec, config.coverage)
    for problem in problems:
        console.print(f"[red]ERROR[/] {escape(problem)}")
    stages = ("fuzz", "diff", "interop") if config.interop is not None else ("fuzz", "diff")
    measured = _report(console, config, spec, results, observations, _names(config, args), stages=stages, judged=True)
    seed, max_examples = _budget(config, args)
    console.print(f"replay: twinapi fuzz --seed {seed} --max-examples {max_examples}")
    return 1 if problems or not all(report.ok for report in measured) else 0


def _report(
    console: Console,
    config: configuration.Config,
    spec: Spec,
    results: list[fuzz.FuzzResult],
    observations: Observations,
    names: list[str],
    *,
    stages: tuple[str, ...],
    judged: bool,
) -> list[coverage.Coverage]:
    measured = {
        name: coverage.measure(spec, config.coverage, observations, name, stages=stages, judged=judged)
        for name in names
    }
    matrix.render(console, spec.labels(), results, measured)
    for result in results:
        coverage.add_to_junit(result.junit, _verdicts(spec, result, measured[result.implementation]))
    return list(measured.values())


def _verdicts(spec: Spec, result: fuzz.FuzzResult, measured: coverage.Coverage) -> list[tuple[str, str | None, str]]:
    """The harness's own test cases for one implementation's JUnit report, three per operation."""
    if result.not_run is not None:
        return [(f"{label}: fuzzed", result.not_run, "") for label in spec.labels()]
    cases: list[tuple[str, str | None, str]] = []
    for label in spec.labels():
        cases.append((f"{label}: reached past authentication", result.unreached.get(label), ""))
        cases.append((f"{label}: implemented (no 501)", result.unimplemented.get(label), ""))
        operation = measured.operations[label]
        missing = ", ".join(operation.unobserved)
        excused = "".join(f"\n{key} declared unobservable: {why}" for key, why in operation.excused.items())
        details = (f"never observed in {measured.where}: {missing}" if missing else "") + excused
        failure = f"documented statuses never observed: {missing}" if missing and measured.required else None
        cases.append((f"{label}: every documented status observed", failure, details.strip()))
    return cases


def _token(config: configuration.Config, spec: Spec, base_url: str) -> str | None:
    if config.auth is None:
        return None
    with httpx.Client(timeout=config.budget.request_timeout) as client:
        return bootstrap_token(client, base_url, spec, config.auth)


def _diff(console: Console, config: configuration.Config, args: argparse.Namespace, observations: Observations) -> int:
    seed, max_examples = _budget(config, args)
    console.rule(f"diff: seed {seed}")
    report = differential.run(
        config,
        seed=seed,
        examples=args.max_examples or config.budget.diff_examples,
        console=console,
        observations=observations,
    )
    return 0 if report.ok else 1


def _interop(console: Console, config: configuration.Config, observations: Observations) -> int:
    if config.interop is None:
        console.print("interop: no scenario configured")
        return 0
    console.rule("interop")
    return 0 if interop.run(config, console=console, observations=observations) else 1


def _selftest(config: configuration.Config | None = None) -> int:
    if not SELFTEST_MARKER.is_file():
        print(
            f"error: the harness's self-test runs from the kit's source checkout (contract-tests/tests); "
            f"this twinapi-conformance is installed without it, at {TESTS_DIR.parent}",
            file=sys.stderr,
        )
        return 2
    # The harness's own tests start fixture servers; pytest keeps their output readable.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS_DIR)]
    if config is not None:
        command += ["--junitxml", str(config.reports / "junit-selftest.xml")]
    return subprocess.run(command, check=False).returncode  # noqa: S603
