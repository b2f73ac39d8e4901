"""A request as it goes on the wire, sent with httpx and rendered as a curl command for reproduction."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace
from typing import Any

import httpx


@dataclass(frozen=True)
class WireRequest:
    method: str
    path: str
    # Pairs, so a parameter can be repeated on purpose.
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None

    def with_header(self, name: str, value: str) -> WireRequest:
        kept = [(key, val) for key, val in self.headers if key.lower() != name.lower()]
        return replace(self, headers=[*kept, (name, value)])

    def has_header(self, name: str) -> bool:
        return any(key.lower() == name.lower() for key, _ in self.headers)

    def curl(self, base_url: str) -> str:
        url = httpx.URL(base_url + self.path, params=self.query) if self.query else base_url + self.path
        parts = ["curl", "-i", "-X", self.method, shlex.quote(str(url))]
        for name, value in self.headers:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.body is not None:
            parts += ["--data-binary", shlex.quote(self.body.decode("utf-8", errors="backslashreplace"))]
        return " ".join(parts)


@dataclass(frozen=True)
class WireResponse:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def send(client: httpx.Client, base_url: str, request: WireRequest) -> WireResponse:
    # httpx would add a Content-Type for JSON; the raw bytes keep the request exactly as described.
    response = client.request(
        request.method,
        base_url + request.path,
        params=list(request.query) or None,
        # Bytes, so generated non-ASCII header values go out as UTF-8 instead of failing to encode.
        headers=[(name.encode("utf-8"), value.encode("utf-8")) for name, value in request.headers],
        content=request.body,
    )
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return WireResponse(status=response.status_code, headers=headers, body=response.content)
