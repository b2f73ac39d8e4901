"""The kit's request layer: request id, one access-log line per request, and a 500 problem that leaks nothing."""

from __future__ import annotations

import logging
import os
import re
import threading
import time

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twinapi_runtime.problems import METHOD_ORDER, NO_ROUTE, problem_response
from twinapi_runtime.proxies import TrustedProxies

REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
UNEXPECTED = "An unexpected error occurred."
# nginx's status for a request its client gave up on: logged, never sent, and not a server error.
CLIENT_GONE = 499

# Random request ids come from one getrandom() call per 128 of them instead of one each: the system call cost
# more than the rest of the id (about 3% of a GET /health). Each thread draws from its own pool, refilled in a
# forked child, so that no two ids are drawn from the same bytes.
_POOL_BYTES = 2048
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 9562: the variant's bits are 10
_pool = threading.local()
os.register_at_fork(after_in_child=lambda: _pool.__dict__.clear())

access_log = logging.getLogger("twinapi.access")
error_log = logging.getLogger("twinapi.error")


class RequestContext:
    def __init__(self, app: ASGIApp, owner: FastAPI, proxies: TrustedProxies | None = None) -> None:
        self.app = app
        self.proxies = proxies or TrustedProxies()
        # Built with the app's middleware stack, at its first request: by then the app's own handler for
        # unexpected errors, if it has one, is registered, and such an error is left to it.
        self.answers_errors = not any(key in (500, Exception) for key in owner.exception_handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        if self.proxies and client is not None:
            # Behind a trusted proxy the client is the one X-Forwarded-For names: request.client says so from here.
            forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
            address = self.proxies.client(client[0], forwarded)
            if address != client[0]:
                scope["client"] = client = (address, 0)
        header = (b"x-request-id", request_id.encode())
        status = 500
        started = False
        summary = "request"

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:  # the client hung up before its request was read: nothing to answer
            status, summary = CLIENT_GONE, "client disconnected"
        except Exception:
            if not self.answers_errors:
                raise
            error_log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            if started:
                raise
            await problem_response(500, UNEXPECTED, scope["path"])(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    summary,
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                            "request_id": request_id,
                            "client": client[0] if client is not None else None,
                        }
                    },
                )


async def http_problem(request: Request, exc: Exception) -> Response:
    """The framework's own errors (no route, a wrong method on the docs, an HTTPException a route raises) as
    problems, like every other error."""
    assert isinstance(exc, HTTPException)
    detail = NO_ROUTE if exc.status_code == 404 and exc.detail == "Not Found" else str(exc.detail)
    headers = dict(exc.headers or {})
    if "Allow" in headers:  # Starlette builds it from a set: put it in the contract's fixed order
        allowed = {m.strip() for m in headers["Allow"].split(",")}
        headers["Allow"] = ", ".join(m for m in METHOD_ORDER if m in allowed)
    return problem_response(exc.status_code, detail, request.url.path, headers=headers)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if REQUEST_ID.match(text):
                return text
            break
    return random_uuid()


def random_uuid() -> str:
    """A random (version 4) UUID in its usual text form, as `str(uuid.uuid4())` and Node's `randomUUID()` give."""
    state = _pool.__dict__
    digits: str = state.get("digits", "")
    at: int = state.get("at", 0)
    if at >= len(digits):
        digits = state["digits"] = os.urandom(_POOL_BYTES).hex()
        at = 0
    state["at"] = at + 32
    h = digits[at : at + 32]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
