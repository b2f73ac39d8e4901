"""Any valid spec: the generated Python layer plus the scaffolded handlers boot, and every operation answers 501.

Each fixture in data/ holds one class of real-world trouble; a schema-valid request for every operation (made by
Schemathesis from the spec itself) must reach the scaffolded handler, which answers 501 problem+json.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, Project, run_mypy

from twinapi_codegen.generate import render, scaffold
from twinapi_codegen.project import load_manifest, python_pyproject

CASES = sorted(p.stem for p in DATA.glob("*.yaml") if p.stem != "tasks")

PROBE = """
import json, sys, warnings
warnings.simplefilter("ignore")
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient
from app.main import create_app

client = TestClient(create_app(), raise_server_exceptions=False)
# The spec as the servers read it (YAML 1.2, from the contract document), not as Schemathesis's loader reads YAML.
with open("python-impl/app/generated/contract.json", encoding="utf-8") as fh:
    schema = schemathesis.openapi.from_dict(json.load(fh)["spec"])
failures = []
for result in schema.get_all_operations():
    operation = result.ok()
    cases = []

    @given(case=operation.as_strategy())
    @settings(max_examples=3, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def collect(case):
        cases.append(case)

    collect()
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        kwargs["url"] = kwargs["url"].replace("#", "%23")
        kwargs.setdefault("headers", {})
        kwargs["headers"].update({"Authorization": "Bearer any", "X-Api-Key": "any"})
        kwargs.pop("cookies", None)
        allowed = ("method", "url", "headers", "params", "json", "content", "data", "files")
        response = client.request(**{k: v for k, v in kwargs.items() if k in allowed})
        problem = "application/problem+json" in response.headers.get("content-type", "")
        if response.status_code != 501 or (case.method.upper() != "HEAD" and not problem):
            status = response.status_code
            failures.append(f"{case.method.upper()} {case.formatted_path}: {status} {response.text[:300]}")
            break
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def _write(outputs: dict[Path, str]) -> None:
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_every_operation_answers_501_with_scaffolded_handlers(case: str, project: Project, mypy_cache: Path) -> None:
    targets = project(case)
    _write(render(targets))
    _write(scaffold(targets))
    package = targets.root / "python-impl"
    (package / "app" / "__init__.py").write_text("", encoding="utf-8")
    checked = run_mypy(package, "app", mypy_cache)
    assert checked.returncode == 0, checked.stdout
    (targets.root / "probe.py").write_text(PROBE, encoding="utf-8")
    probed = subprocess.run(
        [sys.executable, str(targets.root / "probe.py")],
        cwd=targets.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
    )
    assert probed.returncode == 0, probed.stdout + probed.stderr


CLIENT = """
from starlette.testclient import TestClient
from app.main import create_app

client = TestClient(create_app(), raise_server_exceptions=False)
"""


def _served(case: str, script: str, project: Project) -> None:
    """Runs `script` (after CLIENT) beside the case's generated app with scaffolded handlers; it asserts itself."""
    targets = project(case)
    _write(render(targets))
    _write(scaffold(targets))
    package = targets.root / "python-impl"
    (package / "app" / "__init__.py").write_text("", encoding="utf-8")
    (targets.root / "check.py").write_text(CLIENT + script, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(targets.root / "check.py")],
        cwd=targets.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_empty_body_is_a_value_except_in_json(project: Project) -> None:
    """Zero bytes are a value of a text, binary or form body (an empty form is {}), never of a JSON one."""
    script = """
for media_type, method, path, status in [
    ("application/octet-stream", "PUT", "/blob", 501),
    ("application/x-www-form-urlencoded", "POST", "/upload", 501),
    ("application/json", "POST", "/upload", 400),
    ("application/x-www-form-urlencoded", "POST", "/note", 501),
]:
    response = client.request(method, path, content=b"", headers={"content-type": media_type})
    assert response.status_code == status, (media_type, response.text)
    if status == 400:
        assert response.json()["errors"] == [{"location": "body", "message": "is required"}]
"""
    _served("content_types", script, project)


def test_empty_serialisations_are_empty_values(project: Project) -> None:
    """{} serialises to nothing as an exploded form or deepObject query parameter; [] unexploded to `ids=`."""
    script = """
found = client.get("/near", params={"page[size]": "1"})
assert found.status_code == 501, found.text
no_ids = client.get("/near?page[size]=1&ids=")
assert no_ids.status_code == 501, no_ids.text
missing = client.get("/near")
assert missing.status_code == 400, missing.text
assert [error["location"] for error in missing.json()["errors"]] == ["query/page"], missing.text
"""
    _served("params", script, project)


def test_an_operation_header_overrides_its_path_header_in_any_case(project: Project) -> None:
    """The path item's X-Request-Id (at most 4 characters) gives way to the operation's x-request-id (64)."""
    script = """
response = client.get("/items", headers={"X-REQUEST-ID": "longer than four"})
assert response.status_code == 501, response.text
"""
    _served("header_case", script, project)


def test_a_form_whose_schema_is_no_object_is_taken_as_it_arrives(project: Project) -> None:
    """A form encodes an object; a form body described as a string reaches the handler as its text."""
    script = """
response = client.post("/note", content=b"any text", headers={"content-type": "application/x-www-form-urlencoded"})
assert response.status_code == 501, response.text
"""
    _served("content_types", script, project)


VECTORS = sorted(p.name[: -len(".vectors.json")] for p in DATA.glob("*.vectors.json"))


@pytest.mark.parametrize("case", VECTORS)
def test_vectors_are_answered_as_they_say(case: str, project: Project) -> None:
    """data/<case>.vectors.json, each request answered with its `expect` status (501 from the scaffolded handler when
    the request reaches it), as the Node server answers it: YAML 1.1 traps read the YAML 1.2 way (`on` is a string,
    010 is ten), readOnly and writeOnly in requests, JSON Schema 2020-12's keywords, bodies sent to operations without
    one, optional security, an API key with a prefix, the errors a spec declares."""
    script = f"""
import json
from pathlib import Path

from twinapi_conformance import http, vectors

path = Path({str(DATA)!r}) / {case + ".vectors.json"!r}
for vector, raw in zip(vectors.load(path), json.loads(path.read_text(encoding="utf-8")), strict=True):
    request, _ = vectors.build(vector.request, {{}})
    answer = http.send(client, "http://testserver", request)
    assert answer.status == raw["expect"], (vector.description, answer.status, answer.body)
"""
    _served(case, script, project)


def test_scaffolds_pass_ruff_as_a_new_project_runs_it(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`make lint` in a new project runs ruff check and ruff format --check over python-impl, with the settings of
    its python-impl/pyproject.toml: the scaffolded Python (handlers, errors, main) of every fixture must pass both."""
    settings = python_pyproject(
        (ROOT / "python-impl" / "pyproject.toml").read_text(encoding="utf-8"), load_manifest().python_example
    )
    ruff = Path(sys.executable).parent / "ruff"
    failures = []
    for case in CASES:
        targets = project(case)
        root = tmp_path_factory.mktemp(f"ruff-{case}")
        (root / "python-impl").mkdir()
        (root / "python-impl" / "pyproject.toml").write_text(settings, encoding="utf-8")
        # The package beside them as a project has it (ruff tells first-party imports by the folders it finds).
        (root / "python-impl" / "app" / "generated").mkdir(parents=True)
        for stub in ("__init__.py", "generated/__init__.py", "generated/routes.py", "generated/operations.py"):
            (root / "python-impl" / "app" / stub).write_text("", encoding="utf-8")
        for path, text in scaffold(targets).items():
            if path.suffix == ".py":
                written = root / path.relative_to(targets.root)
                written.parent.mkdir(parents=True, exist_ok=True)
                written.write_text(text, encoding="utf-8")
        for command in (["check"], ["format", "--check"]):
            done = subprocess.run(
                [str(ruff), *command, "--no-cache", "python-impl"],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            if done.returncode != 0:
                failures.append(f"{case}: ruff {' '.join(command)}:\n{done.stdout}{done.stderr}")
    assert not failures, "\n".join(failures)
