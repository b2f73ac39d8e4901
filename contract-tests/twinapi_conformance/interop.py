"""Both implementations at once on one database file and one secret, running the configured scenario.

The scenario (JSON) is a list of steps: {"description", "via": implementation name, "request" (as in the edge
vectors), "expect": {"status", "headers": {name: value or true for "present"}, "body": {json pointer: value}},
"capture": {name: "body:/pointer" | "header:name"}}. Captured values fill `{{name}}` in later steps, whichever
implementation answered; a step without auth false carries the token captured as `token`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from twinapi_conformance import vectors
from twinapi_conformance.auth import configured_token
from twinapi_conformance.config import Config
from twinapi_conformance.coverage import Observations
from twinapi_conformance.http import WireRequest, WireResponse, send
from twinapi_conformance.jsonpointer import MISSING, resolve
from twinapi_conformance.servers import started_each
from twinapi_conformance.spec import Spec


def run(config: Config, *, console: Console, observations: Observations | None = None) -> bool:
    """`observations`, when given, gets the status of each step's answer, per implementation and operation."""
    assert config.interop is not None
    steps = json.loads(config.interop.read_text(encoding="utf-8"))
    spec = Spec.load(config.contract)
    seen = observations if observations is not None else Observations()

    def observe(via: str, request: WireRequest, status: int) -> None:
        label = spec.label_of(request.method, request.path)
        if label is not None:
            seen.add(via, label, status, "interop")

    impls = list(config.implementations.values())
    with tempfile.TemporaryDirectory(prefix="conformance-interop-") as work:
        with started_each(impls, config.server, work_dir=Path(work), log_dir=config.reports, shared_db=True) as servers:
            urls = {server.name: server.base_url for server in servers}
            with httpx.Client(timeout=config.budget.request_timeout) as client:
                return _steps(console, client, urls, steps, config, observe)


def run_on(config: Config, urls: dict[str, str], steps: list[dict[str, Any]], *, console: Console) -> bool:
    """The scenario's `steps` against servers already running, each step sent to `urls[step["via"]]`: e.g. steps
    pinned to the instances of a scaled-out deployment."""
    with httpx.Client(timeout=config.budget.request_timeout) as client:
        return _steps(console, client, urls, steps, config, lambda via, request, status: None)


def _steps(
    console: Console,
    client: httpx.Client,
    urls: dict[str, str],
    steps: list[dict[str, Any]],
    config: Config,
    observe: Callable[[str, WireRequest, int], None],
) -> bool:
    values: dict[str, str] = {}
    given = configured_token(config.auth) if config.auth is not None else None
    if given is not None:  # a static token: steps that carry auth need no login step to capture one
        values["token"] = given
    for number, step in enumerate(steps, 1):
        label = f"{number}. {step['description']} (via {step['via']})"
        try:
            request, auth = vectors.build(step["request"], values)
            if auth and config.auth is not None:
                request = request.with_header(
                    config.auth.header, config.auth.header_value.format(token=values["token"])
                )
            response = send(client, urls[step["via"]], request)
            observe(step["via"], request, response.status)
            problems = _unmet(_filled(step.get("expect", {}), values), response)
            if not problems:
                values.update(vectors.capture(vectors.Step(step["request"], step.get("capture", {})), response))
        except (KeyError, ValueError, httpx.HTTPError) as exc:
            console.print(f"[red]FAIL[/] {escape(label)}: {escape(repr(exc))}")
            return False
        if problems:
            console.print(f"[red]FAIL[/] {escape(label)}")
            for problem in problems:
                console.print(f"  {problem}", markup=False)
            console.print(f"  reproduce: {request.curl(urls[step['via']])}", markup=False, soft_wrap=True)
            console.print(f"  got: {response.status} {response.body[:500]!r}", markup=False)
            return False
        console.print(f"[green]ok[/]   {escape(label)}")
    console.print("interop: [green]passed[/]")
    return True


def _filled(expect: Any, values: dict[str, str]) -> Any:
    """Expected values may name captured ones, e.g. the ETag another implementation returned."""
    if isinstance(expect, str):
        return vectors.PLACEHOLDER.sub(lambda match: values[match.group(1)], expect)
    if isinstance(expect, dict):
        return {key: _filled(value, values) for key, value in expect.items()}
    return expect


def _unmet(expect: dict[str, Any], response: WireResponse) -> list[str]:
    problems = []
    if "status" in expect and response.status != expect["status"]:
        problems.append(f"status: expected {expect['status']}, got {response.status}")
    for name, want in expect.get("headers", {}).items():
        got = response.headers.get(name.lower())
        if got is None or (want is not True and got != want):
            problems.append(f"header {name}: expected {'present' if want is True else want!r}, got {got!r}")
    body = response.json()
    for pointer, want in expect.get("body", {}).items():
        got = resolve(body, pointer)
        if got is MISSING or got != want:
            problems.append(f"body {pointer}: expected {want!r}, got {'missing' if got is MISSING else repr(got)}")
    return problems
