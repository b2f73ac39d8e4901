"""Loads an OpenAPI document, locates its nodes in the source and validates it before anything is generated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from twinapi_codegen.errors import Problem, SpecError, pointer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Document:
    """A parsed spec plus the source line of every node, so errors can point into the file."""

    def __init__(self, path: Path, data: dict[str, Any], lines: dict[str, int]) -> None:
        self.path = path
        self.data = data
        self._lines = lines

    def line(self, ptr: str) -> int | None:
        while True:
            if ptr in self._lines:
                return self._lines[ptr]
            if not ptr:
                return None
            ptr = ptr.rsplit("/", 1)[0]

    def problem(self, ptr: str, message: str) -> Problem:
        return Problem(ptr, message, self.line(ptr))

    def resolve(self, node: Any) -> Any:
        """Follows local `$ref`s until a non-reference node."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#"):
                return node
            seen.add(ref)
            node = self.at(ref[1:])
        return node

    def at(self, ptr: str) -> Any:
        node: Any = self.data
        for raw in ptr.split("/")[1:] if ptr else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node


def _index_lines(node: yaml.Node, ptr: str, out: dict[str, int]) -> None:
    out[ptr] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _index_lines(value, ptr + pointer(str(key.value)), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _index_lines(value, ptr + pointer(i), out)


def load(path: Path) -> Document:
    """Reads and validates the document; raises SpecError naming every problem found."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(name, [Problem("", f"cannot read the file: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise SpecError(name, [Problem("", f"not valid YAML or JSON: {exc}", line)]) from None
    if not isinstance(data, dict):
        raise SpecError(name, [Problem("", "the document must be a mapping with an `openapi` field")])
    lines: dict[str, int] = {}
    if node is not None:
        _index_lines(node, "", lines)
    doc = Document(path, data, lines)
    problems = _validate(doc)
    if problems:
        raise SpecError(name, problems)
    return doc


def _validate(doc: Document) -> list[Problem]:
    data = doc.data
    version = str(data.get("openapi", ""))
    if version.startswith("3.1"):
        validator: Any = OpenAPIV31SpecValidator
    elif version.startswith("3.0"):
        validator = OpenAPIV30SpecValidator
    else:
        return [doc.problem("/openapi", f"unsupported OpenAPI version {version!r}; 3.0.x and 3.1.x are supported")]
    problems = _schema_problems(doc) if version.startswith("3.1") else []
    if problems:
        return problems
    try:
        # The validator is not fond of non-string keys (YAML turns 200 into an int); JSON round-trip fixes that.
        # Patterns are ECMA-262, which it would check with Python's `re`; the schemas were checked above.
        plain = _without_patterns(json.loads(json.dumps(data, default=str)))
        for err in validator(plain).iter_errors():
            ptr = pointer(*err.absolute_path) if err.absolute_path else ""
            problems.append(doc.problem(ptr, err.message.split("\n", 1)[0]))
    except Exception as exc:  # the validator itself can fail on exotic documents; report, never trace
        problems.append(doc.problem("", f"the document could not be validated: {exc}"))
    return problems


def _without_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: "" if k == "pattern" and isinstance(v, str) else _without_patterns(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_patterns(v) for v in node]
    return node


def _schema_problems(doc: Document) -> list[Problem]:
    """Checks each schema object against JSON Schema 2020-12, with its own location (the spec validator loses it)."""
    problems = []
    # No format checks: `pattern` is an ECMA-262 regex, which Python's `re` would wrongly refuse.
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for ptr, schema in iter_schemas(doc.data):
        for err in meta.iter_errors(schema):
            inner = pointer(*err.absolute_path) if err.absolute_path else ""
            problems.append(doc.problem(ptr + inner, f"not a valid JSON Schema: {err.message}"))
    return problems


def iter_schemas(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The top-level schema objects of a document, with their pointers."""
    found: list[tuple[str, Any]] = []
    components = data.get("components") or {}
    for name, schema in (components.get("schemas") or {}).items():
        found.append((pointer("components", "schemas", name), schema))
    for path, item in (data.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in ("parameters", *HTTP_METHODS):
            node = item.get(method)
            base = pointer("paths", path, method)
            if method == "parameters":
                found += _param_schemas(node, base)
                continue
            if not isinstance(node, dict):
                continue
            found += _param_schemas(node.get("parameters"), base + "/parameters")
            body = node.get("requestBody")
            if isinstance(body, dict):
                found += _content_schemas(body.get("content"), base + "/requestBody/content")
            for status, response in (node.get("responses") or {}).items():
                if isinstance(response, dict):
                    found += _content_schemas(response.get("content"), base + pointer("responses", status, "content"))
    return found


def _param_schemas(params: Any, base: str) -> list[tuple[str, Any]]:
    if not isinstance(params, list):
        return []
    return [(f"{base}/{i}/schema", p["schema"]) for i, p in enumerate(params) if isinstance(p, dict) and "schema" in p]


def _content_schemas(content: Any, base: str) -> list[tuple[str, Any]]:
    if not isinstance(content, dict):
        return []
    return [
        (base + pointer(media, "schema"), m["schema"])
        for media, m in content.items()
        if isinstance(m, dict) and "schema" in m
    ]
