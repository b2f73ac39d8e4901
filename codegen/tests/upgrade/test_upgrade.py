"""The upgrade path, as a user meets it: a project made with an older kit build, upgraded with one command.

Real installs: `make setup` in the project (pip from its hashed lock, npm ci), then a newer build of the kit beside
the older one in the project's KIT_DIST, then `make upgrade-kit`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kitbuild
from conftest import DATA, OPENAPI_TYPESCRIPT, ROOT

from twinapi_codegen import __version__, project, upgrade

OLD = "0.0.9"
# What `twinapi new` reads from the kit checkout it runs from, besides the generator itself.
CHECKOUT = [
    "requirements.lock",
    "requirements-dev.in",
    "python-impl/pyproject.toml",
    "node-impl/package.json",
    "node-impl/package-lock.json",
    *project.load_manifest().sections["project"],
]
STEP_TIMEOUT = 900
CONTRACT_LINE = 'contract = "../python-impl/app/generated/contract.json"'


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS", "VIRTUAL_ENV"))}
    done = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
        env=env,
    )
    assert done.returncode == 0, f"make {' '.join(args)} in {cwd}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: no {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _headers(root: Path) -> set[str]:
    generated = [*(root / "python-impl/app/generated").iterdir(), *(root / "node-impl/src/generated").iterdir()]
    return {path.read_text(encoding="utf-8").splitlines()[0] for path in generated if path.is_file()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def test_a_project_made_with_an_older_kit_upgrades_with_one_command(tmp_path: Path) -> None:
    assert __version__ != OLD
    dist, old_kit, dest = tmp_path / "dist", tmp_path / "old-kit", tmp_path / "project"
    kitbuild.build(dist, version=OLD, work=old_kit)
    for relative in CHECKOUT:  # the older generator runs from its own checkout, as `make new-project` there does
        (old_kit / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, old_kit / relative)
    made = subprocess.run(
        [sys.executable, "-m", "twinapi_codegen", "new", "--spec", str(DATA / "minimal.yaml"), "--dest", str(dest)]
        + ["--dist", str(dist), "--openapi-typescript", str(OPENAPI_TYPESCRIPT)],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(old_kit / "codegen")},
    )
    assert made.returncode == 0, made.stderr
    assert all(f"twinapi-codegen {OLD} " in header for header in _headers(dest))
    assert f"twinapi-runtime=={OLD}\n" in (dest / "requirements.in").read_text()
    package_lock_before = (dest / "node-impl/package-lock.json").read_text()

    _make(dest, "setup")
    _make(dest, "check-generated")
    version = subprocess.run([dest / ".venv/bin/twinapi", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"twinapi (twinapi-codegen) {OLD}"

    # What 0.1 wrote and 0.2.0 changed: the harness's `spec` line, bind() with two arguments, no errorBodies option.
    _replace(dest / "contract-tests/conformance.toml", CONTRACT_LINE, 'spec = "../openapi.yaml"')
    _replace(dest / "python-impl/app/main.py", "bind(Service(), Security(), Errors())", "bind(Service(), Security())")
    _replace(dest / "node-impl/src/app/server.ts", "      errorBodies: new Errors(),\n", "")

    kitbuild.build(dist)  # the newer build lands beside the older one, as `make dist` in the kit would put it
    upgraded = _make(dest, "upgrade-kit")
    assert f"kit pins: {OLD} -> {__version__}" in upgraded.stdout
    # The settings line is migrated; each change to hand-written code is one line naming the place and the entry.
    assert CONTRACT_LINE in (dest / "contract-tests/conformance.toml").read_text()
    assert "migrated contract-tests/conformance.toml:" in upgraded.stdout
    todo = [line for line in upgraded.stdout.splitlines() if line.startswith("to do ")]
    assert [line.split(":", 1)[0] for line in todo] == [
        "to do python-impl/app/main.py",
        "to do node-impl/src/app/server.ts",
    ]
    assert all(line.endswith(f"(see {upgrade.CHANGELOG_0_2})") for line in todo)
    assert "bind(Service(), Security())" in (dest / "python-impl/app/main.py").read_text()  # never rewritten

    requirements = (dest / "requirements.in").read_text()
    assert {m for m in re.findall(r"^twinapi-[a-z]+==(\S+)$", requirements, re.M)} == {__version__}
    lock = (dest / "requirements.lock").read_text()
    for name in project.PYTHON_PACKAGES:
        pinned = re.search(rf"^{name}==(\S+) \\\n\s+--hash=sha256:([0-9a-f]+)", lock, re.M)
        assert pinned and pinned.group(1) == __version__, name
        assert pinned.group(2) == _sha256(project.wheel(dist, name, __version__)), f"{name}: the lock hashes the wheel"
    package = json.loads((dest / "node-impl/package.json").read_text())
    assert package["dependencies"]["fastify-twinapi"].endswith(f"/fastify-twinapi-{__version__}.tgz")
    package_lock = json.loads((dest / "node-impl/package-lock.json").read_text())
    entry = package_lock["packages"]["node_modules/fastify-twinapi"]
    assert entry["version"] == __version__
    assert entry["integrity"] == _sha512(project.tarball(dist, __version__))
    assert package_lock_before != (dest / "node-impl/package-lock.json").read_text()
    installed = json.loads((dest / "node-impl/node_modules/fastify-twinapi/package.json").read_text())
    assert installed["version"] == __version__

    assert all(f"twinapi-codegen {__version__} " in header for header in _headers(dest))
    version = subprocess.run([dest / ".venv/bin/twinapi", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"twinapi (twinapi-codegen) {__version__}"
    _make(dest, "check-generated")
