"""Loads an OpenAPI document, locates its nodes in the source and validates it before anything is generated."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import ExtraParametersError

from twinapi_codegen import dialect, overlay, yaml12
from twinapi_codegen.errors import Problem, SpecError, pointer, warn

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Document:
    """A parsed spec plus the source line of every node, so errors can point into the file.

    `warnings` are what the generator forgives in it, located. `for_generation()` is the document the generated
    code is made from, when that differs from the file (`adjusted`): see `load`. A node an overlay wrote is located
    in that overlay: `files` maps its pointer to the overlay's name.
    """

    def __init__(
        self,
        path: Path,
        data: dict[str, Any],
        lines: dict[str, int],
        warnings: list[Problem] | None = None,
        files: dict[str, str] | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self._lines = lines
        self._files = files or {}
        self.warnings = list(warnings or [])
        self._served: dict[str, Any] | None = None  # set by `load` when generation reads something else
        self.adjusted = False  # whether this is such a document

    def for_generation(self) -> Document:
        """The document as generated from: itself, or a copy with what the generator forgives settled."""
        if self._served is None:
            return self
        doc = Document(self.path, self._served, self._lines, self.warnings, self._files)
        doc.adjusted = True
        return doc

    def derived(self, data: dict[str, Any]) -> Document:
        """The same source read as other data: a copy the generator reshaped, whose original nodes keep their lines."""
        doc = Document(self.path, data, self._lines, self.warnings)
        doc.adjusted = self.adjusted or data is not self.data
        return doc

    def line(self, ptr: str) -> int | None:
        return self._source(ptr)[1]

    def _source(self, ptr: str) -> tuple[str | None, int | None]:
        """The overlay that wrote the node (None: the spec itself) and its line there."""
        while True:
            if ptr in self._lines:
                return self._files.get(ptr), self._lines[ptr]
            if not ptr:
                return None, None
            ptr = ptr.rsplit("/", 1)[0]

    def problem(self, ptr: str, message: str) -> Problem:
        file, line = self._source(ptr)
        return Problem(ptr, message, line, file=file)

    def warning(self, ptr: str, message: str) -> Problem:
        file, line = self._source(ptr)
        return Problem(ptr, message, line, warning=True, file=file)

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


def load(path: Path, overlays: Sequence[Path] = ()) -> Document:
    """Reads the document, applies its overlays in order and validates the result; raises SpecError naming every
    problem found.

    What does not stop the document from being served becomes a located warning (also handed to
    `errors.warn`), and the generator reads the document the way the runtimes do: a 3.1 document's 3.0-style
    `nullable` and boolean bounds upgraded, each enum value once, no default that its own schema refuses.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(name, [Problem("", f"cannot read the file: {exc}")]) from None
    try:
        data, lines = yaml12.read(text)
    except yaml12.YamlProblems as exc:
        raise SpecError(name, exc.problems) from None
    if not isinstance(data, dict):
        raise SpecError(name, [Problem("", "the document must be a mapping with an `openapi` field")])
    # Overlays are applied to the document as read, before anything checks it, so that /openapi.json, the generated
    # code and the runtimes' validation all describe the overlaid document: the corrected spec is the contract.
    files: dict[str, str] = {}
    if overlays:
        overlaid = overlay.apply(path, data, lines, overlays)
        data, lines, files = overlaid.data, overlaid.lines, overlaid.files
    doc = Document(path, data, lines, files=files)
    problems, served = _validate(doc)
    doc.warnings.sort(key=lambda w: (w.line or 0, w.pointer))
    for found in doc.warnings:
        warn(found)
    if problems:
        raise SpecError(name, problems)
    doc._served = served
    return doc


def _validate(doc: Document) -> tuple[list[Problem], dict[str, Any] | None]:
    """The problems that refuse the document, and the document to generate from if it is not the file's own.
    Warnings go to doc.warnings."""
    data = doc.data
    version = str(data.get("openapi", ""))
    if version.startswith("3.1"):
        validator: Any = OpenAPIV31SpecValidator
    elif version.startswith("3.0"):
        validator = OpenAPIV30SpecValidator
    else:
        unsupported = f"unsupported OpenAPI version {version!r}; 3.0.x and 3.1.x are supported"
        return [doc.problem("/openapi", unsupported)], None
    modern = version.startswith("3.1")
    for ptr, repeated in dialect.repeated_enums(data):
        shown = ", ".join(repr(v) for v in repeated[:5])
        if len(repeated) > 5:
            shown += f" and {len(repeated) - 5} other values"
        doc.warnings.append(doc.warning(ptr, f"enum lists {shown} more than once; each value is taken once"))
    view = copy.deepcopy(data)
    dialect.settle(view)
    if modern:
        for ptr, message in dialect.boolean_bounds(data):
            doc.warnings.append(doc.warning(ptr, message))
        for ptr, declared in dialect.foreign_dialects(data):
            doc.warnings.append(
                doc.warning(
                    ptr,
                    f"the dialect {declared} is not followed: every schema is read as JSON Schema 2020-12 (with "
                    "OpenAPI 3.0's boolean bounds and `nullable` understood), as the runtimes validate it",
                )
            )
        view = dialect.upgrade(view, nullable=False)  # nodes stay where they are in the source
    problems = _dangling_references(doc, data) or (_schema_problems(doc, view) if modern else [])
    if problems:
        return problems, None
    defaults: list[tuple[str, str]] = []
    empty_responses: set[str] = set()
    try:
        # The validator is not fond of non-string keys (YAML turns 200 into an int); JSON round-trip fixes that.
        # Patterns are ECMA-262, which it would check with Python's `re`; the schemas were checked above.
        for err in _locating_validator(validator, view, defaults)(_without_patterns(view)).iter_errors():
            located = getattr(err, "located", None)
            # A keyword check's path ends at the schema it checked, which may be a reference to it.
            ptr = _real_pointer(view, located, follow=True) if located else _real_pointer(view, err.absolute_path)
            if ptr.endswith("/responses") and _at(view, ptr) == {}:
                empty_responses.add(ptr)
            elif isinstance(err, ExtraParametersError):
                # JSON Schema's own meaning: the property must be there, with any value.
                undefined = err.message.split(": ", 1)[-1]
                doc.warnings.append(
                    doc.warning(
                        ptr,
                        f"`required` names {undefined}, which neither the schema nor its allOf defines; "
                        "any value of it is accepted",
                    )
                )
            else:
                problems.append(doc.problem(ptr, err.message.split("\n", 1)[0]))
    except Exception as exc:  # the validator itself can fail on exotic documents; report, never trace
        if not problems:  # its later checks trip over what its first one already refused
            problems.append(doc.problem("", f"the document could not be validated: {exc or type(exc).__name__}"))
    for ptr in sorted(empty_responses):
        doc.warnings.append(
            doc.warning(ptr, "the operation documents no responses; it is generated to answer any status, bodiless")
        )
    dropped: set[str] = set()
    for ptr, message in defaults:
        if ptr not in dropped:
            dropped.add(ptr)
            doc.warnings.append(
                doc.warning(ptr, f"the default does not match its schema ({message}); the generated code leaves it out")
            )
    served = view
    for ptr in dropped:
        parent = _at(served, ptr.rsplit("/", 1)[0])
        if isinstance(parent, dict):
            parent.pop("default", None)
    if modern:
        served = dialect.upgrade(served)
    return problems, None if served == data else served


