"""RFC 6901 JSON pointers, read-only."""

from __future__ import annotations

from typing import Any

MISSING = object()


def resolve(document: Any, pointer: str) -> Any:
    """The value at `pointer`, or MISSING."""
    if pointer == "":
        return document
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node
