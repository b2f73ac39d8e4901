"""`twinapi new`: a project that depends on the kit's built packages, generated from one spec.

A project holds its spec, its settings, its generated code, its handlers and its tests; the kit reaches it as pinned
packages (twinapi-codegen, twinapi-runtime, twinapi-conformance from PyPI-style wheels, fastify-twinapi as an npm
tarball) installed from a folder of built artefacts, `make dist`'s dist/ by default. Both of its locks are written
here, seeded with this kit's locks so a new project starts on the versions the kit is tested with.

What each file of this repository is to a project is declared in kit.toml (the manifest). The project is built in a
temporary folder next to its destination and renamed into place at the end, so an error leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from twinapi_codegen import __version__, generate, loader, settings, writer
from twinapi_codegen.errors import Problem, SpecError

PACKAGE = Path(__file__).resolve().parent
# The kit checkout this generator runs from (installed editable there); a project is made from one.
KIT_ROOT = PACKAGE.parents[1]
MANIFEST = PACKAGE / "kit.toml"
PROJECT_TEMPLATES = PACKAGE / "templates" / "project"
# Where a project keeps the overlays it was made with (twinapi.toml lists them).
OVERLAYS = "overlays"
SECTIONS = ("packages", "project", "derived", "generated", "example", "examples", "kit-development")
# The kit's packages a project pins, each with its artefact in the dist folder ({v}: the version).
PYTHON_PACKAGES = ("twinapi-codegen", "twinapi-runtime", "twinapi-conformance")
NODE_PACKAGE = "fastify-twinapi"
# The project's Python implementation is installed editable under this name and kept out of its lock.
APP_DISTRIBUTION = "app"
STEP_TIMEOUT = 600  # seconds for one lock resolution


class ProjectError(Exception):
    """The project cannot be written (destination not empty, spec missing, kit not built); nothing was written."""


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


def wheel(dist: Path, package: str, version: str) -> Path:
    return dist / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"


def tarball(dist: Path, version: str) -> Path:
    return dist / f"{NODE_PACKAGE}-{version}.tgz"


def require_artefacts(dist: Path, version: str) -> None:
    missing = [p.name for p in (*(wheel(dist, n, version) for n in PYTHON_PACKAGES), tarball(dist, version))]
    missing = [name for name in missing if not (dist / name).is_file()]
    if missing:
        raise ProjectError(f"{dist} lacks the kit's {version} build ({', '.join(missing)}): run `make dist` in the kit")


def python_pyproject(text: str, example: Iterable[str]) -> str:
    """The example's python-impl/pyproject.toml for a project: its own name, without the example's dependencies."""
    names = "|".join(re.escape(name) for name in example)
    text = re.sub(rf'^\s*"({names})(\[[^\]]*\])?[^"]*",?\n', "", text, flags=re.MULTILINE)
    text = re.sub(r'^name = ".*"$', f'name = "{APP_DISTRIBUTION}"', text, count=1, flags=re.MULTILINE)
    return re.sub(
        r"^description = .*$",
        'description = "The Python implementation of openapi.yaml: its generated layer and handlers."',
        text,
        count=1,
        flags=re.MULTILINE,
    )


def requirements_in(dev_in: str, version: str) -> str:
    """The project's requirements.in: the kit pinned, the project's own package, the kit's development tools."""
    tools = [line for line in dev_in.splitlines() if line.strip() and not line.startswith(("#", "-e", "-r"))]
    return "\n".join(
        [
            "# What `make lock` resolves into requirements.lock (with hashes; the kit's packages from KIT_DIST, see",
            "# kit.mk). The kit is pinned to one version: `make upgrade-kit` moves the pins. The project's Python",
            "# implementation is installed editable and kept out of the lock; the rest are the development tools.",
            *(f"{name}=={version}" for name in PYTHON_PACKAGES),
            "-e ./python-impl",
            *tools,
            "",
        ]
    )


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


