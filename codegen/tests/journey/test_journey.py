"""The new-project journey, as a user meets it on a fresh machine, on specs the example API did not shape.

`make dist`, then `make new-project SPEC=... DEST=...`; in DEST `make setup` and `make lint` pass, and `make test`
fails by naming exactly the operations that still answer 501, on both implementations, and nothing else. With the
hand-written handlers of data/journey/<case>/ copied in (both languages), `make test` in DEST passes, every
operation having answered a 2xx on both servers. Real installs (pip from the project's hashed lock, npm ci), real
servers, the project's own contract run; the only change to the project's settings is a smaller fuzzing budget in
its conformance.toml, as a user in a hurry would make it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from twinapi_conformance import fuzz

from twinapi_codegen import loader

JOURNEYS = DATA / "journey"
IMPLEMENTATIONS = ("python", "node")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
STEP_TIMEOUT = 900  # seconds for one make invocation; the longest is `make setup` (pip and npm installs)
# The project's own CI budget, made smaller (per operation and phase, and for the comparison of both servers).
BUDGET = {"max_examples": 10, "diff_examples": 5, "diff_sequences": 5}
# `METHOD /path` as the harness names operations.
LABEL = re.compile(r"\b(?:GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) /[^\s,;]*")
FAIL = re.compile(r"^FAIL (\S+) ((?:GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) \S+) (\w+): ")
ERROR = re.compile(r"^ERROR (\S+): ")
VERDICT = re.compile(r"^(\S+): (?:passed|\d+ failing checks); JUnit report ")
FAILED_TARGET = re.compile(r"make: \*\*\* \[Makefile:\d+: ([\w-]+)\]")


@dataclass(frozen=True)
class Record:
    """One failure the contract run printed: a FAIL block (check, expectation, reproduction) or an ERROR line."""

    implementation: str
    operations: frozenset[str]
    check: str | None
    text: str

    @property
    def names_501(self) -> bool:
        return re.search(r"\b501\b", self.text) is not None


def _env() -> dict[str, str]:
    # The project's make must not inherit this make's flags or this venv; wide lines keep each FAIL on one line.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS", "VIRTUAL_ENV"))}
    return {**env, "COLUMNS": "400", "NO_COLOR": "1"}


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
        env=_env(),
    )


def _passes(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = _make(cwd, *args)
    assert done.returncode == 0, f"make {' '.join(args)} in {cwd}:\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    return done


def records(output: str) -> list[Record]:
    """The failures the contract run listed, in order, from its FAIL blocks and ERROR lines."""
    found: list[Record] = []
    block: list[str] = []
    head: tuple[str, frozenset[str], str | None] | None = None

    def close() -> None:
        if head is not None:
            found.append(Record(head[0], head[1], head[2], "\n".join(block)))

    for line in output.splitlines():
        failed, error = FAIL.match(line), ERROR.match(line)
        if failed or error or VERDICT.match(line):
            close()
            head, block = None, []
        if failed:
            head, block = (failed[1], frozenset([failed[2]]), failed[3]), [line]
        elif error:
            head, block = (error[1], frozenset(m.rstrip(".:)") for m in LABEL.findall(line)), None), [line]
        elif head is not None:
            block.append(line)
    close()
    return found


def listed_as_unimplemented(found: list[Record]) -> dict[str, set[str]]:
    """Per implementation, the operations a failure names together with their 501."""
    listed: dict[str, set[str]] = {name: set() for name in IMPLEMENTATIONS}
    for record in found:
        if record.names_501:
            listed.setdefault(record.implementation, set()).update(record.operations)
    return listed


def other_failures(found: list[Record], unimplemented: dict[str, set[str]]) -> list[Record]:
    """Failures that are not about an operation answering 501. Schemathesis' not_a_server_error on an operation
    listed as unimplemented is that 501 again (its message gives no status); the event log shows there was no other
    server error."""
    return [
        record
        for record in found
        if not record.names_501
        and not (record.check == "not_a_server_error" and record.operations <= unimplemented[record.implementation])
    ]


def statuses(project: Path, implementation: str, operations: set[str]) -> dict[str, set[int]]:
    """Every status each operation answered in the fuzzing run, from the harness's own event log (the probes with
    undocumented methods left out)."""
    result = fuzz.FuzzResult(implementation=implementation, returncode=0, seed=0, junit=Path())
    fuzz.read_events(project / "contract-tests/reports" / f"events-{implementation}.ndjson", result, base_url="")
    return {label: seen for label, seen in result.statuses.items() if label in operations}


def _operations(project: Path) -> set[str]:
    """The project's operations as the harness labels them (`METHOD /path`), read as the generator reads the spec."""
    paths = loader.load(project / "openapi.yaml").data["paths"]
    return {f"{method.upper()} {path}" for path, item in paths.items() for method in item if method in METHODS}


