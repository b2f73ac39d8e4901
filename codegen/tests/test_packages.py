"""The kit's packages: each imports only itself, the standard library and what it declares, never the example API."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from conftest import ROOT

from twinapi_codegen import project

# Each Python package of the kit: its folder and its module.
PYTHON = {
    "codegen": "twinapi_codegen",
    "python-impl/runtime": "twinapi_runtime",
    "contract-tests": "twinapi_conformance",
}
NODE_KIT = ROOT / "node-impl" / "kit"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(pyproject: Path) -> set[str]:
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return {_normal(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0]) for spec in dependencies}


def _imports(package: Path) -> set[str]:
    roots = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("folder", sorted(PYTHON))
def test_a_python_package_imports_only_what_it_declares(folder: str) -> None:
    module = PYTHON[folder]
    imported = _imports(ROOT / folder / module) - set(sys.stdlib_module_names) - {"__future__", module}
    assert "app" not in imported, f"{module} imports the example API"
    owners = packages_distributions()
    declared = _declared(ROOT / folder / "pyproject.toml")
    undeclared = {name for name in imported if not {_normal(d) for d in owners.get(name, [name])} & declared}
    assert not undeclared, f"{module} imports what its pyproject.toml does not declare: {sorted(undeclared)}"


@pytest.mark.parametrize("folder", sorted(PYTHON))
def test_every_python_dependency_has_bounds(folder: str) -> None:
    dependencies = tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    unbounded = [spec for spec in dependencies["dependencies"] if not (">=" in spec and "<" in spec.split(">=")[1])]
    assert not unbounded, f"give each a lower and a major upper bound: {unbounded}"


def test_the_node_kit_imports_only_itself_and_what_it_declares() -> None:
    package = json.loads((NODE_KIT / "package.json").read_text(encoding="utf-8"))
    declared = {*package.get("dependencies", {}), *package.get("peerDependencies", {})}
    source = NODE_KIT / "src"
    wrong = []
    for file in sorted(source.rglob("*.ts")):
        text = file.read_text(encoding="utf-8")
        for spec in re.findall(r"""(?:from|import)\s*\(?\s*["']([^"']+)["']""", text):
            if spec.startswith("."):
                target = (file.parent / spec).resolve()
                if not target.is_relative_to(source):
                    wrong.append(f"{file.name}: {spec}")
            elif not spec.startswith("node:"):
                name = "/".join(spec.split("/")[:2]) if spec.startswith("@") else spec.split("/")[0]
                if name not in declared:
                    wrong.append(f"{file.name}: {spec} (not in package.json)")
    assert not wrong, f"fastify-twinapi must stand alone: {wrong}"


def test_each_package_has_its_version_readme_and_changelog() -> None:
    for folder, module in PYTHON.items():
        pyproject = tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))
        assert pyproject["project"]["dynamic"] == ["version"], f"{folder}: the version comes from {module}.__version__"
        version = re.search(r'^__version__ = "(.+)"$', (ROOT / folder / module / "__init__.py").read_text(), re.M)
        assert version, f"{module}/__init__.py has no __version__"
        assert f"## {version.group(1)}" in (ROOT / folder / "CHANGELOG.md").read_text(encoding="utf-8")
        assert (ROOT / folder / "README.md").read_text(encoding="utf-8").strip()
    package = json.loads((NODE_KIT / "package.json").read_text(encoding="utf-8"))
    assert f"## {package['version']}" in (NODE_KIT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert {"README.md", "CHANGELOG.md"} <= set(package["files"])


def test_the_kit_is_released_at_one_version() -> None:
    """new-project pins all four packages to the generator's version, so they are released together."""
    versions = {project.__version__}
    for folder, module in PYTHON.items():
        text = (ROOT / folder / module / "__init__.py").read_text(encoding="utf-8")
        versions |= set(re.findall(r'^__version__ = "(.+)"$', text, re.M))
    versions.add(json.loads((NODE_KIT / "package.json").read_text(encoding="utf-8"))["version"])
    assert len(versions) == 1, versions
