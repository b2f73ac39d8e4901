"""Hand-written edge vectors (JSON data): optional setup requests whose answers are captured, then one request.

Strings may use `{{name}}` for a value captured from an earlier answer of the same implementation.
A request: method, path, query ([[name, value], ...] so repeats are possible), headers, at most one body form
(json, sent as application/json unless headers say otherwise; text; or repeat {text, times, prefix, suffix} for
oversized bodies), and auth (default true: add the token).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinapi_conformance.http import WireRequest, WireResponse
from twinapi_conformance.jsonpointer import MISSING, resolve

PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")


@dataclass(frozen=True)
class Step:
    request: dict[str, Any]
    # name -> "body:/json/pointer" or "header:name"
    capture: dict[str, str]


@dataclass(frozen=True)
class Vector:
    description: str
    comment: str
    setup: list[Step]
    request: dict[str, Any]


def load(path: Path) -> list[Vector]:
    vectors = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        vectors.append(
            Vector(
                description=entry["description"],
                comment=entry.get("comment", ""),
                setup=[Step(step["request"], step.get("capture", {})) for step in entry.get("setup", [])],
                request=entry["request"],
            )
        )
    return vectors


def build(template: dict[str, Any], values: dict[str, str]) -> tuple[WireRequest, bool]:
    """The request with captured values filled in, and whether it should carry the configured token."""

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)

    headers = [(name, fill(value)) for name, value in template.get("headers", {}).items()]
    body: bytes | None = None
    if "json" in template:
        body = fill(json.dumps(template["json"], ensure_ascii=False)).encode()
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
    elif "text" in template:
        body = fill(template["text"]).encode()
    elif "repeat" in template:
        repeat = template["repeat"]
        body = (repeat.get("prefix", "") + repeat["text"] * int(repeat["times"]) + repeat.get("suffix", "")).encode()
    request = WireRequest(
        method=template["method"],
        path=fill(template["path"]),
        query=[(name, fill(value)) for name, value in template.get("query", [])],
        headers=headers,
        body=body,
    )
    return request, bool(template.get("auth", True))


def capture(step: Step, response: WireResponse) -> dict[str, str]:
    captured = {}
    for name, source in step.capture.items():
        kind, _, where = source.partition(":")
        value = response.headers.get(where.lower()) if kind == "header" else resolve(response.json(), where)
        if value is None or value is MISSING:
            raise ValueError(f"capture {name}: nothing at {source} (status {response.status})")
        captured[name] = str(value)
    return captured
