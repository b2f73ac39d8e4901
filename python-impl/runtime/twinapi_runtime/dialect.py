"""OpenAPI's own schema keywords in the JSON Schema 2020-12 terms the validator speaks.

3.0 documents need it; 3.1 documents converted from 3.0 keep `nullable` and boolean bounds often enough that they
are read the same way (as Schemathesis reads them): `nullable: true` always means null is allowed.
"""

from __future__ import annotations

from typing import Any


def upgrade(node: Any) -> Any:
    """`nullable` becomes a null type, enum member or branch; boolean `exclusiveMinimum/Maximum` become numeric."""
    if isinstance(node, list):
        return [upgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: upgrade(value) for key, value in node.items()}
    for bound, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    # Only the boolean keyword: a property that happens to be named `nullable` holds a schema and stays.
    nullable = out.get("nullable")
    if not isinstance(nullable, bool):
        return out
    del out["nullable"]
    if not nullable:
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


def discriminated(spec: dict[str, Any]) -> dict[str, Any]:
    """`oneOf` with a `discriminator`: a value whose tag names a branch is checked against that branch alone.

    Plain `oneOf` refuses a value that two branches accept, which tagged branches sharing optional properties often
    do. A value without a known tag is still held to exactly one branch, so nothing JSON Schema accepts is refused.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: walk(value) for key, value in node.items()}
        branches, tagging = out.get("oneOf"), out.get("discriminator")
        if not isinstance(branches, list) or not isinstance(tagging, dict):
            return out
        name = tagging.get("propertyName")
        tags = {tag: ref for tag, ref in _tags(branches, tagging.get("mapping")).items() if _exists(spec, ref)}
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

    walked: dict[str, Any] = walk(spec)
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


def _exists(spec: dict[str, Any], ref: str) -> bool:
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
