"""TypeScript types of the whole document through openapi-typescript."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from twinapi_codegen import dialect
from twinapi_codegen.errors import ToolError
from twinapi_codegen.loader import HTTP_METHODS
from twinapi_codegen.naming import unique


def generate(spec: dict[str, Any], tool: Path, header: str) -> str:
    """The types of a document (JSON data, as the loader read it)."""
    if not tool.exists():
        raise ToolError(f"{tool} not found: run `make setup` first (it installs openapi-typescript)")
    with tempfile.TemporaryDirectory(prefix="twinapi-ts-") as tmp:
        target = Path(tmp) / "schema.ts"
        source = Path(tmp) / "openapi.json"
        source.write_text(json.dumps(_prepared(spec), allow_nan=False), encoding="utf-8")
        done = subprocess.run(
            [str(tool), str(source), "--output", str(target)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not target.exists():
            raise ToolError(f"openapi-typescript failed:\n{(done.stderr or done.stdout).strip()}")
        return f"// {header}\n" + target.read_text(encoding="utf-8")


def _prepared(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the document with the same types that openapi-typescript turns into valid TypeScript."""
    data = copy.deepcopy(spec)
    _with_mapping_refs(data)
    _sound_tuples(data)
    _ReferencesToComponents(data).run()
    return data


