"""`new-project`: a complete, self-contained project with this kit's layout, generated from one spec.

What goes into a project is declared in kit.toml (the manifest): files copied verbatim (kit), files written for the
project (derived), and the generated layers. The project is built in a temporary folder next to its destination and
renamed into place at the end, so an error leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from twinapi_codegen import generate, loader, writer
from twinapi_codegen.errors import SpecError

PACKAGE = Path(__file__).resolve().parent
KIT_ROOT = PACKAGE.parents[1]
MANIFEST = PACKAGE / "kit.toml"
PROJECT_TEMPLATES = PACKAGE / "templates" / "project"
SECTIONS = ("kit", "derived", "generated", "example", "kit-development")
# Never part of a project, wherever they are: installs, builds, caches and reports.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "node_modules",
        "dist",
        "build",
        "reports",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".schemathesis",
    }
)
IGNORED_SUFFIXES = (".pyc", ".pyo")


class ProjectError(Exception):
    """The project cannot be written (destination not empty, spec missing, kit incomplete); nothing was written."""


@dataclass(frozen=True)
class Manifest:
    sections: dict[str, tuple[str, ...]]
    npm_example: tuple[str, ...]
    python_example: tuple[str, ...]
    makefile_differs: dict[str, str]

    def classify(self, path: str) -> list[str]:
        """The sections whose patterns match a repository-relative path (exactly one, when the manifest is right)."""
        return [name for name, patterns in self.sections.items() if any(matches(p, path) for p in patterns)]


def load_manifest(path: Path = MANIFEST) -> Manifest:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    differs = {}
    for entry in data["makefile"]["differs"]:
        target, _, why = entry.partition(": ")
        differs[target] = why
    return Manifest(
        sections={name: tuple(data[name]["paths"]) for name in SECTIONS},
        npm_example=tuple(data["npm"]["example"]),
        python_example=tuple(data["python"]["example"]),
        makefile_differs=differs,
    )


def _pattern(glob: str) -> re.Pattern[str]:
    out = []
    for part in re.split(r"(\*\*|\*)", glob):
        out.append(".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part))
    return re.compile("".join(out))


def matches(glob: str, path: str) -> bool:
    return _pattern(glob).fullmatch(path) is not None


def _walk(root: Path, start: Path) -> Iterator[Path]:
    if start.is_file():
        yield start
        return
    for folder, dirs, files in os.walk(start):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        for name in sorted(files):
            if not name.endswith(IGNORED_SUFFIXES):
                yield Path(folder) / name


def kit_files(manifest: Manifest, root: Path = KIT_ROOT) -> list[str]:
    """Every file of the kit present under root, as root-relative POSIX paths."""
    found: set[str] = set()
    for glob in manifest.sections["kit"]:
        static = glob.split("*", 1)[0]
        start = root / static if "*" not in glob else root / static.rsplit("/", 1)[0]
        if not start.exists():
            continue
        for path in _walk(root, start):
            relative = path.relative_to(root).as_posix()
            if matches(glob, relative):
                found.add(relative)
    return sorted(found)


def python_pyproject(text: str, example: Iterable[str]) -> str:
    """The kit's python-impl/pyproject.toml without the dependencies only the example uses."""
    names = "|".join(re.escape(name) for name in example)
    return re.sub(rf'^\s*"({names})(\[[^\]]*\])?[^"]*",?\n', "", text, flags=re.MULTILINE)


def _resolve(packages: dict[str, Any], location: str, name: str) -> str | None:
    """Node's lookup of `name` from the package installed at `location` in a lockfile's packages table."""
    base = location
    while True:
        candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if candidate in packages:
            return candidate
        if not base:
            return None
        cut = base.rfind("/node_modules/")
        base = base[:cut] if cut >= 0 else ""