def node_package(
    package: dict[str, Any], lock: dict[str, Any], example: Iterable[str], kit_spec: str
) -> tuple[str, str]:
    """package.json and the seed of package-lock.json for a project: the example's without its own packages and
    whatever only they needed, and fastify-twinapi from `kit_spec` (a tarball) instead of the npm workspace. npm
    completes the seed (the tarball's entry) in `_lock_node`."""
    drop = set(example)
    package = json.loads(json.dumps(package))
    lock = json.loads(json.dumps(lock))
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        for name in drop & set(package.get(key, {})):
            del package[key][name]
    for name in drop & set(package.get("allowScripts", {})):
        del package["allowScripts"][name]
    package.pop("workspaces", None)
    package["name"] = "app"
    package["version"] = "0.1.0"
    package["description"] = "The Node implementation of openapi.yaml: Fastify 5 + fastify-twinapi, TypeScript."
    package["dependencies"][NODE_PACKAGE] = kit_spec
    # The example builds the workspace's kit first; a project installs it built.
    package["scripts"] = {
        name: script.replace(f"npm run --silent build -w {NODE_PACKAGE} && ", "")
        for name, script in package.get("scripts", {}).items()
    }
    packages = lock["packages"]
    workspace = packages.pop("kit", None)
    if workspace is not None:  # the kit's dependencies stay locked where the workspace had them
        packages[f"node_modules/{NODE_PACKAGE}"] = workspace
    root = packages[""]
    root.pop("workspaces", None)
    root["name"], root["version"] = package["name"], package["version"]
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        if key in package:
            root[key] = dict(package[key])
        else:
            root.pop(key, None)
    lock["name"], lock["version"] = package["name"], package["version"]
    production = _reachable(packages, [*package.get("dependencies", {}), *package.get("optionalDependencies", {})])
    everything = production | _reachable(packages, package.get("devDependencies", {}))
    for location in list(packages):
        if location and location not in everything:
            del packages[location]
        elif location and location not in production:
            packages[location]["dev"] = True
    return json.dumps(package, indent=2) + "\n", json.dumps(lock, indent=2) + "\n"


def _run(command: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
            env={**os.environ, **(env or {})},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProjectError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        raise ProjectError(f"{what} failed:\n{(done.stderr or done.stdout).strip()}")


def lock_python(project: Path, dist: Path) -> None:
    """requirements.lock from requirements.in, with hashes, the kit's wheels from `dist` (as `make lock` does)."""
    _run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "--quiet",
            "--python-version",
            "3.11",
            "--generate-hashes",
            "--universal",
            "--find-links",
            str(dist),
            "--no-emit-package",
            APP_DISTRIBUTION,
            "requirements.in",
            "-o",
            "requirements.lock",
        ],
        project,
        "resolving requirements.lock (uv pip compile)",
        env={"UV_CUSTOM_COMPILE_COMMAND": "make lock"},
    )


def _lock_node(node: Path) -> None:
    _run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
        node,
        "locking node-impl/package-lock.json (npm install --package-lock-only)",
    )


def _title(spec: Path, overlays: tuple[Path, ...]) -> str:
    info = loader.load(spec, overlays).data.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    return str(title).strip() if title and str(title).strip() else "API"


def _copied(manifest: Manifest, kit_root: Path) -> dict[str, str]:
    """The files of this repository a project gets as they are (tool settings, empty package markers)."""
    out = {}
    for glob in manifest.sections["project"]:
        if "*" in glob:
            raise ProjectError(f"kit.toml: [project] lists files, not patterns: {glob}")
        out[glob] = (kit_root / glob).read_text(encoding="utf-8")
    return out


def _derived(
    manifest: Manifest, kit_root: Path, spec: Path, overlays: tuple[Path, ...], dist: Path, staging: Path
) -> dict[str, str]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    node_dir = staging / "node-impl"
    kit_spec = "file:" + Path(os.path.relpath(tarball(dist, __version__), node_dir)).as_posix()
    package, lock = node_package(
        json.loads((kit_root / "node-impl/package.json").read_text(encoding="utf-8")),
        json.loads((kit_root / "node-impl/package-lock.json").read_text(encoding="utf-8")),
        manifest.npm_example,
        kit_spec,
    )
    pyproject = (kit_root / "python-impl/pyproject.toml").read_text(encoding="utf-8")
    template = PROJECT_TEMPLATES
    return {
        "Makefile": (template / "Makefile").read_text(encoding="utf-8"),
        "kit.mk": env.get_template("kit.mk.j2").render(dist=str(dist)),
        "README.md": env.get_template("README.md.j2").render(title=_title(spec, overlays), version=__version__),
        settings.FILE_NAME: settings.render([o.relative_to(staging).as_posix() for o in overlays]),
        ".gitignore": (template / "gitignore").read_text(encoding="utf-8"),
        "requirements.in": requirements_in((kit_root / "requirements-dev.in").read_text(encoding="utf-8"), __version__),
        # The seed: uv keeps the versions it finds here, so the project starts on what the kit is tested with.
        "requirements.lock": (kit_root / "requirements.lock").read_text(encoding="utf-8"),
        "python-impl/pyproject.toml": python_pyproject(pyproject, manifest.python_example),
        "node-impl/package.json": package,
        "node-impl/package-lock.json": lock,
        "contract-tests/conformance.toml": (template / "conformance.toml").read_text(encoding="utf-8"),
        "contract-tests/schemathesis.toml": (template / "schemathesis.toml").read_text(encoding="utf-8"),
        "contract-tests/vectors.json": "[]\n",
    }


