"""Any valid spec, Node side: the generated TypeScript plus the scaffolded service pass `tsc` (strict) and prettier,
and the scaffolded server, a real process, answers 501 problem+json to a schema-valid request for every operation.

Each fixture in data/ holds one class of real-world trouble (see test_any_spec.py for the Python side). Every case
is a project laid out like this repository (node-impl's kit, package.json, tsconfig and node_modules shared); one
`tsc` run checks them all, then each case's server runs under tsx on a free port and is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from conftest import DATA, OPENAPI_TYPESCRIPT, ROOT, copy_overlays
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.schemas import APIOperation
from twinapi_conformance import http, vectors

from twinapi_codegen.generate import Targets, render, scaffold

NODE_IMPL = ROOT / "node-impl"
CASES = sorted(p.stem for p in DATA.glob("*.yaml"))
SERVED = [case for case in CASES if case != "tasks"]  # the example API: its own tests serve it
LISTENING = re.compile(r"listening at http://127\.0\.0\.1:(\d+)")
EXAMPLES = 3


def _project(root: Path, spec: Path, case: str) -> Targets:
    """A project with this repository's layout: the spec at the root, node-impl sharing node_modules (the kit too)."""
    node = root / "node-impl"
    (node / "src").mkdir(parents=True)
    shutil.copy(spec, root / "openapi.yaml")
    overlays = copy_overlays(case, root)
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(NODE_IMPL / name, node / name)
    (node / "node_modules").symlink_to(NODE_IMPL / "node_modules", target_is_directory=True)
    targets = Targets(
        root=root,
        spec=root / "openapi.yaml",
        python_dir=None,
        typescript_dir=node / "src" / "generated",
        openapi_typescript=OPENAPI_TYPESCRIPT,
        overlays=overlays,
    )
    for path, text in {**render(targets), **scaffold(targets)}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    scaffolds = [node / "src" / "app" / name for name in ("service.ts", "server.ts")]
    assert all(p.exists() for p in scaffolds), "scaffold() must render templates/scaffold/typescript/app/ into src/app/"
    return targets


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("node-any-spec")
    specs = {case: DATA / f"{case}.yaml" for case in CASES} | {"example": ROOT / "openapi.yaml"}
    return {case: _project(base / case, spec, case).root for case, spec in specs.items()}


@pytest.fixture(scope="module")
def tsc_errors(projects: dict[str, Path]) -> dict[str, list[str]]:
    """One strict `tsc --noEmit` over every project at once (the packages' types are read once); errors by case."""
    base = next(iter(projects.values())).parent
    (base / "node_modules").symlink_to(NODE_IMPL / "node_modules", target_is_directory=True)
    (base / "tsconfig.json").write_text(
        '{"extends": "%s", "compilerOptions": {"rootDir": ".", "noEmit": true}, "include": ["*/node-impl/src"]}'
        % (NODE_IMPL / "tsconfig.json"),
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(NODE_IMPL / "node_modules" / ".bin" / "tsc"), "-p", str(base / "tsconfig.json"), "--pretty", "false"],
        cwd=base,
        capture_output=True,
        text=True,
        check=False,
    )
    errors: dict[str, list[str]] = {case: [] for case in projects}
    for line in done.stdout.splitlines():
        case = line.split("/", 1)[0]
        errors.setdefault(case if case in errors else "", []).append(line)
    assert done.returncode == 0 or any(errors.values()), done.stdout + done.stderr
    return errors


@pytest.mark.parametrize("case", [*CASES, "example"])
def test_generated_typescript_and_scaffold_pass_strict_tsc(case: str, tsc_errors: dict[str, list[str]]) -> None:
    assert tsc_errors[case] == [], "\n".join(tsc_errors[case])
    assert tsc_errors.get("", []) == [], "\n".join(tsc_errors[""])


