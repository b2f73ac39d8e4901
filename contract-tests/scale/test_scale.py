"""The scale-out: 2 Python and 2 Node instances on one PostgreSQL behind HAProxy (twinapi_conformance.scale).

The tests share one deployment and run in this order, the destructive ones last: the start (all four at once, the
migrations applied once), the contract fuzz through the balancer, the interop scenario with each step on another
instance, an If-Match race over all four, a PostgreSQL restart under load, and a kill -9 of one instance under
write load; then `make scale`'s command on its own, stopped by SIGINT. Each prints what it measured on a line
starting with `scale:`.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from twinapi_conformance import config as configuration
from twinapi_conformance import fuzz, interop, scale
from twinapi_conformance.auth import bootstrap_token
from twinapi_conformance.spec import Spec

CONFIG = Path(__file__).resolve().parents[1] / "conformance.toml"
MIGRATIONS = Path(__file__).resolve().parents[2] / "db" / "migrations"
FUZZ_EXAMPLES = 25  # per operation and phase: a quarter of the CI budget, the whole budget runs per implementation
RACERS = 40
WRITERS = 8
LOAD_SECONDS = 1.5  # of load before and after each fault
OUTAGE_SECONDS = 2.0
RECOVERY_BOUND = 20.0  # seconds for every instance to serve again once PostgreSQL is back; a guard
ROUTED_AROUND_BOUND = 10.0  # seconds for the health checks to mark a killed instance DOWN; a guard
REQUEST_TIMEOUT = 10.0
PAGE = 100


@pytest.fixture(scope="module")
def config() -> configuration.Config:
    return configuration.load(CONFIG)


@pytest.fixture(scope="module")
def deployment(config: configuration.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[scale.Deployment]:
    logs = tmp_path_factory.mktemp("scale-logs")
    # The production defaults of every setting the deployment does not choose (pool and connect timeouts of 5 s
    # among them: with 1 s, a new pooled connection on this loaded machine sometimes took longer, and its request
    # was answered 503 with the database up).
    with scale.deployed(config, log_dir=logs) as deployed:
        print(f"\nscale: balancer {deployed.balancer_url}, instances {[i.name for i in deployed.instances]}")
        yield deployed


@dataclass
class Account:
    headers: dict[str, str]


def _account(base_url: str, email: str) -> Account:
    body = {"email": email, "password": "scale-password-1", "displayName": "Scale"}
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        assert client.post("/users", json=body).status_code == 201
        login = client.post("/auth/login", json={"email": email, "password": body["password"]})
        assert login.status_code == 200, login.text
    return Account(headers={"Authorization": f"Bearer {login.json()['accessToken']}"})


def test_all_instances_start_at_once_and_the_migrations_run_once(deployment: scale.Deployment) -> None:
    assert [i.kind for i in deployment.instances] == ["python", "python", "node", "node"]
    for instance in deployment.instances:
        assert instance.alive(), instance.name
        assert httpx.get(instance.url + "/health").json()["implementation"] == instance.kind
    database = deployment.database_url.rsplit("/", 1)[1]
    rows = deployment.cluster.psql("SELECT version, count(*) FROM schema_migrations GROUP BY version", database)
    applied = dict(line.split("|") for line in rows.split())
    expected = {path.stem.split("_", 1)[0] for path in MIGRATIONS.glob("*.sql")}
    assert {version.split("_", 1)[0] for version in applied} == expected
    assert set(applied.values()) == {"1"}
    states = deployment.server_states()
    assert states == {i.name: "UP" for i in deployment.instances}
    print(f"scale: 4 instances started at once, {len(applied)} migrations applied once each, HAProxy: {states}")


def test_the_contract_fuzz_passes_through_the_balancer(
    config: configuration.Config, deployment: scale.Deployment, tmp_path: Path
) -> None:
    fuzzing = replace(config, reports=tmp_path / "reports")
    spec = Spec.load(fuzzing.contract)
    assert fuzzing.auth is not None
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        token = bootstrap_token(client, deployment.balancer_url, spec, fuzzing.auth)
    output = tmp_path / "fuzz.log"
    with output.open("w", encoding="utf-8") as log:
        result = fuzz.run(
            fuzzing,
            spec,
            name="balancer",
            base_url=deployment.balancer_url,
            token=token,
            seed=fuzzing.budget.seed,
            max_examples=FUZZ_EXAMPLES,
            output=log,
        )
    cases = sum(tally.cases for tally in result.operations.values())
    answered = Counter(status for counts in result.statuses.values() for status in counts.elements())
    print(
        f"scale: fuzz through the balancer: {cases} cases checked, {sum(answered.values())} requests, "
        f"{len(result.failures)} failures, statuses {dict(sorted(answered.items()))}"
    )
    problems = [f"{f.operation} {f.check}: {f.title}\n  {f.curl}" for f in result.failures[:5]] + result.errors[:5]
    assert result.ok, "\n".join(problems) + f"\n(Schemathesis' output: {output})"
    assert 500 not in answered and 502 not in answered and 503 not in answered


def test_the_interop_scenario_passes_with_each_step_on_another_instance(
    config: configuration.Config, deployment: scale.Deployment
) -> None:
    """Each step goes straight to one instance of the implementation it names, taking the instances of that
    implementation in turn, so that no two steps in a row reach the same process: the balancer would choose for
    itself, and a header that pins the instance would be a routing rule production does not have."""
    assert config.interop is not None
    steps = json.loads(config.interop.read_text(encoding="utf-8"))
    turns = {kind: 0 for kind in config.implementations}
    pinned, previous = [], ""
    for step in steps:
        own = [i for i in deployment.instances if i.kind == step["via"]]
        instance = own[turns[step["via"]] % len(own)]
        turns[step["via"]] += 1
        assert instance.name != previous
        pinned.append({**step, "via": instance.name})
        previous = instance.name
    console = Console(file=io.StringIO(), highlight=False, record=True, width=200)
    ok = interop.run_on(config, {i.name: i.url for i in deployment.instances}, pinned, console=console)
    used = Counter(step["via"] for step in pinned)
    print(f"scale: interop: {len(pinned)} steps, each on another instance than the one before: {dict(used)}")
    assert ok, console.export_text()


def test_one_if_match_raced_over_all_instances_has_exactly_one_winner(deployment: scale.Deployment) -> None:
    account = _account(deployment.balancer_url, "race@example.com")
    created = httpx.post(
        deployment.balancer_url + "/tasks", json={"title": "raced"}, headers=account.headers, timeout=REQUEST_TIMEOUT
    )
    assert created.status_code == 201
    task, etag = created.json()["id"], created.headers["etag"]
    barrier = threading.Barrier(RACERS, timeout=30)
    answers: dict[int, tuple[str, int]] = {}

    def race(number: int) -> None:
        instance = deployment.instances[number % len(deployment.instances)]
        with httpx.Client(base_url=instance.url, timeout=REQUEST_TIMEOUT) as client:
            client.get("/health")  # connected before the start, so that the PATCHes leave together
            barrier.wait()
            answer = client.patch(
                f"/tasks/{task}", json={"title": f"winner {number}"}, headers={**account.headers, "If-Match": etag}
            )
        answers[number] = (instance.name, answer.status_code)

    _in_threads(race, RACERS)
    statuses = Counter(status for _, status in answers.values())
    winners = [(number, name) for number, (name, status) in answers.items() if status == 200]
    spread = Counter(name for name, _ in answers.values())
    print(f"scale: If-Match race: {RACERS} PATCHes over {dict(spread)}: {dict(statuses)}, winner {winners}")
    assert statuses == {200: 1, 412: RACERS - 1}
    final = httpx.get(f"{deployment.balancer_url}/tasks/{task}", headers=account.headers, timeout=REQUEST_TIMEOUT)
    assert final.json()["title"] == f"winner {winners[0][0]}" and final.headers["etag"] == '"2"'


@dataclass
class Load:
    """Requests through the balancer from several threads until stopped: what each answered, and the writes
    acknowledged with 2xx (task id, title)."""

    base_url: str
    account: Account
    writes_only: bool
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # (time, status, why when it is wrong)
    acknowledged: list[tuple[float, str, str]] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    # Every answer that is no 2xx: (status, the instance that gave it, the start of its body).
    unexpected: list[tuple[int, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, workers: int) -> None:
        for number in range(workers):
            thread = threading.Thread(target=self._work, args=(number,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT * 2)
        assert not any(thread.is_alive() for thread in self.threads)

    def _work(self, number: int) -> None:
        sent = 0
        with httpx.Client(base_url=self.base_url, headers=self.account.headers, timeout=REQUEST_TIMEOUT) as client:
            while not self.stop.is_set() and sent < 100_000:
                sent += 1
                title = f"load {number}-{sent}"
                try:
                    if self.writes_only or sent % 2:
                        answer = client.post("/tasks", json={"title": title})
                    else:
                        answer = client.get("/tasks", params={"limit": "5"})
                except httpx.TransportError as exc:
                    with self.lock:
                        self.answers.append((time.monotonic(), 0, type(exc).__name__))
                    continue
                with self.lock:
                    self.answers.append((time.monotonic(), answer.status_code, _wrong(answer)))
                    if answer.status_code >= 300:
                        self.unexpected.append(
                            (answer.status_code, answer.headers.get(scale.SERVED_BY, "the balancer"), answer.text[:200])
                        )
                    if answer.status_code == 201:
                        self.acknowledged.append((time.monotonic(), answer.json()["id"], title))


def _wrong(answer: httpx.Response) -> str:
    """Why an answer breaks the deployment's promises ("" when it keeps them): a 503 is a problem with
    Retry-After; nothing else but 2xx is expected; no answer carries a traceback."""
    if "Traceback" in answer.text:
        return "a traceback in the body"
    if answer.status_code == 503:
        if not answer.headers.get("content-type", "").startswith("application/problem+json"):
            return f"503 as {answer.headers.get('content-type')}: {answer.text[:100]}"
        if not answer.headers.get("retry-after"):
            return "503 without Retry-After"
        return ""
    return "" if answer.status_code < 300 else f"{answer.status_code}: {answer.text[:200]}"


def test_a_postgresql_restart_under_load_is_answered_503_and_every_instance_recovers(
    deployment: scale.Deployment,
) -> None:
    account = _account(deployment.balancer_url, "outage@example.com")
    load = Load(deployment.balancer_url, account, writes_only=False)
    load.start(WRITERS)
    try:
        time.sleep(LOAD_SECONDS)
        stopped = time.monotonic()
        deployment.cluster.stop("fast")
        # Straight to each instance during the outage: each one answers it, whichever the balancer picks.
        direct = {i.name: _wrong_or_status(i.url, account) for i in deployment.instances}
        time.sleep(OUTAGE_SECONDS)
        deployment.cluster.start()
        restarted = time.monotonic()
        recovered = {i.name: _recovery_seconds(i.url, account) for i in deployment.instances}
        time.sleep(LOAD_SECONDS)
    finally:
        load.finish()
    during = Counter(status for at, status, _ in load.answers if stopped <= at <= restarted)
    overall = Counter(status for _, status, _ in load.answers)
    wrong = [(status, why) for _, status, why in load.answers if why]
    after = [at for at, _, _ in load.acknowledged if at > restarted]
    print(
        f"scale: PostgreSQL restart under load: {sum(overall.values())} requests {dict(overall)}; "
        f"in the outage {dict(during)}; straight to each instance {direct}; "
        f"each instance serving again after {recovered} s; {len(after)} writes acknowledged after the restart"
    )
    assert not wrong, wrong[:5]
    assert during[503] > 0, "no request met the outage"
    assert direct == {i.name: 503 for i in deployment.instances}
    assert all(seconds is not None for seconds in recovered.values()), recovered
    assert after, "no write was acknowledged after the restart"
    assert all(i.alive() for i in deployment.instances), "an instance exited instead of recovering"
    _assert_no_errors_logged(deployment.instances)


def _wrong_or_status(url: str, account: Account) -> int | str:
    start = time.monotonic()
    try:
        answer = httpx.post(url + "/tasks", json={"title": "in the outage"}, headers=account.headers, timeout=10)
    except httpx.TransportError as exc:
        return f"{type(exc).__name__} after {time.monotonic() - start:.1f} s"
    return _wrong(answer) or answer.status_code


def _recovery_seconds(url: str, account: Account) -> float | None:
    """Seconds until the instance's own /health and a read from the database both answer 200; None past the bound."""
    start = time.monotonic()
    with httpx.Client(base_url=url, headers=account.headers, timeout=REQUEST_TIMEOUT) as client:
        while time.monotonic() - start < RECOVERY_BOUND:
            if client.get("/health").status_code == 200 and client.get("/tasks").status_code == 200:
                return round(time.monotonic() - start, 2)
            time.sleep(0.1)
    return None


