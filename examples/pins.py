"""Whether examples/realworld's locks pin the kit build in dist/, and re-pinning its npm lock to it.

The example installs the kit from this checkout's `make dist` with hashes (requirements.lock) and an integrity
(node-impl/package-lock.json). A change to the kit's sources changes those builds under the same version, and the
example's `make setup` would then refuse them. `make realworld-lock` re-pins; `check` names it when it is due.

    python examples/pins.py check [--dist dist]     exit 1, with what differs, when a pin is stale
    python examples/pins.py pin-npm [--dist dist]   write the tarball's integrity into package-lock.json
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "realworld"
KIT_WHEELS = ("twinapi-codegen", "twinapi-runtime", "twinapi-conformance")
FIX = "run make realworld-lock"
_PIN = re.compile(
    r"^(?P<name>[a-z0-9-]+)==(?P<version>\S+)(?P<hashes>(?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)",
    re.MULTILINE,
)


def python_pins(lock: str) -> dict[str, tuple[str, set[str]]]:
    """Each package of a `uv pip compile --generate-hashes` lock: its version and the sha256 hashes it accepts."""
    return {
        pin["name"]: (
            pin["version"],
            set(re.findall(r"sha256:([0-9a-f]{64})", pin["hashes"])),
        )
        for pin in _PIN.finditer(lock)
    }


def npm_integrity(tarball: Path) -> str:
    return (
        "sha512-"
        + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    )


def _tarballs(lock: dict[str, object]) -> dict[str, dict[str, str]]:
    """The package-lock entries installed from a local tarball (`file:...tgz`), by their key."""
    packages = lock.get("packages", {})
    assert isinstance(packages, dict)
    return {
        key: entry
        for key, entry in packages.items()
        if isinstance(entry, dict)
        and str(entry.get("resolved", "")).startswith("file:")
        and str(entry["resolved"]).endswith(".tgz")
    }


def stale(dist: Path, example: Path = EXAMPLE) -> list[str]:
    """What the example pins that is not the build in `dist` (empty when every pin matches)."""
    problems = []
    pins = python_pins((example / "requirements.lock").read_text(encoding="utf-8"))
    for name in KIT_WHEELS:
        if name not in pins:
            problems.append(f"requirements.lock does not pin {name}")
            continue
        version, hashes = pins[name]
        wheel = dist / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        if not wheel.is_file():
            problems.append(
                f"requirements.lock pins {name} {version}, and {dist} has no {wheel.name}"
            )
        elif hashlib.sha256(wheel.read_bytes()).hexdigest() not in hashes:
            problems.append(
                f"requirements.lock pins another build of {name} {version} than {wheel}"
            )
    lock = json.loads(
        (example / "node-impl" / "package-lock.json").read_text(encoding="utf-8")
    )
    for key, entry in _tarballs(lock).items():
        tarball = dist / Path(entry["resolved"]).name
        if not tarball.is_file():
            problems.append(
                f"node-impl/package-lock.json pins {key} from {tarball.name}, which {dist} lacks"
            )
        elif entry.get("integrity") != npm_integrity(tarball):
            problems.append(
                f"node-impl/package-lock.json pins another build of {key} than {tarball}"
            )
    return problems


def pin_npm(dist: Path, example: Path = EXAMPLE) -> list[str]:
    """Writes each local tarball's integrity into the example's package-lock.json; returns the keys changed."""
    path = example / "node-impl" / "package-lock.json"
    lock = json.loads(path.read_text(encoding="utf-8"))
    changed = []
    for key, entry in _tarballs(lock).items():
        integrity = npm_integrity(dist / Path(entry["resolved"]).name)
        if entry.get("integrity") != integrity:
            entry["integrity"] = integrity
            changed.append(key)
    if changed:
        path.write_text(
            json.dumps(lock, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["check", "pin-npm"])
    parser.add_argument(
        "--dist",
        type=Path,
        default=ROOT / "dist",
        help="the kit's builds (default: dist/)",
    )
    parser.add_argument(
        "--example",
        type=Path,
        default=EXAMPLE,
        help="the project (default: examples/realworld)",
    )
    args = parser.parse_args(argv)
    if args.command == "pin-npm":
        for key in pin_npm(args.dist.resolve(), args.example):
            print(f"pinned {key} to {args.dist}")
        return 0
    problems = stale(args.dist.resolve(), args.example)
    for problem in problems:
        print(f"examples/realworld: {problem}", file=sys.stderr)
    if problems:
        print(
            f"examples/realworld's locks pin another build of the kit than {args.dist} holds: {FIX}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