def test_scaffolds_are_formatted_as_prettier_formats_them(projects: dict[str, Path]) -> None:
    """`make lint` runs prettier --check in a new project: the scaffolds it starts from must already pass it."""
    scaffolds = sorted(str(p) for root in projects.values() for p in (root / "node-impl" / "src" / "app").glob("*.ts"))
    done = subprocess.run(
        [str(NODE_IMPL / "node_modules" / ".bin" / "prettier"), "--check", *scaffolds],
        cwd=next(iter(projects.values())).parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def _serving(node: Path) -> Iterator[str]:
    """The scaffolded server on 127.0.0.1 (port 0: a free one), as a real process; stopped by its PID."""
    process = subprocess.Popen(
        ["node", "--import", "tsx", "src/app/server.ts"],
        cwd=node,
        env={"PATH": os.environ["PATH"], "HOST": "127.0.0.1", "PORT": "0", "LOG_LEVEL": "info"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if found := LISTENING.search(line):
            break
    else:
        pytest.fail(f"the scaffolded server did not start (exit {process.wait(timeout=10)}):\n{''.join(seen)}")
    try:
        yield f"http://127.0.0.1:{found[1]}"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=10) == 0, process.stdout.read()


def _examples(operation: APIOperation) -> list[Case]:
    """A few schema-valid requests for one operation, made by Schemathesis from the spec itself."""
    found: list[Case] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def collect(case: Case) -> None:
        found.append(case)

    collect()
    return found


@pytest.mark.parametrize("case", SERVED)
def test_every_operation_answers_501_with_scaffolded_handlers(case: str, projects: dict[str, Path]) -> None:
    failures = []
    with _serving(projects[case] / "node-impl") as url, requests.Session() as session, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The spec as the server reads it (YAML 1.2, from the contract document), not as Schemathesis reads YAML.
        document = json.loads((projects[case] / "node-impl/src/generated/contract.json").read_text(encoding="utf-8"))
        for result in schemathesis.openapi.from_dict(document["spec"]).get_all_operations():
            operation = result.ok()
            examples = _examples(operation)
            assert examples, f"{operation.label}: Schemathesis made no valid request"
            for example in examples:
                kwargs = example.as_transport_kwargs(base_url=url)
                kwargs["url"] = kwargs["url"].replace("#", "%23")
                # Credentials for the scaffolded security handlers, as test_any_spec.py sends them.
                kwargs.setdefault("headers", {}).update({"Authorization": "Bearer any", "X-Api-Key": "any"})
                allowed = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
                response = session.request(**{k: v for k, v in kwargs.items() if k in allowed}, timeout=10)
                problem = response.headers.get("content-type", "").startswith("application/problem+json")
                head = kwargs["method"].upper() == "HEAD"
                if response.status_code != 501 or (head and response.content) or not (head or problem):
                    failures.append(f"{operation.label}: {response.status_code} {response.text[:300]}")
                    break
    assert not failures, "\n".join(failures)


# Zero bytes are a value of a text, binary or form body (an empty form is {}), never of a JSON one.
EMPTY_BODIES = [("application/octet-stream", "/blob", 501), ("application/x-www-form-urlencoded", "/upload", 501)]
EMPTY_BODIES += [("application/json", "/upload", 400), ("application/x-www-form-urlencoded", "/note", 501)]


@pytest.mark.parametrize(("media_type", "path", "status"), EMPTY_BODIES)
def test_an_empty_body_is_a_value_except_in_json(
    media_type: str, path: str, status: int, projects: dict[str, Path]
) -> None:
    with _serving(projects["content_types"] / "node-impl") as url:
        method = "PUT" if path == "/blob" else "POST"
        response = requests.request(method, url + path, data=b"", headers={"content-type": media_type}, timeout=10)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["errors"] == [{"location": "body", "message": "is required"}]


def test_empty_serialisations_are_empty_values(projects: dict[str, Path]) -> None:
    """{} serialises to nothing as an exploded form or deepObject query parameter; [] unexploded to `ids=`."""
    with _serving(projects["params"] / "node-impl") as url:
        found = requests.get(url + "/near", params={"page[size]": "1"}, timeout=10)
        no_ids = requests.get(url + "/near?page[size]=1&ids=", timeout=10)
        missing = requests.get(url + "/near", timeout=10)
    assert found.status_code == 501, found.text
    assert no_ids.status_code == 501, no_ids.text
    assert missing.status_code == 400, missing.text
    assert [error["location"] for error in missing.json()["errors"]] == ["query/page"], missing.text


def test_an_operation_header_overrides_its_path_header_in_any_case(projects: dict[str, Path]) -> None:
    """The path item's X-Request-Id (at most 4 characters) gives way to the operation's x-request-id (64)."""
    with _serving(projects["header_case"] / "node-impl") as url:
        response = requests.get(url + "/items", headers={"X-REQUEST-ID": "longer than four"}, timeout=10)
    assert response.status_code == 501, response.text


def test_a_form_whose_schema_is_no_object_is_taken_as_it_arrives(projects: dict[str, Path]) -> None:
    """A form encodes an object; a form body described as a string reaches the handler as its text."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    with _serving(projects["content_types"] / "node-impl") as url:
        response = requests.post(url + "/note", data=b"any text", headers=form, timeout=10)
    assert response.status_code == 501, response.text


VECTORS = sorted(p.name[: -len(".vectors.json")] for p in DATA.glob("*.vectors.json"))


@pytest.mark.parametrize("case", VECTORS)
def test_vectors_are_answered_as_they_say(case: str, projects: dict[str, Path]) -> None:
    """data/<case>.vectors.json, as in test_any_spec.py: the Node server accepts and refuses what Python does."""
    path = DATA / f"{case}.vectors.json"
    expected = [(raw["description"], raw["expect"]) for raw in json.loads(path.read_text(encoding="utf-8"))]
    answers = []
    with _serving(projects[case] / "node-impl") as url, httpx.Client(timeout=10) as client:
        for vector in vectors.load(path):
            request, _ = vectors.build(vector.request, {})
            answer = http.send(client, url, request)
            answers.append((vector.description, answer.status, answer.body[:200]))
    assert [(description, status) for description, status, _ in answers] == expected, answers
