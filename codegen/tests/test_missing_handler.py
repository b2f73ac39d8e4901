"""Adding an operation to the spec makes the type checker and the server's start name the missing handler."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import Project, run_mypy

from twinapi_codegen.generate import render

HANDLERS = """
from app.generated import operations as ops
from twinapi_runtime import Context


class Service(ops.Operations):
    async def get_ping(self, ctx: Context) -> ops.GetPingResponse:
        return ops.GetPing204()


class Security(ops.SecurityHandlers[None]):
    pass


class Errors(ops.ErrorBodies):
    pass


def start() -> None:
    from app.generated.routes import bind
    bind(Service(), Security(), Errors())
"""

NEW_OPERATION = """
  /pong:
    post:
      operationId: sendPong
      responses:
        "204":
          description: Sent.
"""


def _write(outputs: dict[Path, str]) -> None:
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(cwd)}
    return subprocess.run([sys.executable, *command], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def test_a_new_operation_is_named_by_mypy_and_by_the_server(project: Project, mypy_cache: Path) -> None:
    targets = project("minimal")
    package = targets.root / "python-impl"
    _write(render(targets))
    (package / "app" / "__init__.py").write_text("", encoding="utf-8")
    (package / "app" / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    assert run_mypy(package, "app", mypy_cache).returncode == 0
    assert _run(package, "-c", "import app.handlers as h; h.start()").returncode == 0

    spec = targets.spec
    spec.write_text(spec.read_text(encoding="utf-8") + NEW_OPERATION, encoding="utf-8")
    _write(render(targets))
    assert "send_pong" not in (package / "app" / "handlers.py").read_text(encoding="utf-8")  # never touched

    checked = run_mypy(package, "app", mypy_cache)
    assert checked.returncode != 0
    assert 'abstract attribute "send_pong"' in checked.stdout, checked.stdout
    started = _run(package, "-c", "import app.handlers as h; h.start()")
    assert started.returncode != 0
    assert "Service does not implement Operations for: sendPong" in started.stderr, started.stderr