def _reachable(packages: dict[str, Any], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = [("", name) for name in roots]
    while todo:
        location, name = todo.pop()
        found = _resolve(packages, location, name)
        if found is None or found in seen:
            continue
        seen.add(found)
        entry = packages[found]
        for key in ("dependencies", "optionalDependencies", "peerDependencies"):
            todo.extend((found, dep) for dep in entry.get(key, {}))
    return seen


def node_package(package: dict[str, Any], lock: dict[str, Any], example: Iterable[str]) -> tuple[str, str]:
    """package.json and package-lock.json without the example's packages and whatever only they needed."""
    drop = set(example)
    package = json.loads(json.dumps(package))
    lock = json.loads(json.dumps(lock))
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        for name in drop & set(package.get(key, {})):
            del package[key][name]
    for name in drop & set(package.get("allowScripts", {})):
        del package["allowScripts"][name]
    package["description"] = "The Node implementation of openapi.yaml: Fastify 5 + fastify-openapi-glue, TypeScript."
    packages = lock["packages"]
    root = packages[""]
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        if key in package:
            root[key] = dict(package[key])
        else:
            root.pop(key, None)
    production = _reachable(packages, [*package.get("dependencies", {}), *package.get("optionalDependencies", {})])
    everything = production | _reachable(packages, package.get("devDependencies", {}))
    for location in list(packages):
        if location and location not in everything:
            del packages[location]
        elif location and location not in production:
            packages[location]["dev"] = True
    return json.dumps(package, indent=2) + "\n", json.dumps(lock, indent=2) + "\n"


def _title(spec: Path) -> str:
    info = loader.load(spec).data.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    return str(title).strip() if title and str(title).strip() else "API"


def _derived(manifest: Manifest, kit_root: Path, spec: Path) -> dict[str, str]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    package, lock = node_package(
        json.loads((kit_root / "node-impl/package.json").read_text(encoding="utf-8")),
        json.loads((kit_root / "node-impl/package-lock.json").read_text(encoding="utf-8")),
        manifest.npm_example,
    )
    pyproject = (kit_root / "python-impl/pyproject.toml").read_text(encoding="utf-8")
    return {
        "Makefile": (PROJECT_TEMPLATES / "Makefile").read_text(encoding="utf-8"),
        "README.md": env.get_template("README.md.j2").render(title=_title(spec)),
        ".gitignore": (PROJECT_TEMPLATES / "gitignore").read_text(encoding="utf-8"),
        "python-impl/pyproject.toml": python_pyproject(pyproject, manifest.python_example),
        "node-impl/package.json": package,
        "node-impl/package-lock.json": lock,
        "contract-tests/conformance.toml": (PROJECT_TEMPLATES / "conformance.toml").read_text(encoding="utf-8"),
        "contract-tests/schemathesis.toml": (PROJECT_TEMPLATES / "schemathesis.toml").read_text(encoding="utf-8"),
        "contract-tests/vectors.json": "[]\n",
    }


def _check_destination(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ProjectError(f"{dest} exists and is not a folder; choose a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise ProjectError(f"{dest} exists and is not empty; choose a new or empty folder")


def create(spec: Path, dest: Path, *, kit_root: Path = KIT_ROOT, openapi_typescript: Path | None = None) -> Path:
    """Writes the project for `spec` into `dest` (new or empty). Raises ProjectError, SpecError or ToolError and
    then leaves the disk as it was."""
    given = spec
    spec, dest = spec.resolve(), dest.absolute()
    if not spec.is_file():
        raise ProjectError(f"{spec}: no such spec file")
    _check_destination(dest)
    tool = openapi_typescript or kit_root / "node-impl/node_modules/.bin/openapi-typescript"
    manifest = load_manifest(kit_root / "codegen/twinapi_codegen/kit.toml")
    created = dest.parent
    while not created.parent.exists():
        created = created.parent
    first_missing = None if dest.parent.exists() else created
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        for relative in kit_files(manifest, kit_root):
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(kit_root / relative, target)
        shutil.copyfile(spec, staging / "openapi.yaml")
        for relative, text in _derived(manifest, kit_root, staging / "openapi.yaml").items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        targets = generate.Targets(
            root=staging,
            spec=staging / "openapi.yaml",
            python_dir=staging / "python-impl/app/generated",
            typescript_dir=staging / "node-impl/src/generated",
            openapi_typescript=tool,
        )
        outputs = generate.render(targets)
        outputs.update(generate.scaffold(targets))
        writer.write(outputs)
        if dest.is_dir():
            _check_destination(dest)  # still empty: nothing else wrote into it meanwhile
            dest.rmdir()
        os.replace(staging, dest)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if first_missing is not None:
            shutil.rmtree(first_missing, ignore_errors=True)
        if isinstance(exc, SpecError):  # name the user's spec, not the copy in the staging folder
            raise SpecError(str(given), exc.problems) from None
        raise
    return dest
