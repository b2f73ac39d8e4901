"""`twinapi upgrade`: moves a project's kit pins to another build of the kit; `twinapi migrate`: what a new kit
version changed in the project's own files.

`upgrade` rewrites the pins only (requirements.in, node-impl/package.json); `make upgrade-kit` then re-locks,
reinstalls, runs `migrate` with the new kit, regenerates and runs check-generated, so each step is one a user can also
run by hand. `migrate` rewrites a settings line only where the old line has one meaning and the new one is fixed by
the project's layout; hand-written code it never rewrites: it prints one line per change the user has to make, with
the file, the line and the CHANGELOG entry that explains it.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from twinapi_codegen.project import NODE_PACKAGE, PYTHON_PACKAGES, tarball, wheel

PIN = re.compile(r"^(twinapi-codegen|twinapi-runtime|twinapi-conformance)==(\S+)\s*$", re.MULTILINE)
TARBALL = re.compile(re.escape(NODE_PACKAGE) + r"-(.+)\.tgz")


class UpgradeError(Exception):
    """The pins cannot be moved (not a project, no complete build in the dist folder); nothing was changed."""


def builds(dist: Path) -> list[Version]:
    """The versions of which `dist` holds all four kit packages, oldest first."""
    if not dist.is_dir():
        raise UpgradeError(f"{dist}: no such folder (KIT_DIST in kit.mk names the folder of the kit's builds)")
    found = []
    for path in dist.glob(f"{NODE_PACKAGE}-*.tgz"):
        match = TARBALL.fullmatch(path.name)
        if match is None:
            continue
        try:
            version = Version(match.group(1))
        except InvalidVersion:
            continue
        if all(wheel(dist, name, match.group(1)).is_file() for name in PYTHON_PACKAGES):
            found.append(version)
    return sorted(found)


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise UpgradeError(f"{text!r} is not a version") from None


def bump(root: Path, dist: Path, to: str | None = None) -> tuple[str, str]:
    """Pins the project at `root` to version `to` (default: the newest complete build in `dist`); returns the
    version it was pinned to before and the one it is pinned to now."""
    requirements, package_json = root / "requirements.in", root / "node-impl/package.json"
    if not requirements.is_file() or not package_json.is_file():
        raise UpgradeError(f"{root.resolve()} is not a twinapi project (no requirements.in or node-impl/package.json)")
    text = requirements.read_text(encoding="utf-8")
    pins = {name: version for name, version in PIN.findall(text)}
    if set(pins) != set(PYTHON_PACKAGES):
        raise UpgradeError(f"requirements.in must pin each of {', '.join(PYTHON_PACKAGES)} with ==")
    available = builds(dist)
    if to is None:
        if not available:
            raise UpgradeError(f"{dist} holds no complete build of the kit (run `make dist` in the kit)")
        target = str(available[-1])
    elif _version(to) in available:
        target = to
    else:
        found = ", ".join(map(str, available)) or "none"
        raise UpgradeError(f"{dist} holds no complete {to} build of the kit (complete builds: {found})")
    before = ", ".join(sorted(set(pins.values())))
    package = json.loads(package_json.read_text(encoding="utf-8"))
    relative = Path(os.path.relpath(tarball(dist.absolute(), target), package_json.parent.absolute())).as_posix()
    package.setdefault("dependencies", {})[NODE_PACKAGE] = f"file:{relative}"
    requirements.write_text(PIN.sub(lambda m: f"{m.group(1)}=={target}", text), encoding="utf-8")
    package_json.write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
    return before, target


# Where 0.2.0's changes are explained: the changelog of twinapi-codegen (in its sdist and in the kit's checkout).
CHANGELOG_0_2 = 'twinapi-codegen CHANGELOG.md, 0.2.0 "Upgrading from 0.1"'
CONFORMANCE = Path("contract-tests/conformance.toml")
# The generated contract document, from contract-tests/ (the layout `twinapi new` writes).
CONTRACT_FROM_CONFORMANCE = "../python-impl/app/generated/contract.json"
# A top-level `spec = "..."` line (0.1's harness setting), before the first table header.
SPEC_LINE = re.compile(r'^spec\s*=\s*(?:"[^"\n]*"|\'[^\'\n]*\')[ \t]*(#.*)?$', re.MULTILINE)
MAIN_PY = Path("python-impl/app/main.py")
# The Node server's files that may register the kit's plugin.
NODE_APP = Path("node-impl/src/app")
REGISTER = re.compile(r"\bregister\(\s*twinapi\s*,")


@dataclass(frozen=True)
class Change:
    """One migration step: done (`rewritten`) or for the user to make, at `path`:`line`."""

    path: Path
    line: int
    message: str
    rewritten: bool

    def render(self) -> str:
        where = f"{self.path.as_posix()}:{self.line}"
        if self.rewritten:
            return f"migrated {where}: {self.message}"
        return f"to do {where}: {self.message} (see {CHANGELOG_0_2})"


def migrate(root: Path, *, write: bool = True) -> list[Change]:
    """Brings the project at `root` from 0.1's shapes to this kit's: rewrites what is safe, lists the rest. Without
    `write`, only says what it would do (the rewrites are listed as not made)."""
    return [*_conformance(root, write), *_bind(root), *_error_bodies(root)]


def _conformance(root: Path, write: bool) -> list[Change]:
    path = root / CONFORMANCE
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    top = re.split(r"^\s*\[", text, maxsplit=1, flags=re.MULTILINE)[0]
    found = SPEC_LINE.search(top)
    if found is None or re.search(r"^contract\s*=", top, re.MULTILINE):
        return []
    replacement = f'contract = "{CONTRACT_FROM_CONFORMANCE}"'
    if write:
        path.write_text(text[: found.start()] + replacement + text[found.end() :], encoding="utf-8")
    line = text.count("\n", 0, found.start()) + 1
    verb = "is now" if write else "becomes"
    message = f"`{found.group(0).strip()}` {verb} `{replacement}` (the harness fuzzes the generated contract document)"
    return [Change(CONFORMANCE, line, message, rewritten=write)]


def _bind(root: Path) -> list[Change]:
    path = root / MAIN_PY
    if not path.is_file():
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError:
        return []  # mypy and the server's start name it; nothing here can be said about it
    changes = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id != "bind":
            continue
        if len(node.args) + len(node.keywords) == 2 and not any(isinstance(a, ast.Starred) for a in node.args):
            message = (
                "bind() takes the error hooks as a third argument: bind(Service(), Security(), Errors()), "
                "with `from app.errors import Errors`"
            )
            changes.append(Change(MAIN_PY, node.lineno, message, rewritten=False))
    return changes


def _error_bodies(root: Path) -> list[Change]:
    folder = root / NODE_APP
    if not folder.is_dir():
        return []
    changes = []
    for path in sorted(folder.rglob("*.ts")):
        text = path.read_text(encoding="utf-8")
        if "errorBodies" in text:
            continue
        for found in REGISTER.finditer(text):
            message = (
                "the kit's plugin options gain `errorBodies: new Errors()`, with "
                '`import { Errors } from "./errors.js"`'
            )
            line = text.count("\n", 0, found.start()) + 1
            changes.append(Change(path.relative_to(root), line, message, rewritten=False))
    return changes
