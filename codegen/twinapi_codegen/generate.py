"""Renders every output of a spec in memory; nothing touches the disk until all of them succeeded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from twinapi_codegen import contract, kit_errors, loader, parser, python_models, typescript, visibility
from twinapi_codegen.errors import ToolError
from twinapi_codegen.formats import FORMATS

TEMPLATES = Path(__file__).parent / "templates"
LINE_LENGTH = "120"
# A property name TypeScript (and prettier, which unquotes what it can) writes without quotes.
_TS_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class Targets:
    root: Path  # the project root: the spec is named relative to it in every header
    spec: Path
    python_dir: Path | None
    typescript_dir: Path | None
    openapi_typescript: Path
    overlays: tuple[Path, ...] = ()  # applied in order to the spec as read (twinapi.toml's spec.overlays)


def _docline(text: str) -> str:
    """Text safe inside a triple-quoted docstring, a closing quote at its end included."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text[:-1] + '\\"' if text.endswith('"') else text


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    env.filters["docline"] = _docline
    env.filters["tskey"] = lambda s: s if _TS_IDENTIFIER.fullmatch(s) else json.dumps(s, ensure_ascii=False)
    env.filters["tsstr"] = lambda s: "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return env


def _format_python(name: str, source: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", LINE_LENGTH, "--stdin-filename", name, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ToolError(f"generated {name} is not valid Python (a template bug):\n{done.stderr.strip()}")
    return done.stdout


def _render_all(env: jinja2.Environment, folder: str, variables: dict[str, Any]) -> dict[str, str]:
    out = {}
    for template in sorted((TEMPLATES / folder).glob("*.j2")):
        out[template.name[: -len(".j2")]] = env.get_template(f"{folder}/{template.name}").render(variables)
    return out


def _variables(targets: Targets) -> dict[str, Any]:
    loaded = loader.load(targets.spec, targets.overlays)
    # Models and types have a request shape and a response shape of each schema with readOnly or writeOnly
    # properties; request bodies and responses refer to theirs.
    generation = loaded.for_generation()
    doc = generation.derived(visibility.typed(generation.data))
    ctx = parser.build(doc)
    # The headers name everything the files are made from: a changed overlay is a stale output like a changed spec.
    sources = os.path.relpath(targets.spec, targets.root)
    if targets.overlays:
        overlays = ", ".join(Path(os.path.relpath(o, targets.root)).as_posix() for o in targets.overlays)
        sources += f" with {overlays}"
    variables = ctx.template_vars(sources)
    variables["formats"] = FORMATS
    variables["openapi"] = str(doc.data["openapi"])
    variables["models"] = ctx.models
    variables["document"] = doc
    errors = kit_errors.table(ctx)
    variables["error_shapes"] = errors.shapes
    variables["contract"] = contract.render(contract.document(loaded, variables["header"], errors))
    return variables


def scaffold(targets: Targets) -> dict[Path, str]:
    """Starting points for the hand-written files that do not exist yet; existing ones are never touched."""
    variables = _variables(targets)
    env = _environment()
    outputs: dict[Path, str] = {}
    sides = (("python", targets.python_dir), ("typescript", targets.typescript_dir))
    for side, generated in sides:
        if generated is None or not (TEMPLATES / "scaffold" / side).is_dir():
            continue
        folder = TEMPLATES / "scaffold" / side
        for template in sorted(folder.rglob("*.j2")):  # subfolders too: scaffold/typescript/app/ -> src/app/
            relative = template.relative_to(folder).as_posix()[: -len(".j2")]
            path = generated.parent / relative
            if not path.exists():
                text = env.get_template(f"scaffold/{side}/{relative}.j2").render(variables)
                outputs[path] = _format_python(path.name, text) if path.name.endswith(".py") else text
    return outputs


def render(targets: Targets) -> dict[Path, str]:
    """Every generated file of the spec, keyed by its path. Raises SpecError or ToolError, writing nothing."""
    variables = _variables(targets)
    env = _environment()
    outputs: dict[Path, str] = {}
    if targets.python_dir is not None:
        files = _render_all(env, "python", variables)
        named = {op.get("params_model") for op in variables["operations"]}
        named |= {op["body"]["model"] for op in variables["operations"] if op["body"]}
        named |= {r["model"] for op in variables["operations"] for r in op["responses"]}
        models = python_models.generate(
            variables["models"], variables["openapi"], variables["header"], sorted(n for n in named if n)
        )
        files["models.py"] = models
        for name, source in files.items():
            outputs[targets.python_dir / name] = _format_python(name, source)
        outputs[targets.python_dir / contract.FILE_NAME] = variables["contract"]
    if targets.typescript_dir is not None:
        # service.ts runs from src/generated/ and, built, from dist/generated/: both reach the document in src/.
        generated = targets.typescript_dir
        variables["contract_url"] = f"../../{generated.parent.name}/{generated.name}/{contract.FILE_NAME}"
        files = _render_all(env, "typescript", variables)
        doc: loader.Document = variables["document"]
        # The types are made from the document as generated from, like the models: JSON, never the YAML again.
        files["schema.ts"] = typescript.generate(doc.data, targets.openapi_typescript, variables["header"])
        files[contract.FILE_NAME] = variables["contract"]
        for name, source in files.items():
            outputs[targets.typescript_dir / name] = source
    return outputs