def test_a_killed_instance_is_routed_around_and_no_acknowledged_write_is_lost(deployment: scale.Deployment) -> None:
    account = _account(deployment.balancer_url, "kill@example.com")
    victim = deployment.instances[-1]
    load = Load(deployment.balancer_url, account, writes_only=True)
    load.start(WRITERS)
    try:
        time.sleep(LOAD_SECONDS)
        killed = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        states = deployment.wait_for_states({victim.name: "DOWN"}, ROUTED_AROUND_BOUND)
        down = time.monotonic()
        time.sleep(LOAD_SECONDS)
    finally:
        load.finish()
    victim.process.wait(REQUEST_TIMEOUT)
    failed = [(at, status, why) for at, status, why in load.answers if status != 201]
    after_down = [at for at, _, _ in load.acknowledged if at > down]
    stored = _all_task_ids(deployment.balancer_url, account)
    lost = [(task, title) for _, task, title in load.acknowledged if stored.get(task) != title]
    print(
        f"scale: kill -9 of {victim.name} (pid {victim.pid}) under write load: {len(load.answers)} writes sent, "
        f"{len(load.acknowledged)} acknowledged, {len(lost)} lost, {len(failed)} not acknowledged "
        f"{dict(Counter(why or str(status) for _, status, why in failed))}; marked DOWN after {down - killed:.2f} s, "
        f"{len(after_down)} acknowledged after that; {len(stored)} tasks stored; other answers: {load.unexpected}"
    )
    assert states[victim.name] == "DOWN", states
    assert not lost, lost[:5]
    # Only the writes in flight on the killed instance may go unanswered (one per writer at most: retries happen only
    # for requests that never reached a server, so the balancer never sends a write twice). A 503 (the database
    # busy, say) is an answer the contract allows, as long as it is a problem with Retry-After.
    unanswered = [(at, status, why) for at, status, why in failed if status != 503]
    assert len(unanswered) <= WRITERS, (unanswered, load.unexpected)
    assert not [entry for entry in unanswered if entry[0] > down], ("unanswered after DOWN", load.unexpected)
    assert not [why for _, status, why in failed if status == 503 and why], load.unexpected
    assert len(stored) >= len(load.acknowledged) and after_down
    assert all(i.alive() for i in deployment.instances if i is not victim)


