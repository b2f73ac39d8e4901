"""The command line: a bad spec names the file, line and JSON pointer, exits non-zero and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, OPENAPI_TYPESCRIPT

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


def test_an_unknown_security_scheme_is_refused(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _break(spec, "security:\n  - bearerAuth: []\n", "security:\n  - apiKeyAuth: []\n")
    assert _run(spec, "generate") == 1
    assert "unknown security scheme 'apiKeyAuth'" in capsys.readouterr().err


def test_a_failed_run_leaves_earlier_outputs_untouched(spec: Path) -> None:
    assert _run(spec, "generate") == 0
    before = {p: p.read_bytes() for p in spec.rglob("*") if p.is_file() and p.suffix in (".py", ".ts")}
    _break(spec, "openapi: 3.1.0\n", "openapi: 2.0.0\n")
    assert _run(spec, "generate") == 1
    after = {p: p.read_bytes() for p in spec.rglob("*") if p.is_file() and p.suffix in (".py", ".ts")}
    assert before == after
