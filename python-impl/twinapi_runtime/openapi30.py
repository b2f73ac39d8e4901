"""OpenAPI 3.0 schemas in the JSON Schema 2020-12 terms the validator speaks (3.1 documents are already there)."""

from __future__ import annotations

from typing import Any


def upgrade(node: Any) -> Any:
    """`nullable` becomes a null type (or enum member), boolean `exclusiveMinimum/Maximum` become numeric."""
    if isinstance(node, list):
        return [upgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: upgrade(value) for key, value in node.items()}
    # Only the boolean keyword: a property that happens to be named `nullable` holds a schema and stays.
    nullable = out.get("nullable")
    if isinstance(nullable, bool):
        del out["nullable"]
    if nullable is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for bound, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    return out
