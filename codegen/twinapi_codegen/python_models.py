"""Pydantic v2 models through datamodel-code-generator, fed a document whose schemas carry the names we chose."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from twinapi_codegen.errors import ToolError

# Wire formats stay strings in the models: the runtime checks them with the shared format definitions, and
# handlers write timestamps in the contract's exact form instead of pydantic's.
TYPE_MAPPINGS = ["string+email=string", "date=string", "date-time=string"]

EMPTY = '''"""No schemas: the contract defines no models."""
'''


def _without_null_defaults(node: Any) -> Any:
    """`default: null` on a schema whose type admits no null describes no value; pydantic would be handed `str =
    None`. Such a field is simply optional (and stays required when the schema says so)."""
    if isinstance(node, dict):
        out = {k: _without_null_defaults(v) for k, v in node.items()}
        if out.get("nullable") is False:  # the default; spelled out, it makes the generator emit `int = None`
            del out["nullable"]
        kind = out.get("type")
        if "default" in out and out["default"] is None and isinstance(kind, str) and kind != "null":
            if out.get("nullable") is not True:
                del out["default"]
        return out
    if isinstance(node, list):
        return [_without_null_defaults(v) for v in node]
    return node


def _overrides_note(source: str) -> str:
    """A model that redeclares, narrower, a field of the model it extends (allOf) is sound for pydantic, which
    validates every instance, but an incompatible override for mypy; only then does the module tell mypy so."""
    fields: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=class )", source):
        head = re.match(r"class (\w+)(?:\(([^)]*)\))?:", block)
        if head:
            fields[head[1]] = set(re.findall(r"^    (\w+): ", block, flags=re.MULTILINE))
            bases[head[1]] = [name.strip() for name in (head[2] or "").split(",")]
    if not any(fields[cls] & fields.get(base, set()) for cls in bases for base in bases[cls]):
        return source
    first, _, rest = source.partition("\n")
    return f'{first}\n# mypy: disable-error-code="assignment"\n{rest}'


def _without_runtime_checks(node: Any) -> Any:
    """Keywords the runtime's validator settles, which would make the models stricter than the schema.

    Patterns are ECMA-262; pydantic would compile them as Rust or Python regexes, refusing valid ones (named groups,
    identity escapes) when the models are imported. A discriminator would become a tagged union whose tags are the
    mapping's only, refusing the implicit tags (schema names) and a schema mapped under two tags; a plain union
    accepts what the validator accepted.
    """
    if isinstance(node, dict):
        return {
            k: _without_runtime_checks(v)
            for k, v in node.items()
            if not (k == "pattern" and isinstance(v, str)) and not (k == "discriminator" and isinstance(v, dict))
        }
    if isinstance(node, list):
        return [_without_runtime_checks(v) for v in node]
    return node


def generate(models: dict[str, Any], openapi_version: str, header: str, named: Iterable[str] = ()) -> str:
    """The models module; `named` are the classes the operations layer refers to, which it must define."""
    if not models:
        return f"# {header}\n{EMPTY}"
    document = {
        "openapi": openapi_version,
        "info": {"title": "models", "version": "0"},
        "paths": {},
        "components": {"schemas": _without_null_defaults(_without_runtime_checks(models))},
    }
    source = _run(document, header, [])
    if _missing(source, named):
        # datamodel-code-generator merges an array or scalar component into the models that use it and drops its
        # class; the operations (which it does not see) may still name it. Then every component keeps its class.
        source = _run(document, header, ["--no-collapse-root-models"])
    return _overrides_note(source)


def _missing(source: str, named: Iterable[str]) -> list[str]:
    defined = set(re.findall(r"^(?:class\s+)?([A-Za-z_][A-Za-z0-9_]*)\b", source, flags=re.MULTILINE))
    return [name for name in named if name not in defined]


def _run(document: dict[str, Any], header: str, extra: list[str]) -> str:
    with tempfile.TemporaryDirectory(prefix="twinapi-models-") as tmp:
        source = Path(tmp) / "models.json"
        target = Path(tmp) / "models.py"
        source.write_text(json.dumps(document, sort_keys=False), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(source),
            "--input-file-type",
            "openapi",
            "--output",
            str(target),
            "--preset",
            "standard-py311-20261027",
            "--target-pydantic-version",
            "2.11",
            "--openapi-scopes",
            "schemas",
            "--no-treat-dot-as-module",
            "--use-double-quotes",
            "--type-mappings",
            *TYPE_MAPPINGS,
            "--custom-file-header",
            f"# {header}",
            *extra,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not target.exists():
            raise ToolError(f"datamodel-code-generator failed:\n{done.stderr.strip()}")
        return target.read_text(encoding="utf-8")