def _shrink_budget(project: Path) -> None:
    settings = project / "contract-tests/conformance.toml"
    text = settings.read_text(encoding="utf-8")
    for key, value in BUDGET.items():
        text, count = re.subn(rf"^{key} = \d+", f"{key} = {value}", text, count=1, flags=re.M)
        assert count == 1, f"no {key} in {settings}"
    settings.write_text(text, encoding="utf-8")


def _copy_handlers(case: Path, project: Path) -> list[str]:
    copied = []
    for source in sorted(case.rglob("*")):
        relative = source.relative_to(case).as_posix()
        if source.is_file() and relative != "openapi.yaml":
            assert (project / relative).is_file(), f"{relative}: the scaffold wrote no such file to replace"
            shutil.copyfile(source, project / relative)
            copied.append(relative)
    return copied


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit built once by `make dist`, into a folder of the test's own (the checkout's dist/ is left alone)."""
    out = tmp_path_factory.mktemp("kit") / "dist"
    _passes(ROOT, "dist", f"DIST={out}")
    return out


def _new_project(case: str, dist: Path, where: Path) -> Path:
    dest, spec = where / case, JOURNEYS / case / "openapi.yaml"
    # `-o dist`: the kit is built already, once for every journey.
    made = _passes(ROOT, "-o", "dist", "new-project", f"DIST={dist}", f"SPEC={spec}", f"DEST={dest}")
    assert f"wrote {dest}" in made.stdout
    assert f"KIT_DIST ?= {dist}\n" in (dest / "kit.mk").read_text(encoding="utf-8")
    return dest


def _red(project: Path, operations: set[str]) -> None:
    """`make test` fails in the contract run, listing every operation of both servers as unimplemented, and
    nothing else."""
    done = _make(project, "test")
    output = done.stdout + done.stderr
    assert done.returncode != 0, f"make test passed with every handler answering 501:\n{output[-6000:]}"
    assert FAILED_TARGET.findall(output) == ["test-contract"], f"make test failed before the contract run:\n{output}"
    for name in IMPLEMENTATIONS:  # what the servers answered: 501 from every operation, and no other server error
        served = statuses(project, name, operations)
        assert {op: {s for s in seen if s >= 500} for op, seen in served.items()} == {op: {501} for op in operations}
    found = records(output)
    unimplemented = listed_as_unimplemented(found)
    others = other_failures(found, unimplemented)
    assert not others, "failures besides unimplemented operations:\n" + "\n".join(r.text for r in others[:10])
    assert unimplemented == {name: operations for name in IMPLEMENTATIONS}


def _green(project: Path, operations: set[str]) -> None:
    done = _make(project, "test")
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"make test in {project} with every handler written:\n{output[-8000:]}"
    assert "contract stage: passed" in output
    assert records(output) == []
    for name in IMPLEMENTATIONS:
        served = statuses(project, name, operations)
        assert set(served) == operations, name
        assert [op for op, seen in served.items() if not any(200 <= s < 300 for s in seen)] == [], name
        assert [op for op, seen in served.items() if any(s >= 500 for s in seen)] == [], name


def _journey(case: str, dist: Path, where: Path) -> None:
    project = _new_project(case, dist, where)
    _shrink_budget(project)
    _passes(project, "setup")
    _passes(project, "lint")
    operations = _operations(project)
    assert operations, f"{case}: a journey needs operations"
    _red(project, operations)
    copied = _copy_handlers(JOURNEYS / case, project)
    assert sorted(copied) == ["node-impl/src/app/service.ts", "python-impl/app/handlers.py"]
    _green(project, operations)


def test_a_problem_json_project_goes_from_scaffold_to_green(dist: Path, tmp_path: Path) -> None:
    _journey("notes", dist, tmp_path)


def test_a_project_with_its_own_422_error_schema_goes_from_scaffold_to_green(dist: Path, tmp_path: Path) -> None:
    _journey("comments", dist, tmp_path)