def _with_mapping_refs(data: dict[str, Any]) -> None:
    """A discriminator mapping may name a component schema bare (`Cat`) instead of by reference; openapi-typescript
    resolves only references. Makes the bare names references."""
    schemas = set((data.get("components") or {}).get("schemas") or {})

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            mapping = (
                node.get("discriminator", {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
            )
            if isinstance(mapping, dict):
                for key, value in mapping.items():
                    if isinstance(value, str) and "/" not in value and value in schemas:
                        mapping[key] = f"#/components/schemas/{value}"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)


def _sound_tuples(data: dict[str, Any]) -> None:
    """openapi-typescript types `prefixItems` as a tuple of exactly those items, whatever `items` and `minItems` say;
    an array with fewer items, or further ones, is valid all the same. Only a tuple that is exactly that long keeps
    its positions; any other becomes an array of the union of its item types. In place."""
    for _, node in list(dialect.walk(data)):
        prefix = node.get("prefixItems")
        if not isinstance(prefix, list):
            continue
        rest = node.get("items", True)
        least = node.get("minItems", 0)
        if rest is False and isinstance(least, int) and least >= len(prefix):
            continue
        del node["prefixItems"]
        if rest is True or rest == {}:
            node.pop("items", None)  # any further item: unknown[]
        else:
            node["items"] = {"anyOf": [*prefix, *([] if rest is False else [rest])]}


# Where a schema holds subschemas (JSON Schema 2020-12, plus the older `definitions`, `additionalItems`).
_SUBSCHEMA: tuple[str, ...] = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SUBSCHEMA += ("propertyNames", "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_COMPONENT_REF = re.compile(r"^#/components/[^/]+/[^/]+$")
_SCHEMA_REF = re.compile(r"^#/components/schemas/[^/]+$")


class _ReferencesToComponents:
    """openapi-typescript writes a `$ref` as an indexed access type along the pointer (`#/paths/~1a/post/...` becomes
    `paths["/a"]["post"]...`), which is only right for `#/components/<kind>/<name>`: elsewhere it indexes optional
    members (`requestBody?`), keeps `schema`, `items` and `allOf/0` segments the types do not have, and fails tsc.
    Every other local reference is made one of those: a schema anywhere else (a path's inline schema, a property of a
    component) becomes a component schema of its own, so recursion through it still works; any other object
    (parameter, response, path item...) is copied in place of the reference, since only schemas can be recursive."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        components = data.get("components")
        self.schemas: dict[str, Any] = {}
        if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
            self.schemas = components["schemas"]
        self.taken = set(self.schemas)
        self.hoisted: dict[str, str] = {}  # JSON pointer of a schema -> the component schema made of it
        self.pending: list[str] = []

    def run(self) -> None:
        self.document()
        while self.pending:
            name = self.pending.pop()
            self.schemas[name] = self.schema(self.schemas[name])

    # ------------------------------------------------------------------------------------------ the document's shape

    def document(self) -> None:
        data = self.data
        for key in ("paths", "webhooks"):
            self._map(data, key, self.path_item)
        components = data.get("components")
        if isinstance(components, dict):
            for key, walk in (
                ("schemas", self.schema),
                ("responses", self.response),
                ("parameters", self.parameter),
                ("requestBodies", self.request_body),
                ("headers", self.parameter),
                ("pathItems", self.path_item),
                ("callbacks", self.callback),
            ):
                self._map(components, key, walk)

    def path_item(self, node: Any) -> Any:
        node = self._inline(node)
        if isinstance(node, dict):
            self._list(node, "parameters", self.parameter)
            for method in HTTP_METHODS:
                if isinstance(node.get(method), dict):
                    node[method] = self.operation(node[method])
        return node

    def operation(self, node: dict[str, Any]) -> dict[str, Any]:
        self._list(node, "parameters", self.parameter)
        if "requestBody" in node:
            node["requestBody"] = self.request_body(node["requestBody"])
        self._map(node, "responses", self.response)
        self._map(node, "callbacks", self.callback)
        return node

    def callback(self, node: Any) -> Any:
        node = self._inline(node)
        if isinstance(node, dict):
            for key in list(node):
                node[key] = self.path_item(node[key])
        return node

    def parameter(self, node: Any) -> Any:
        """A parameter or a header object."""
        node = self._inline(node)
        if isinstance(node, dict):
            if "schema" in node:
                node["schema"] = self.schema(node["schema"])
            self._content(node)
        return node

    def request_body(self, node: Any) -> Any:
        node = self._inline(node)
        if isinstance(node, dict):
            self._content(node)
        return node

    def response(self, node: Any) -> Any:
        node = self._inline(node)
        if isinstance(node, dict):
            self._map(node, "headers", self.parameter)
            self._content(node)
        return node

    def _content(self, node: dict[str, Any]) -> None:
        content = node.get("content")
        if isinstance(content, dict):
            for media in content.values():
                if isinstance(media, dict) and "schema" in media:
                    media["schema"] = self.schema(media["schema"])

    def schema(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and not _SCHEMA_REF.match(ref):
            name = self._hoist(ref)
            if name is not None:
                node["$ref"] = "#/components/schemas/" + name
        for key in _SUBSCHEMA:
            value = node.get(key)
            if isinstance(value, list):
                node[key] = [self.schema(v) for v in value]
            elif key in node:
                node[key] = self.schema(value)
        for key in _SUBSCHEMA_LISTS:
            if isinstance(node.get(key), list):
                node[key] = [self.schema(v) for v in node[key]]
        for key in _SUBSCHEMA_MAPS:
            self._map(node, key, self.schema)
        return node

    # -------------------------------------------------------------------------------------------------- references

    def _hoist(self, ref: str) -> str | None:
        """The component schema made of the schema `ref` points to, made on first use; None if it points nowhere."""
        ptr = unquote(ref[1:])
        if ptr in self.hoisted:
            return self.hoisted[ptr]
        target = self._at(ptr)
        if target is _MISSING or "/components/schemas".startswith(ptr):
            return None
        parts = [re.sub(r"[^A-Za-z0-9]+", "_", t).strip("_") for t in _tokens(ptr)]
        name = unique("_".join(p for p in parts if p) or "schema", self.taken)
        self.hoisted[ptr] = name
        if not isinstance(self.data.get("components"), dict):
            self.data["components"] = {}
        self.data["components"]["schemas"] = self.schemas
        self.schemas[name] = copy.deepcopy(target)
        self.pending.append(name)
        return name

    def _inline(self, node: Any, depth: int = 0) -> Any:
        """A reference that is not `#/components/<kind>/<name>` replaced by a copy of what it points to."""
        if not isinstance(node, dict) or depth > 32:
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#") or _COMPONENT_REF.match(ref):
            return node
        target = self._at(unquote(ref[1:]))
        if target is _MISSING:
            return node
        return self._inline(copy.deepcopy(target), depth + 1)

    def _at(self, ptr: str) -> Any:
        node: Any = self.data
        for part in _tokens(ptr):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return _MISSING
        return node

    @staticmethod
    def _map(node: dict[str, Any], key: str, walk: Callable[[Any], Any]) -> None:
        children = node.get(key)
        if isinstance(children, dict):
            for name in list(children):
                children[name] = walk(children[name])

    @staticmethod
    def _list(node: dict[str, Any], key: str, walk: Callable[[Any], Any]) -> None:
        children = node.get(key)
        if isinstance(children, list):
            node[key] = [walk(child) for child in children]


_MISSING = object()


def _tokens(ptr: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr.split("/")[1:]] if ptr else []
