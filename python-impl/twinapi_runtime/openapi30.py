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