def _all_task_ids(base_url: str, account: Account) -> dict[str, str]:
    """Every task of the account, id to title, through the balancer's pages (each page on whichever instance)."""
    tasks: dict[str, str] = {}
    params = {"limit": str(PAGE)}
    with httpx.Client(base_url=base_url, headers=account.headers, timeout=REQUEST_TIMEOUT) as client:
        for _ in range(10_000):
            page = client.get("/tasks", params=params)
            assert page.status_code == 200, page.text
            body = page.json()
            tasks.update({item["id"]: item["title"] for item in body["items"]})
            if body["nextCursor"] is None:
                return tasks
            params = {"limit": str(PAGE), "cursor": body["nextCursor"]}
    raise AssertionError("more pages than the bound")


def _in_threads(work: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)


ERROR_LEVELS = {"error", "critical", "fatal"}


def _assert_no_errors_logged(instances: list[scale.Instance]) -> None:
    """Warnings about lost connections are expected in an outage; an error (an unhandled exception) is not."""
    for instance in instances:
        errors = [line for line in instance.log_path.read_text(errors="replace").splitlines() if _is_error(line)]
        assert not errors, (instance.name, errors[:3])


def _is_error(line: str) -> bool:
    try:
        entry = json.loads(line)
    except ValueError:
        return "Traceback" in line or bool(re.search(r"\berror\b", line, re.IGNORECASE))
    level = entry.get("level") if isinstance(entry, dict) else None
    return level in ERROR_LEVELS or (isinstance(level, int) and level >= 50)


