"""TypeScript types of the whole document through openapi-typescript."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from twinapi_codegen.errors import ToolError


def generate(spec: Path, tool: Path, header: str) -> str:
    if not tool.exists():
        raise ToolError(f"{tool} not found: run `make setup` first (it installs openapi-typescript)")
    with tempfile.TemporaryDirectory(prefix="twinapi-ts-") as tmp:
        target = Path(tmp) / "schema.ts"
        source = _with_mapping_refs(spec, Path(tmp) / "openapi.json")
        done = subprocess.run(
            [str(tool), str(source), "--output", str(target)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not target.exists():
            raise ToolError(f"openapi-typescript failed:\n{(done.stderr or done.stdout).strip()}")
        return f"// {header}\n" + target.read_text(encoding="utf-8")


def _with_mapping_refs(spec: Path, copy: Path) -> Path:
    """A discriminator mapping may name a component schema bare (`Cat`) instead of by reference; openapi-typescript
    resolves only references. Returns the spec itself, or a copy whose bare names are references."""
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    schemas = set(((data.get("components") or {}).get("schemas") or {}) if isinstance(data, dict) else ())
    changed = False

    def walk(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            mapping = (
                node.get("discriminator", {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
            )
            if isinstance(mapping, dict):
                for key, value in mapping.items():
                    if isinstance(value, str) and "/" not in value and value in schemas:
                        mapping[key] = f"#/components/schemas/{value}"
                        changed = True
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    if not changed:
        return spec
    copy.write_text(json.dumps(data, default=str), encoding="utf-8")
    return copy
