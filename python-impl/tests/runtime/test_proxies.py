"""TRUSTED_PROXIES: whose X-Forwarded-For names the client. The same cases as node-impl/test/kit/proxies.test.ts."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send
from twinapi_runtime.env import EnvError
from twinapi_runtime.logs import JsonFormatter
from twinapi_runtime.middleware import RequestContext
from twinapi_runtime.proxies import TrustedProxies, parse, trusted_proxies_from_env

# (TRUSTED_PROXIES, the connection's peer, X-Forwarded-For or None, the client's address)
CASES = [
    ("", "127.0.0.1", "203.0.113.7", "127.0.0.1"),  # the default trusts no one
    ("127.0.0.1", "127.0.0.1", "203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "198.51.100.9", "203.0.113.7", "198.51.100.9"),  # from an untrusted peer the header is ignored
    ("127.0.0.1", "127.0.0.1", None, "127.0.0.1"),
    ("127.0.0.1, 10.0.0.0/8", "127.0.0.1", "198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"),  # rightmost untrusted
    ("127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.0.0.2, 10.0.0.3", "10.0.0.2"),  # all trusted: the leftmost
    ("10.1.2.3/8", "10.200.0.1", "203.0.113.7", "203.0.113.7"),  # a network's host bits do not matter
    ("::1, 2001:db8::/32", "::1", "2001:db9::1, 2001:db8::5", "2001:db9::1"),
    ("127.0.0.1", "::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"),  # an IPv4-mapped peer is its IPv4 address
    ("::ffff:127.0.0.1", "127.0.0.1", "203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "127.0.0.1", " 203.0.113.7 ,, ", "203.0.113.7"),  # spaces and empty entries are no hops
    ("127.0.0.1", "127.0.0.1", "", "127.0.0.1"),
    ("127.0.0.1", "127.0.0.1", "not-an-address", "not-an-address"),  # no trusted proxy: taken as written
    ("127.0.0.1", "127.0.0.1", "203.0.113.7, 127.0.0.1", "203.0.113.7"),
]

BAD = [
    "nope",
    "10.0.0.0/33",
    "10.0.0.0/0",
    "::/0",
    "::1/129",
    "10.0.0.0/x",
    "10.0.0.0/",
    "127.0.0.1,,10.0.0.1",
    "127.0.0.1,",
    "300.0.0.1",
    "127.1",
]


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "client"), CASES)
def test_the_client_is_the_rightmost_address_no_trusted_proxy_added(
    trusted: str, peer: str, forwarded: str | None, client: str
) -> None:
    assert parse(trusted).client(peer, [] if forwarded is None else [forwarded]) == client


def test_several_header_lines_are_one_list_in_their_order() -> None:
    # Node's HTTP parser joins repeated X-Forwarded-For lines with ", "; an ASGI scope keeps them apart.
    proxies = parse("127.0.0.1")
    assert proxies.client("127.0.0.1", ["198.51.100.1", "203.0.113.7, 127.0.0.1"]) == "203.0.113.7"
    assert proxies.client("127.0.0.1", ["198.51.100.1, 127.0.0.1", "127.0.0.1"]) == "198.51.100.1"


@pytest.mark.parametrize("value", BAD)
def test_a_value_that_is_no_address_or_network_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(EnvError, match=r"^TRUSTED_PROXIES: "):
        parse(value)


def test_unset_or_blank_trusts_no_one() -> None:
    assert not trusted_proxies_from_env({})
    assert not trusted_proxies_from_env({"TRUSTED_PROXIES": "  "})
    assert trusted_proxies_from_env({"TRUSTED_PROXIES": "127.0.0.1"}).trusts("127.0.0.1")


async def _through(proxies: TrustedProxies, peer: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """The client address an app behind RequestContext sees."""
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["client"] = scope["client"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": headers, "client": (peer, 40000)}
    middleware = RequestContext(app, owner=FastAPI(), proxies=proxies)
    await middleware(scope, receive, send)
    return seen["client"]


def test_the_request_layer_gives_the_app_and_the_access_log_the_forwarded_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="twinapi.access")
    forwarded = [(b"x-forwarded-for", b"203.0.113.7")]
    assert asyncio.run(_through(parse("127.0.0.1"), "127.0.0.1", forwarded)) == ("203.0.113.7", 0)
    assert asyncio.run(_through(parse(""), "127.0.0.1", forwarded)) == ("127.0.0.1", 40000)
    assert asyncio.run(_through(parse("10.0.0.0/8"), "127.0.0.1", forwarded)) == ("127.0.0.1", 40000)
    logged = [json.loads(JsonFormatter().format(r))["client"] for r in caplog.records if r.name == "twinapi.access"]
    assert logged == ["203.0.113.7", "127.0.0.1", "127.0.0.1"]
