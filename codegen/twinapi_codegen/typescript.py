"""TypeScript types of the whole document through openapi-typescript."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from twinapi_codegen.errors import ToolError


def generate(spec: Path, tool: Path, header: str) -> str:
    if not tool.exists():
        raise ToolError(f"{tool} not found: run `make setup` first (it installs openapi-typescript)")
    with tempfile.TemporaryDirectory(prefix="twinapi-ts-") as tmp:
        target = Path(tmp) / "schema.ts"
        done = subprocess.run(
            [str(tool), str(spec), "--output", str(target)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not target.exists():
            raise ToolError(f"openapi-typescript failed:\n{(done.stderr or done.stdout).strip()}")
        return f"// {header}\n" + target.read_text(encoding="utf-8")