OPENAPI_FIELDS = frozenset(
    {"openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags"}
)


def _dangling_references(doc: Document, data: dict[str, Any]) -> list[Problem]:
    """Local references to nothing. (A `#/$defs/...` reference inside a schema with its own `$id` is that schema's
    business: only references into the OpenAPI document's own fields are followed here.)"""
    problems = []
    for ptr, node in dialect.walk(data):
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            continue
        target = unquote(ref[1:])
        if target.split("/")[1] in OPENAPI_FIELDS and not _exists(data, target):
            problems.append(doc.problem(ptr + "/$ref", f"{ref} points to nothing in the document"))
    return problems


def _exists(data: Any, ptr: str) -> bool:
    """Whether the node at a pointer exists (it may be null)."""
    parent, last = ptr.rsplit("/", 1)
    container = _at(data, parent) if parent else data
    key = last.replace("~1", "/").replace("~0", "~")
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and key.isdigit() and int(key) < len(container)


def _at(data: Any, ptr: str) -> Any:
    """The node at a pointer, or None."""
    node = data
    for raw in ptr.split("/")[1:] if ptr else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _real_pointer(data: Any, parts: Iterable[Any], *, follow: bool = False) -> str:
    """Where a path the validator walked (through references) is in the document: the pointer of the node itself,
    or with follow=True of the node a reference at the end of the path leads to."""
    node, ptr = data, ""
    parts = tuple(parts)
    for i, raw in enumerate((*parts, None)):
        part = str(raw)
        seen: set[str] = set()
        while (raw is not None or follow) and isinstance(node, dict) and part not in node:
            ref = node.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#") or ref in seen:
                break
            seen.add(ref)
            ptr = unquote(ref[1:])
            node = _at(data, ptr)
        if raw is None:
            break
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ptr + pointer(*parts[i:])
        ptr += pointer(part)
    return ptr


def _locating_validator(base: Any, view: dict[str, Any], defaults: list[tuple[str, str]]) -> Any:
    """The spec validator, its checks made to say where they looked.

    Its keyword checks (a schema against its dialect, a default against its schema, duplicate parameters) report
    no location; each error here carries `located`, the path the check was walking. A default its schema refuses
    is no refusal: it goes to `defaults` as (pointer of the default, why).
    """
    keywords: dict[str, Any] = {}
    for name, cls in base.keyword_validators.items():
        if name == "default":
            keywords[name] = _checking_defaults(cls, view, defaults)
        else:
            keywords[name] = _locating(cls)
    return type(f"Located{base.__name__}", (base,), {"keyword_validators": keywords})


def _locating(cls: Any) -> Any:
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        where = next((a for a in args if isinstance(a, SchemaPath)), None)
        for err in cls.__call__(self, *args, **kwargs):
            if where is not None and getattr(err, "located", None) is None:
                err.located = (*where.parts, *err.absolute_path)
            yield err

    return type(cls.__name__, (cls,), {"__call__": __call__})


def _checking_defaults(cls: Any, view: dict[str, Any], defaults: list[tuple[str, str]]) -> Any:
    def __call__(self: Any, schema: SchemaPath, value: Any) -> Iterator[Any]:
        for err in cls.__call__(self, schema, value):
            inner = pointer(*err.absolute_path)
            message = err.message.split("\n", 1)[0] + (f" at {inner} of it" if inner else "")
            defaults.append((_real_pointer(view, (*schema.parts, "default")), message))
        return iter(())

    return type(cls.__name__, (cls,), {"__call__": __call__})


def _without_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: "" if k == "pattern" and isinstance(v, str) else _without_patterns(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_patterns(v) for v in node]
    return node


def _schema_problems(doc: Document, data: dict[str, Any]) -> list[Problem]:
    """Checks each schema object against JSON Schema 2020-12, with its own location (the spec validator loses it)."""
    problems = []
    # No format checks: `pattern` is an ECMA-262 regex, which Python's `re` would wrongly refuse.
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for ptr, schema in iter_schemas(data):
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
