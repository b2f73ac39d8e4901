"""`twinapi new`: what a new project holds, what it never holds, and that the manifest (kit.toml) cannot drift."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import DATA, OPENAPI_TYPESCRIPT, ROOT

from twinapi_codegen import __version__, project
from twinapi_codegen.errors import SpecError

MANIFEST = project.load_manifest()
# What a project holds in any case: its spec, settings, locks, generated code (the scaffolds are listed below).
REQUIRED = [
    "openapi.yaml",
    "Makefile",
    "kit.mk",
    "twinapi.toml",
    "README.md",
    ".gitignore",
    "requirements.in",
    "requirements.lock",
    "python-impl/pyproject.toml",
    "python-impl/app/__init__.py",
    "python-impl/app/generated/models.py",
    "python-impl/app/generated/routes.py",
    "node-impl/package.json",
    "node-impl/package-lock.json",
    "node-impl/tsconfig.json",
    "node-impl/tsconfig.build.json",
    "node-impl/src/generated/service.ts",
    "node-impl/src/generated/schema.ts",
    "contract-tests/conformance.toml",
    "contract-tests/schemathesis.toml",
]


# The scaffolded handler files: where the example has its hand-written ones, a new project has starting points.
SCAFFOLD = project.PACKAGE / "templates" / "scaffold"
SCAFFOLDS = [
    f"{side_dir}/{template.relative_to(SCAFFOLD / side).as_posix()[: -len('.j2')]}"
    for side, side_dir in (("python", "python-impl/app"), ("typescript", "node-impl/src"))
    for template in (SCAFFOLD / side).rglob("*.j2")
]


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, kit_dist: Path) -> Path:
    dest = tmp_path_factory.mktemp("made") / "api"
    return project.create(DATA / "params.yaml", dest, dist=kit_dist, openapi_typescript=OPENAPI_TYPESCRIPT)


def test_every_tracked_file_is_in_exactly_one_section_of_the_manifest() -> None:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout of the kit")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    wrong = {}
    for path in tracked.splitlines():
        sections = MANIFEST.classify(path)
        if len(sections) != 1:
            wrong[path] = sections
    assert not wrong, f"classify these in codegen/twinapi_codegen/kit.toml (file: sections it matches): {wrong}"


def test_a_new_project_holds_its_spec_settings_and_generated_code(made: Path) -> None:
    files = _files(made)
    assert not [f for f in REQUIRED + SCAFFOLDS if f not in files]
    assert (made / "openapi.yaml").read_bytes() == (DATA / "params.yaml").read_bytes()
    assert (
        f"twinapi-codegen {__version__} " in (made / "python-impl/app/generated/routes.py").read_text().split("\n")[0]
    )
    for copied in MANIFEST.sections["project"]:
        assert (made / copied).read_bytes() == (ROOT / copied).read_bytes()
    assert oct((made).stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_new_project_holds_none_of_the_kits_sources(made: Path) -> None:
    files = _files(made)
    assert not [f for f in files if MANIFEST.classify(f) == ["packages"]]
    assert not [f for f in files if f.startswith(("codegen/", "python-impl/runtime/", "node-impl/kit/"))]
    assert not [f for f in files if f.startswith("contract-tests/") and f.endswith(".py")]
    kit_modules = ("twinapi_codegen", "twinapi_runtime", "twinapi_conformance")
    assert not [f for f in files if any(f"/{m}/" in f"/{f}" for m in kit_modules)]


def test_a_new_project_pins_the_kit_build_and_locks_it_with_hashes(made: Path, kit_dist: Path) -> None:
    requirements = (made / "requirements.in").read_text()
    for name in project.PYTHON_PACKAGES:
        assert f"\n{name}=={__version__}\n" in requirements
    lock = (made / "requirements.lock").read_text()
    for name in project.PYTHON_PACKAGES:
        digest = hashlib.sha256(project.wheel(kit_dist, name, __version__).read_bytes()).hexdigest()
        assert re.search(rf"^{name}=={re.escape(__version__)} \\\n\s+--hash=sha256:{digest}$", lock, re.M), name
    assert "-e " not in lock and "\napp==" not in lock  # the project's own package is installed editable
    assert f"KIT_DIST ?= {kit_dist}\n" in (made / "kit.mk").read_text()
    package = json.loads((made / "node-impl/package.json").read_text())
    spec = package["dependencies"]["fastify-twinapi"]
    assert spec.startswith("file:") and (made / "node-impl" / spec[5:]).resolve() == project.tarball(
        kit_dist, __version__
    )
    entry = json.loads((made / "node-impl/package-lock.json").read_text())["packages"]["node_modules/fastify-twinapi"]
    tarball = project.tarball(kit_dist, __version__).read_bytes()
    assert entry["integrity"] == "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    assert "workspaces" not in package and "-w fastify-twinapi" not in json.dumps(package["scripts"])


def test_a_kit_that_is_not_built_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(project.ProjectError, match=r"lacks the kit's .* build .*run `make dist` in the kit"):
        project.create(DATA / "minimal.yaml", tmp_path / "api", dist=tmp_path, openapi_typescript=OPENAPI_TYPESCRIPT)
    assert list(tmp_path.iterdir()) == []


def test_a_new_project_holds_none_of_the_example(made: Path) -> None:
    files = _files(made)
    example = [f for f in files if any(project.matches(p, f) for p in MANIFEST.sections["example"])]
    # The example's hand-written entry points share their paths with the scaffolds, never their contents.
    for path in example:
        assert (made / path).read_bytes() != (ROOT / path).read_bytes()
    assert sorted(example) == sorted(SCAFFOLDS)
    assert not [f for f in files if f.startswith(("db/", "bench/", "python-impl/tests/", "node-impl/test/"))]
    text = "\n".join((made / f).read_text(encoding="utf-8", errors="replace") for f in sorted(files))
    assert not re.findall(r"TaskService|registerUser|better-sqlite3|bcrypt|sqlalchemy|JWT_SECRET", text)


def test_the_node_lock_keeps_every_package_still_needed_and_nothing_else(made: Path) -> None:
    package = json.loads((made / "node-impl/package.json").read_text())
    lock = json.loads((made / "node-impl/package-lock.json").read_text())
    roots = [*package["dependencies"], *package["devDependencies"]]
    assert project._reachable(lock["packages"], roots) == set(lock["packages"]) - {""}
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    assert not set(MANIFEST.npm_example) & set(roots)


def test_the_generated_code_of_a_new_project_is_up_to_date(made: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "twinapi_codegen", "check", "--openapi-typescript", str(OPENAPI_TYPESCRIPT)],
        cwd=made,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_a_destination_that_is_not_empty_is_refused(tmp_path: Path, kit_dist: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twinapi_codegen",
            "new",
            "--spec",
            str(DATA / "minimal.yaml"),
            "--dest",
            str(tmp_path),
            "--dist",
            str(kit_dist),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "exists and is not empty" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_spec_that_cannot_be_generated_from_leaves_nothing_behind(tmp_path: Path, kit_dist: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: {title: t}\npaths: {}\n")
    with pytest.raises(SpecError) as refused:
        project.create(bad, tmp_path / "new" / "api", dist=kit_dist, openapi_typescript=OPENAPI_TYPESCRIPT)
    assert refused.value.file == str(bad) and refused.value.problems
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def _recipes(makefile: Path) -> dict[str, list[str]]:
    recipes: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in makefile.read_text().splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line)
            continue
        rule = re.match(r"^([^\s:#=][^:=]*?):(?!=)", line)
        current = recipes.setdefault(rule.group(1), []) if rule and "=" not in line.split(":", 1)[0] else None
    return recipes


def test_the_project_makefile_shares_the_kit_recipes_except_the_declared_differences() -> None:
    kit = _recipes(ROOT / "Makefile")
    new = _recipes(project.PROJECT_TEMPLATES / "Makefile")
    assert set(MANIFEST.makefile_differs) <= set(new), "a declared difference names a target the project lacks"
    drifted = [t for t in set(kit) & set(new) if t not in MANIFEST.makefile_differs and kit[t] != new[t]]
    assert not drifted, f"recipes differ from the kit's Makefile; align them or declare why in kit.toml: {drifted}"


def test_a_new_project_compares_validation_errors_as_the_example_does(made: Path) -> None:
    """Both runtimes' validators may order a body's errors differently; any project's diff must allow for it."""
    rules = [
        {k: v for k, v in rule.items() if k != "why"}
        for rule in tomllib.loads((made / "contract-tests/conformance.toml").read_text())["diff"]["normalise"]
    ]
    example = tomllib.loads((ROOT / "contract-tests/conformance.toml").read_text())["diff"]["normalise"]
    for rule in example:
        if rule.get("pointer", "").startswith("/errors"):
            assert {k: v for k, v in rule.items() if k != "why"} in rules