def test_make_scale_serves_in_the_foreground_and_ctrl_c_stops_everything_it_started() -> None:
    """`python -m twinapi_conformance.scale` (make scale), one instance of each: what it prints is served, and
    SIGINT leaves no process it started and no PostgreSQL listening."""
    command = [sys.executable, "-m", "twinapi_conformance.scale", "--config", str(CONFIG), "--instances", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (lines and lines[-1].startswith("Ctrl-C")):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        printed = "\n".join(lines)
        assert lines and lines[-1].startswith("Ctrl-C"), printed
        balancer = re.search(r"^balancer\s+(\S+)\s+\(haproxy, pid (\d+)\)", printed, re.M)
        instances = re.findall(r"^(\S+-\d)\s+(\S+)\s+pid (\d+)", printed, re.M)
        database = re.search(r"^database\s+postgresql://\S+@127\.0\.0\.1:(\d+)/", printed, re.M)
        assert balancer and database and [name for name, _, _ in instances] == ["python-1", "node-1"], printed
        kinds = {httpx.get(balancer[1] + "/health").json()["implementation"] for _ in range(4)}
        assert kinds == {"python", "node"}
        for _, url, _ in instances:
            assert httpx.get(url + "/health").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    for pid in [int(balancer[2])] + [int(pid) for _, _, pid in instances]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(2)
        probe.connect(("127.0.0.1", int(database[1])))
    print(f"scale: make scale stopped by SIGINT: haproxy and {len(instances)} instances gone, PostgreSQL stopped")
