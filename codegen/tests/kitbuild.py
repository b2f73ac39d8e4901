"""Builds the kit's packages as `make dist` does, into a folder of the test's own, at this version or another one."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each Python package: its folder, the file that holds its version, and what its distribution holds.
PYTHON = {
    "codegen": ("twinapi_codegen/__init__.py", ["pyproject.toml", "README.md", "CHANGELOG.md", "twinapi_codegen"]),
    "python-impl/runtime": (
        "twinapi_runtime/__init__.py",
        ["pyproject.toml", "README.md", "CHANGELOG.md", "twinapi_runtime"],
    ),
    "contract-tests": (
        "twinapi_conformance/__init__.py",
        ["pyproject.toml", "README.md", "CHANGELOG.md", "twinapi_conformance"],
    ),
}
NODE_KIT = ROOT / "node-impl" / "kit"
TIMEOUT = 300


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{' '.join(command)} in {cwd}:\n{done.stdout}\n{done.stderr}"


def _uv_build(source: Path, out: Path) -> None:
    uv = [sys.executable, "-m", "uv", "build", "--quiet", "--no-build-isolation", "--python", sys.executable]
    _run([*uv, "--out-dir", str(out), str(source)], ROOT)


def build(out: Path, version: str | None = None, work: Path | None = None) -> Path:
    """The wheels, sdists and npm tarball of the kit in `out`. With `version`, built from a copy of their sources
    (in `work`) whose version is set to it, as an older or newer release of the kit would be."""
    out.mkdir(parents=True, exist_ok=True)
    if version is None:
        for folder in PYTHON:
            _uv_build(ROOT / folder, out)
        _run(["npm", "pack", "--silent", "--pack-destination", str(out)], NODE_KIT)
        return out
    assert work is not None, "a build at another version needs a folder for the copied sources"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for folder, (version_file, parts) in PYTHON.items():
        copy = work / folder
        copy.mkdir(parents=True)
        for part in parts:
            source = ROOT / folder / part
            if source.is_dir():
                shutil.copytree(source, copy / part, ignore=ignore)
            else:
                shutil.copy2(source, copy / part)
        init = copy / version_file
        text, count = re.subn(r'^__version__ = ".*"$', f'__version__ = "{version}"', init.read_text(), flags=re.M)
        assert count == 1, f"no __version__ in {init}"
        init.write_text(text)
        _uv_build(copy, out)
    kit = work / "node-impl" / "kit"
    # The built JavaScript comes along (`npm run build` made it); the copy has no compiler to run prepack with.
    assert (NODE_KIT / "dist" / "index.js").is_file(), "node-impl/kit/dist is missing: make build-node first"
    shutil.copytree(NODE_KIT, kit, ignore=ignore)
    package = (kit / "package.json").read_text()
    package, count = re.subn(r'^  "version": ".*",$', f'  "version": "{version}",', package, count=1, flags=re.M)
    assert count == 1, "no version in node-impl/kit/package.json"
    (kit / "package.json").write_text(package)
    _run(["npm", "pack", "--silent", "--ignore-scripts", "--pack-destination", str(out)], kit)
    return out