def test_a_new_project_keeps_its_overlays_and_lists_them_in_twinapi_toml(tmp_path: Path, kit_dist: Path) -> None:
    overlays = sorted((DATA / "overlays" / "overlaid").glob("*.yaml"))
    dest = project.create(
        DATA / "overlaid.yaml",
        tmp_path / "api",
        dist=kit_dist,
        openapi_typescript=OPENAPI_TYPESCRIPT,
        lock=False,
        overlays=overlays,
    )
    assert (dest / "openapi.yaml").read_bytes() == (DATA / "overlaid.yaml").read_bytes()  # the spec stays verbatim
    for source in overlays:
        assert (dest / "overlays" / source.name).read_bytes() == source.read_bytes()
    listed = tomllib.loads((dest / "twinapi.toml").read_text())["spec"]["overlays"]
    assert listed == [f"overlays/{source.name}" for source in overlays]
    contract = json.loads((dest / "python-impl/app/generated/contract.json").read_text())
    assert "/internal/reindex" not in contract["spec"]["paths"]
    checked = subprocess.run(
        [sys.executable, "-m", "twinapi_codegen", "check", "--openapi-typescript", str(OPENAPI_TYPESCRIPT)],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_a_new_project_without_overlays_lists_none(made: Path) -> None:
    assert tomllib.loads((made / "twinapi.toml").read_text()) == {"spec": {"overlays": []}}


def test_an_overlay_that_cannot_apply_is_named_as_given_and_leaves_nothing_behind(
    tmp_path: Path, kit_dist: Path
) -> None:
    bad = tmp_path / "bad.overlay.yaml"
    bad.write_text('overlay: 1.0.0\ninfo: {title: t, version: "1"}\nactions:\n  - {target: $.nothing, remove: true}\n')
    with pytest.raises(SpecError) as refused:
        project.create(
            DATA / "overlaid.yaml",
            tmp_path / "api",
            dist=kit_dist,
            openapi_typescript=OPENAPI_TYPESCRIPT,
            overlays=[bad],
        )
    [problem] = refused.value.problems
    assert problem.render(refused.value.file).startswith(f"{bad}:4: /actions/0/target: `$.nothing` selects nothing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.overlay.yaml"]


def test_twinapi_new_takes_overlays_on_its_command_line(tmp_path: Path, kit_dist: Path) -> None:
    bad = tmp_path / "bad.overlay.yaml"
    bad.write_text('overlay: 1.0.0\ninfo: {title: t, version: "1"}\nactions:\n  - {target: $.nothing, remove: true}\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twinapi_codegen",
            "new",
            "--spec",
            str(DATA / "overlaid.yaml"),
            "--overlay",
            str(bad),
            "--dest",
            str(tmp_path / "api"),
            "--dist",
            str(kit_dist),
            "--openapi-typescript",
            str(OPENAPI_TYPESCRIPT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{bad}:4: /actions/0/target: `$.nothing` selects nothing" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.overlay.yaml"]
