"""Compare two responses after normalisation and render a disagreement side by side."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from twinapi_conformance.http import WireRequest, WireResponse
from twinapi_conformance.normalise import Normaliser


@dataclass
class Disagreement:
    source: str
    request: WireRequest
    curl_left: str
    curl_right: str
    left: dict[str, Any]
    right: dict[str, Any]
    fields: list[str]


def view(response: WireResponse, normaliser: Normaliser, headers: set[str]) -> dict[str, Any]:
    """What is compared: status, content type, the named headers and the body, normalised."""
    data = response.json()
    body = normaliser.body(data) if data is not None else normaliser.text(response.body.decode("utf-8", "replace"))
    return {
        "status": response.status,
        "content-type": " ".join(response.media_type.lower().split()),
        "headers": {
            name: normaliser.text(response.headers[name]) for name in sorted(headers) if name in response.headers
        },
        "body": body,
    }


def differing_fields(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    fields = [key for key in ("status", "content-type", "body") if left[key] != right[key]]
    names = sorted(set(left["headers"]) | set(right["headers"]))
    fields += [f"header {name}" for name in names if left["headers"].get(name) != right["headers"].get(name)]
    return fields


def render(console: Console, names: tuple[str, str], disagreement: Disagreement) -> None:
    console.print(f"[red]DISAGREE[/] {escape(disagreement.source)}: {', '.join(disagreement.fields)}")
    console.print(f"  {names[0]}: {disagreement.curl_left}", markup=False, soft_wrap=True)
    console.print(f"  {names[1]}: {disagreement.curl_right}", markup=False, soft_wrap=True)
    table = Table(show_header=True, box=None, pad_edge=False)
    table.add_column(" ")
    table.add_column(names[0], overflow="fold")
    table.add_column(names[1], overflow="fold")
    left_lines = json.dumps(disagreement.left, indent=1, ensure_ascii=False).splitlines()
    right_lines = json.dumps(disagreement.right, indent=1, ensure_ascii=False).splitlines()
    for left, right in zip_longest(left_lines, right_lines, fillvalue=""):
        mark = "[red]![/]" if left != right else " "
        table.add_row(mark, escape(left), escape(right))
    console.print(table)
