"""examples/pins.py: a stale pin of the kit's builds is found and named, and the npm pin is rewritten."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pins


def _example(
    tmp_path: Path, wheels: dict[str, bytes], tarball: bytes
) -> tuple[Path, Path]:
    """A dist/ with the given builds and an example whose locks pin exactly them."""
    dist, example = tmp_path / "dist", tmp_path / "example"
    (example / "node-impl").mkdir(parents=True)
    dist.mkdir()
    lines = []
    for name, content in wheels.items():
        (dist / f"{name.replace('-', '_')}-0.2.0-py3-none-any.whl").write_bytes(content)
        lines.append(
            f"{name}==0.2.0 \\\n    --hash=sha256:{hashlib.sha256(content).hexdigest()}\n    # via -r requirements.in"
        )
    (example / "requirements.lock").write_text("# header\n" + "\n".join(lines) + "\n")
    (dist / "fastify-twinapi-0.2.0.tgz").write_bytes(tarball)
    lock = {
        "packages": {
            "": {
                "dependencies": {
                    "fastify-twinapi": "file:../../../dist/fastify-twinapi-0.2.0.tgz"
                }
            },
            "node_modules/fastify-twinapi": {
                "version": "0.2.0",
                "resolved": "file:../../../dist/fastify-twinapi-0.2.0.tgz",
                "integrity": pins.npm_integrity(dist / "fastify-twinapi-0.2.0.tgz"),
            },
            "node_modules/fastify": {
                "version": "5.12.8",
                "integrity": "sha512-registry",
            },
        }
    }
    (example / "node-impl" / "package-lock.json").write_text(
        json.dumps(lock, indent=2) + "\n"
    )
    return dist, example


WHEELS = {name: name.encode() for name in pins.KIT_WHEELS}


def test_pins_of_the_builds_in_dist_are_current(tmp_path: Path) -> None:
    dist, example = _example(tmp_path, WHEELS, b"tarball")
    assert pins.stale(dist, example) == []


def test_a_rebuilt_wheel_or_tarball_is_named(tmp_path: Path) -> None:
    dist, example = _example(tmp_path, WHEELS, b"tarball")
    (dist / "twinapi_runtime-0.2.0-py3-none-any.whl").write_bytes(b"rebuilt")
    (dist / "fastify-twinapi-0.2.0.tgz").write_bytes(b"rebuilt")
    assert pins.stale(dist, example) == [
        f"requirements.lock pins another build of twinapi-runtime 0.2.0 than {dist}/twinapi_runtime-0.2.0-py3-none-any.whl",
        f"node-impl/package-lock.json pins another build of node_modules/fastify-twinapi than {dist}/fastify-twinapi-0.2.0.tgz",
    ]


def test_a_missing_build_is_named(tmp_path: Path) -> None:
    dist, example = _example(tmp_path, WHEELS, b"tarball")
    (dist / "twinapi_codegen-0.2.0-py3-none-any.whl").unlink()
    assert pins.stale(dist, example) == [
        f"requirements.lock pins twinapi-codegen 0.2.0, and {dist} has no twinapi_codegen-0.2.0-py3-none-any.whl"
    ]


def test_pin_npm_rewrites_only_the_local_tarballs(tmp_path: Path) -> None:
    dist, example = _example(tmp_path, WHEELS, b"tarball")
    (dist / "fastify-twinapi-0.2.0.tgz").write_bytes(b"rebuilt")
    assert pins.pin_npm(dist, example) == ["node_modules/fastify-twinapi"]
    assert pins.stale(dist, example) == []
    lock = json.loads((example / "node-impl" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/fastify"]["integrity"] == "sha512-registry"
    assert pins.pin_npm(dist, example) == []  # nothing more to do


def test_check_fails_naming_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist, example = _example(tmp_path, WHEELS, b"tarball")
    assert pins.main(["check", "--dist", str(dist), "--example", str(example)]) == 0
    (dist / "twinapi_conformance-0.2.0-py3-none-any.whl").write_bytes(b"rebuilt")
    assert pins.main(["check", "--dist", str(dist), "--example", str(example)]) == 1
    assert (
        capsys.readouterr().err.splitlines()[-1].endswith(": run make realworld-lock")
    )
