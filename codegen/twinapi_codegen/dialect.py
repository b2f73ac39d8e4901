"""The one reading of OpenAPI's own schema keywords, and what the generator forgives in a document.

`upgrade` puts OpenAPI 3.0's `nullable` and boolean `exclusiveMinimum/Maximum` in JSON Schema 2020-12 terms: 3.0
documents need it, and 3.1 documents converted from 3.0 keep them often enough that they are read the same way (as
Schemathesis reads them): `nullable: true` always means null is allowed. `discriminated` makes a tagged `oneOf`
check a tagged value against its branch alone. Both are applied here, once, to the contract document both runtimes
load (see contract.py); the runtimes upgrade nothing themselves. The other helpers find what the generator forgives
in a document, so that it can say where.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twinapi_codegen.errors import pointer

BOUNDS = (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum"))


def upgrade(node: Any, *, nullable: bool = True) -> Any:
    """`nullable` becomes a null type, enum member or branch; boolean `exclusiveMinimum/Maximum` become numeric.

    With nullable=False only the bounds change, which keeps every other node where it was in the source.
    """
    if isinstance(node, list):
        return [upgrade(item, nullable=nullable) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: upgrade(value, nullable=nullable) for key, value in node.items()}
    for bound, exclusive in BOUNDS:
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    # Only the boolean keyword: a property that happens to be named `nullable` holds a schema and stays.
    flag = out.get("nullable")
    if not nullable or not isinstance(flag, bool):
        return out
    del out["nullable"]
    if not flag:
        return out
    kind = out.get("type")
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list):
        out["type"] = kind if "null" in kind else [*kind, "null"]
    elif "enum" not in out:
        # No type to widen (`$ref` or `allOf` beside `nullable`): null is one more branch.
        return {"anyOf": [out, {"type": "null"}]}
    return out


# Keys whose values are data (examples, defaults, constants), not schemas or spec objects; `default` is also the
# name of a response, and there it is walked.
DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})
DIALECTS = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://spec.openapis.org/oas/3.1/dialect/base",
        "https://spec.openapis.org/oas/3.1/dialect/2024-11-10",
    }
)


def walk(node: Any, ptr: str = "", *, responses: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping of the document with its pointer, parents first, except inside data values."""
    if isinstance(node, dict):
        yield ptr, node
        for key, value in node.items():
            if key in DATA_KEYS and not (key == "default" and responses):
                continue
            yield from walk(value, ptr + pointer(str(key)), responses=key == "responses")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, ptr + pointer(i))


def boolean_bounds(data: Any) -> Iterator[tuple[str, str]]:
    """3.0's boolean exclusive bounds, as a 3.1 document should not have them: (pointer, how it is read)."""
    for ptr, node in walk(data):
        for bound, exclusive in BOUNDS:
            flag = node.get(exclusive)
            if not isinstance(flag, bool):
                continue
            if flag and bound in node:
                meaning = f"read as OpenAPI 3.0 meant it, `{exclusive}: {node[bound]!r}` in 3.1 terms"
            elif flag:
                meaning = f"without `{bound}` it bounds nothing and is ignored"
            else:
                meaning = "`false` is the same as leaving it out"
            yield ptr + pointer(exclusive), f"a boolean `{exclusive}` is OpenAPI 3.0's form; {meaning}"


def foreign_dialects(data: Any) -> Iterator[tuple[str, str]]:
    """Declarations of another JSON Schema dialect, `jsonSchemaDialect` or a schema's `$schema`: (pointer, what
    it declares)."""
    declared = data.get("jsonSchemaDialect") if isinstance(data, dict) else None
    if isinstance(declared, str) and declared.rstrip("#") not in DIALECTS:
        yield "/jsonSchemaDialect", declared
    for ptr, node in walk(data):
        declared = node.get("$schema")
        if isinstance(declared, str) and declared.rstrip("#") not in DIALECTS:
            yield ptr + "/$schema", declared


def _same(value: Any) -> Any:
    """A hashable key under JSON equality: 1 and 1.0 are the same value, true and 1 are not."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_same(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((str(k), _same(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def unique(values: list[Any]) -> tuple[list[Any], list[Any]]:
    """The values without repeats (first occurrences, in order), and the repeated ones."""
    seen: set[Any] = set()
    twice: set[Any] = set()
    kept: list[Any] = []
    repeated: list[Any] = []
    for value in values:
        key = _same(value)
        if key not in seen:
            seen.add(key)
            kept.append(value)
        elif key not in twice:
            twice.add(key)
            repeated.append(value)
    return kept, repeated


def repeated_enums(data: Any) -> Iterator[tuple[str, list[Any]]]:
    """Every `enum` listing a value more than once: (pointer, the repeated values)."""
    for ptr, node in walk(data):
        values = node.get("enum")
        if isinstance(values, list):
            _, repeated = unique(values)
            if repeated:
                yield ptr + "/enum", repeated


def settle(data: dict[str, Any]) -> None:
    """In place: each enum lists each value once (same meaning), and nothing declares a dialect (the runtimes read
    every schema as JSON Schema 2020-12 with OpenAPI's keywords)."""
    data.pop("jsonSchemaDialect", None)
    for _, node in list(walk(data)):
        if isinstance(node.get("enum"), list):
            node["enum"] = unique(node["enum"])[0]
        if isinstance(node.get("$schema"), str):
            del node["$schema"]


def discriminated(spec: dict[str, Any]) -> dict[str, Any]:
    """`oneOf` with a `discriminator`: a value whose tag names a branch is checked against that branch alone.

    Plain `oneOf` refuses a value that two branches accept, which tagged branches sharing optional properties often
    do. A value without a known tag is still held to exactly one branch, so nothing JSON Schema accepts is refused.
    """

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: rewrite(value) for key, value in node.items()}
        branches, tagging = out.get("oneOf"), out.get("discriminator")
        if not isinstance(branches, list) or not isinstance(tagging, dict):
            return out
        name = tagging.get("propertyName")
        tags = {tag: ref for tag, ref in _tags(branches, tagging.get("mapping")).items() if _names_node(spec, ref)}
        if not isinstance(name, str) or not tags:
            return out
        by_tag = {
            "type": "object",
            "required": [name],
            "properties": {name: {"enum": list(tags)}},
            "allOf": [{"if": {"properties": {name: {"const": t}}}, "then": {"$ref": ref}} for t, ref in tags.items()],
        }
        del out["oneOf"]
        out["allOf"] = [*out.get("allOf", []), {"anyOf": [{"oneOf": branches}, by_tag]}]
        return out

    walked: dict[str, Any] = rewrite(spec)
    return walked


def _tags(branches: list[Any], mapping: Any) -> dict[str, str]:
    """Tag to schema reference: the explicit mapping first, then each referenced branch by its schema name."""
    tags: dict[str, str] = {}
    for tag, target in (mapping if isinstance(mapping, dict) else {}).items():
        if isinstance(target, str):
            tags[str(tag)] = target if "/" in target else f"#/components/schemas/{target}"
    for branch in branches:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            tags.setdefault(ref.rsplit("/", 1)[1].replace("~1", "/").replace("~0", "~"), ref)
    return tags


def _names_node(spec: dict[str, Any], ref: str) -> bool:
    """Whether a local reference names a node of the document (a mapping may name one that is not there)."""
    if not ref.startswith("#/"):
        return False
    node: Any = spec
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True
