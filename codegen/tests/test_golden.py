"""Golden tests: each fixture spec in data/ must generate exactly the files in data/expected/<case>/.

After an intended change to the templates, `make update-golden` rewrites the expected files; review the diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, Project, run_mypy

from twinapi_codegen.generate import render

CASES = sorted(p.stem for p in DATA.glob("*.yaml"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
HINT = "generated output changed; if intended, run `make update-golden` and review the diff"


def _expected(case: str, side: str, folder: Path, outputs: dict[Path, str]) -> dict[str, str]:
    return {p.name: text for p, text in outputs.items() if p.parent == folder}


@pytest.mark.parametrize("case", CASES)
def test_outputs_match_expected(case: str, project: Project) -> None:
    targets = project(case)
    outputs = render(targets)
    for side, folder in (("python", targets.python_dir), ("typescript", targets.typescript_dir)):
        assert folder is not None
        produced = _expected(case, side, folder, outputs)
        expected_dir = DATA / "expected" / case / side
        if UPDATE:
            expected_dir.mkdir(parents=True, exist_ok=True)
            for old in expected_dir.iterdir():
                old.unlink()
            for name, text in produced.items():
                (expected_dir / name).write_text(text, encoding="utf-8")
        expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(expected_dir.glob("*"))}
        assert sorted(produced) == sorted(expected), f"{case}/{side}: file list differs; {HINT}"
        for name in expected:
            assert produced[name] == expected[name], f"{case}/{side}/{name}: {HINT}"


@pytest.mark.parametrize("case", CASES)
def test_python_output_type_checks(case: str, project: Project, mypy_cache: Path) -> None:
    targets = project(case)
    outputs = render(targets)
    package = targets.root / "python-impl" / "app"
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    done = run_mypy(package.parent, "app.generated", mypy_cache)
    assert done.returncode == 0, done.stdout + done.stderr
    imported = subprocess.run(
        [sys.executable, "-c", "import app.generated.routes"], cwd=package.parent, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr


def test_every_case_has_expected_files() -> None:
    for case in CASES:
        assert (DATA / "expected" / case / "python" / "operations.py").exists(), f"{case}: {HINT}"
    assert ROOT.exists()