def _check_destination(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ProjectError(f"{dest} exists and is not a folder; choose a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise ProjectError(f"{dest} exists and is not empty; choose a new or empty folder")


def create(
    spec: Path,
    dest: Path,
    *,
    dist: Path | None = None,
    kit_root: Path = KIT_ROOT,
    openapi_typescript: Path | None = None,
    lock: bool = True,
    overlays: Iterable[Path] = (),
) -> Path:
    """Writes the project for `spec` into `dest` (new or empty), depending on the kit's build in `dist`; without
    `lock`, no lock files (a throwaway project run in an environment installed already). `overlays` are copied into
    its overlays/ folder and listed, in order, in its twinapi.toml. Raises ProjectError, SpecError or ToolError and
    then leaves the disk as it was."""
    given = spec
    spec, dest = spec.resolve(), dest.absolute()
    dist = (dist or kit_root / "dist").absolute()
    if not spec.is_file():
        raise ProjectError(f"{spec}: no such spec file")
    given_overlays = list(overlays)
    for path in given_overlays:
        if not path.is_file():
            raise ProjectError(f"{path}: no such overlay file")
    names = [path.name for path in given_overlays]
    if len(set(names)) != len(names):
        raise ProjectError(f"two overlays share a file name ({', '.join(names)}); the project keeps them side by side")
    if not (kit_root / "node-impl/package-lock.json").is_file():
        raise ProjectError(f"{kit_root} is not a checkout of the kit: `twinapi new` runs from one (make new-project)")
    _check_destination(dest)
    require_artefacts(dist, __version__)
    tool = openapi_typescript or kit_root / "node-impl/node_modules/.bin/openapi-typescript"
    manifest = load_manifest(kit_root / "codegen/twinapi_codegen/kit.toml")
    created = dest.parent
    while not created.parent.exists():
        created = created.parent
    first_missing = None if dest.parent.exists() else created
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    copies = tuple(staging / OVERLAYS / name for name in names)
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # a folder like any other the user makes, not mkdtemp's private one
        shutil.copyfile(spec, staging / "openapi.yaml")
        for source, copied in zip(given_overlays, copies, strict=True):
            copied.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, copied)
        files = _copied(manifest, kit_root)
        files.update(_derived(manifest, kit_root, staging / "openapi.yaml", copies, dist, staging))
        if not lock:
            del files["requirements.lock"], files["node-impl/package-lock.json"]
        for relative, text in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        targets = generate.Targets(
            root=staging,
            spec=staging / "openapi.yaml",
            python_dir=staging / "python-impl/app/generated",
            typescript_dir=staging / "node-impl/src/generated",
            openapi_typescript=tool,
            overlays=copies,
        )
        outputs = generate.render(targets)
        outputs.update(generate.scaffold(targets))
        writer.write(outputs)
        if lock:
            lock_python(staging, dist)
            _lock_node(staging / "node-impl")
        if dest.is_dir():
            _check_destination(dest)  # still empty: nothing else wrote into it meanwhile
            dest.rmdir()
        os.replace(staging, dest)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if first_missing is not None:
            shutil.rmtree(first_missing, ignore_errors=True)
        if isinstance(exc, SpecError):  # name the user's spec and overlays, not the copies in the staging folder
            originals = {str(c): str(o) for c, o in zip(copies, given_overlays, strict=True)}
            problems = [_renamed(p, originals) for p in exc.problems]
            raise SpecError(str(given), problems) from None
        raise
    return dest


def _renamed(problem: Problem, names: dict[str, str]) -> Problem:
    if problem.file not in names:
        return problem
    return Problem(problem.pointer, problem.message, problem.line, problem.warning, names[problem.file])
