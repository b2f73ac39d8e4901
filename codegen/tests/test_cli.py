"""The command line: a bad spec names the file, line and JSON pointer, exits non-zero and writes nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, OPENAPI_TYPESCRIPT

from twinapi_codegen import __version__, cli
from twinapi_codegen.cli import main


def _run(tmp_path: Path, *extra: str) -> int:
    return main(
        [
            *extra,
            "--root",
            str(tmp_path),
            "--spec",
            str(tmp_path / "openapi.yaml"),
            "--python-out",
            str(tmp_path / "py" / "app" / "generated"),
            "--typescript-out",
            str(tmp_path / "ts"),
            "--openapi-typescript",
            str(OPENAPI_TYPESCRIPT),
        ]
    )


def _break(tmp_path: Path, old: str, new: str) -> None:
    spec = tmp_path / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    shutil.copy(DATA / "tasks.yaml", tmp_path / "openapi.yaml")
    return tmp_path


def test_generate_then_check_passes(spec: Path) -> None:
    assert _run(spec, "generate") == 0
    assert _run(spec, "check") == 0


def test_check_fails_with_a_hint_when_outputs_are_stale(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(spec, "generate") == 0
    models = spec / "py" / "app" / "generated" / "models.py"
    models.write_text(models.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    assert _run(spec, "check") == 1
    err = capsys.readouterr().err
    assert "models.py" in err and "run `make generate`" in err


def test_an_invalid_spec_is_located_and_nothing_is_written(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(spec, "          description: The service is up.\n", "")
    assert _run(spec, "generate") == 1
    err = capsys.readouterr().err
    assert "/paths/~1health/get/responses/200" in err
    assert '"description" is a required property' in err
    assert f"{spec / 'openapi.yaml'}:" in err
    assert not (spec / "py").exists() and not (spec / "ts").exists()


def test_an_invalid_schema_is_located(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(spec, "          minLength: 8\n", "          minLength: eight\n")
    assert _run(spec, "generate") == 1
    err = capsys.readouterr().err
    assert "/components/schemas/NewUser/properties/password/minLength" in err


def test_yaml_syntax_errors_name_the_line(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(spec, "openapi: 3.1.0\n", "openapi: [3.1.0\n")
    assert _run(spec, "generate") == 1
    assert "openapi.yaml:" in capsys.readouterr().err


def test_an_undeclared_security_scheme_is_a_located_warning(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(spec, "security:\n  - bearerAuth: []\n", "security:\n  - apiKeyAuth: []\n")
    assert _run(spec, "generate") == 0
    [warning] = [line for line in capsys.readouterr().err.splitlines() if "'apiKeyAuth'" in line]
    where, pointer, reason = warning.split(": ", 2)
    assert where.startswith(str(spec / "openapi.yaml") + ":") and pointer.endswith("/security")
    assert reason.startswith("warning: security scheme 'apiKeyAuth' is not declared")
    # Its handler is generated (access stays closed until it is written), named like any other scheme's.
    assert "async def api_key_auth(self, ctx: Context, credentials: str)" in (
        spec / "py" / "app" / "generated" / "operations.py"
    ).read_text(encoding="utf-8")


def test_a_failed_run_leaves_earlier_outputs_untouched(spec: Path) -> None:
    assert _run(spec, "generate") == 0
    before = {p: p.read_bytes() for p in spec.rglob("*") if p.is_file() and p.suffix in (".py", ".ts")}
    _break(spec, "openapi: 3.1.0\n", "openapi: 2.0.0\n")
    assert _run(spec, "generate") == 1
    after = {p: p.read_bytes() for p in spec.rglob("*") if p.is_file() and p.suffix in (".py", ".ts")}
    assert before == after


WARNING = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<pointer>/\S*): warning: (?P<reason>.+)$")


def test_warnings_are_located_and_do_not_stop_generation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DATA / "lenient.yaml", tmp_path / "openapi.yaml")
    assert _run(tmp_path, "generate") == 0
    err = capsys.readouterr().err.splitlines()
    found = [WARNING.match(line) for line in err]
    assert all(found), err  # nothing but warnings, each a file:line: pointer: warning: reason
    assert {m["file"] for m in found if m} == {str(tmp_path / "openapi.yaml")}
    pointers = [m["pointer"] for m in found if m]
    assert len(pointers) == len(set(pointers)) == 9  # each once, though the spec is read more than once
    assert "/paths/~1readings/get/parameters/2/schema/enum" in pointers
    models = (tmp_path / "py" / "app" / "generated" / "models.py").read_text(encoding="utf-8")
    assert "lt=100" in models and '"10"' not in models
    assert (tmp_path / "ts" / "schema.ts").exists()
    assert _run(tmp_path, "check") == 0


def test_new_project_warnings_name_the_users_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kit_dist: Path
) -> None:
    spec = tmp_path / "mine.yaml"
    shutil.copy(DATA / "lenient.yaml", spec)
    dest = tmp_path / "project"
    assert main(["new", "--no-lock", "--spec", str(spec), "--dest", str(dest), "--dist", str(kit_dist)]) == 0
    captured = capsys.readouterr()
    found = [WARNING.match(line) for line in captured.err.splitlines()]
    assert found and all(m and m["file"] == str(spec) for m in found), captured.err
    assert (tmp_path / "project" / "openapi.yaml").read_text(encoding="utf-8") == spec.read_text(encoding="utf-8")


def test_warnings_come_with_a_refusal_too(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(spec, "          minLength: 8\n", "          minLength: 8\n          enum: [a, a]\n          maximum: x\n")
    assert _run(spec, "generate") == 1
    err = capsys.readouterr().err
    assert "/components/schemas/NewUser/properties/password/enum: warning: enum lists 'a' more than once" in err
    assert "/components/schemas/NewUser/properties/password/maximum: not a valid JSON Schema" in err


def test_a_failure_of_the_generator_itself_is_one_line_not_a_traceback(
    spec: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(targets: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr("twinapi_codegen.generate.render", broken)
    assert _run(spec, "generate") == 1
    err = capsys.readouterr().err
    assert f"error: twinapi-codegen {__version__} failed unexpectedly on" in err and "KeyError: 'surprise'" in err
    assert "Traceback" not in err
    monkeypatch.setenv("TWINAPI_TRACEBACK", "1")
    with pytest.raises(KeyError):
        _run(spec, "generate")


def test_check_names_the_generator_version_that_wrote_the_files(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmp_path = spec
    assert _run(tmp_path, "generate") == 0
    routes = tmp_path / "py" / "app" / "generated" / "routes.py"
    first, rest = routes.read_text(encoding="utf-8").split("\n", 1)
    assert f"generated by twinapi-codegen {__version__} (`make generate`)" in first
    routes.write_text(first.replace(__version__, "0.0.9") + "\n" + rest, encoding="utf-8")
    capsys.readouterr()
    assert _run(tmp_path, "check") == 1
    err = capsys.readouterr().err
    assert f"error: generated by twinapi-codegen 0.0.9, this is {__version__}: run `make generate`." in err
    assert f"out of date: {routes}" in err


def _twinapi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinapi_codegen", *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_one_command_lists_every_subcommand_and_explains_each_flag() -> None:
    listed = _twinapi("--help")
    assert listed.returncode == 0
    for command in ("generate", "check", "new", "upgrade", "fuzz", "diff", "corpus"):
        assert re.search(rf"^    {command}\s", listed.stdout, re.MULTILINE), listed.stdout
        helped = _twinapi(command, "--help")
        assert helped.returncode == 0, helped.stderr
        assert helped.stdout.startswith(f"usage: twinapi {command}"), helped.stdout
        flags = re.findall(r"^  (--[a-z-]+)[^\n]*$", helped.stdout, re.MULTILINE)
        # every flag line carries its explanation, on that line or the next
        lines = helped.stdout.splitlines()
        for flag in flags:
            at = next(i for i, line in enumerate(lines) if line.startswith(f"  {flag}"))
            described = lines[at].split(maxsplit=2)[2:] or lines[at + 1].split()
            assert described, f"twinapi {command} {flag} has no help"


def test_a_delegated_command_without_its_package_says_which_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name.split('.')[0]!r}", name=name.split(".")[0])

    monkeypatch.setattr(cli.importlib, "import_module", missing)
    assert main(["fuzz", "--seed", "1"]) == 2
    assert capsys.readouterr().err == (
        "error: `twinapi fuzz` needs the package twinapi-conformance: pip install twinapi-conformance\n"
    )
    assert main(["corpus"]) == 2
    assert "needs the package twinapi-corpus" in capsys.readouterr().err
