"""Runs the generator the way `make generate` does, into a throw-away copy of a project's layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import kitbuild
import pytest

from twinapi_codegen.generate import Targets

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
OPENAPI_TYPESCRIPT = ROOT / "node-impl" / "node_modules" / ".bin" / "openapi-typescript"

Project = Callable[[str], Targets]


def copy_overlays(case: str, root: Path) -> tuple[Path, ...]:
    """A fixture's overlays (data/overlays/<case>/*.yaml, applied in the order of their names), copied into the
    project's overlays/ folder as a project keeps them."""
    copies = []
    for source in sorted((DATA / "overlays" / case).glob("*.yaml")):
        (root / "overlays").mkdir(exist_ok=True)
        copies.append(Path(shutil.copy(source, root / "overlays" / source.name)))
    return tuple(copies)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fixture spec copied to `openapi.yaml` of an empty project, with its overlays; returns where outputs go."""

    def make(case: str) -> Targets:
        shutil.copy(DATA / f"{case}.yaml", tmp_path / "openapi.yaml")
        return Targets(
            root=tmp_path,
            spec=tmp_path / "openapi.yaml",
            python_dir=tmp_path / "python-impl" / "app" / "generated",
            typescript_dir=tmp_path / "node-impl" / "src" / "generated",
            openapi_typescript=OPENAPI_TYPESCRIPT,
            overlays=copy_overlays(case, tmp_path),
        )

    return make


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: the third-party packages are analysed once, not once per generated project."""
    return tmp_path_factory.mktemp("mypy-cache")


def run_mypy(cwd: Path, package: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """`mypy --strict` over a generated package, as `make lint` would run it in a project."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "-p", package],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPYPATH": str(cwd)},
    )


@pytest.fixture(scope="session")
def kit_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit's packages at this version, built as `make dist` builds them (new-project pins and locks them)."""
    return kitbuild.build(tmp_path_factory.mktemp("dist"))
