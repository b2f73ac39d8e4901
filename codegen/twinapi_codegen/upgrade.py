"""`twinapi upgrade`: moves a project's kit pins to another build of the kit.

It rewrites the pins only (requirements.in, node-impl/package.json); `make upgrade-kit` then re-locks, reinstalls,
regenerates and runs check-generated, so each step is one a user can also run by hand.
"""

from __future__ import annotations

import json
import os
import re
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
