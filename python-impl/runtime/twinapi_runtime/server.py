"""Serving a generated application with uvicorn, configured from the environment like every server of the kit.

uvicorn's httptools protocol is extended here with the limits a server facing the internet needs, each answered
in problem+json like every other error: URL length (414), header size and count (431), one Host header (400),
malformed HTTP (400), a header-read and a body-idle timeout (408, then the connection is closed), and a shutdown
that drains. uvicorn was chosen over granian because its protocol is Python that can be extended this way;
granian's HTTP layer (hyper) answers protocol errors itself with bare bodies and has no URL or body-idle limit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import httptools
import orjson
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from twinapi_runtime import logs
from twinapi_runtime.app import ContractError
from twinapi_runtime.binding import MissingOperations
from twinapi_runtime.env import EnvError, Limits, limits_from_env, log_level_from_env, port_from_env
from twinapi_runtime.problems import PROBLEM_JSON, TITLES
from twinapi_runtime.validation import InvalidPattern

# What a refused body may still send, read and discarded, so that a client that writes its whole body before it
# reads (most HTTP clients) gets the answer instead of a reset; beyond this the connection is closed.
DISCARD_LIMIT = 16 * 1024 * 1024
# How long a keep-alive connection that is idle at shutdown stays open, so that a request already on its way is
# answered (with Connection: close) instead of meeting a closed socket.
IDLE_LINGER = 1.0
NOT_HTTP = "The request is not valid HTTP."
ONE_HOST = "The request must have exactly one Host header."


def problem_bytes(status: int, detail: str) -> bytes:
    """A whole HTTP response: a problem without an instance (no request was read), then the connection closes."""
    body = orjson.dumps({"type": "about:blank", "title": TITLES[status], "status": status, "detail": detail})
    head = (
        f"HTTP/1.1 {status} {TITLES[status]}\r\ncontent-type: {PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the protocol answers `status` and closes."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# What a connection is waiting for; each has its own deadline (HEAD, BODY, IDLE) or none (BUSY: the app is answering).
HEAD, BODY, BUSY, IDLE = range(4)


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the kit's limits; `limits` is set on the subclass `serve` makes.

    The request line and headers are checked once they are complete, in the Node kit's order (URL, header count,
    header bytes, Host); a head that grows past `max_head_bytes` is cut off while it arrives. The header, body and
    keep-alive timeouts share one deadline per connection: moving it costs an assignment, and the one timer
    re-arms itself when it fires early, so a busy keep-alive connection creates about one timer per timeout
    instead of two per request.
    """

    limits = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        self._deadline = 0.0
        self._phase = HEAD
        self._begun = False  # some of the current request's head has arrived
        self._timed = True  # the current head has its deadline (the first one's counts from the connection)
        self._head_bytes = 0  # of the current head, in data chunks that did not complete it
        self._chunk_bytes = 0  # the chunk being parsed
        self._discarded = 0
        self._draining = False

    def _wait(self, phase: int, seconds: float) -> None:
        """Enters `phase`, which ends the connection `seconds` from now unless another phase starts first."""
        self._phase = phase
        self._deadline = deadline = self.loop.time() + seconds
        if self._timer is None or self._timer_due > deadline:
            self._schedule(deadline)

    def _schedule(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = when
        self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._phase == BUSY or self.transport.is_closing():
            return
        if self.loop.time() < self._deadline:  # the deadline moved since the timer was set
            self._schedule(self._deadline)
            return
        if self._phase == HEAD:
            self._refuse(408, f"The request headers did not arrive within {self.limits.header_timeout} s.")
        elif self._phase == BODY and not self.cycle.response_complete:
            self._refuse(408, f"The request body stalled for {self.limits.body_timeout} s.")
        else:  # an idle keep-alive connection, or the discarded rest of a refused body that stopped coming
            self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        """Answers a problem unless a response has started, and closes the connection."""
        self._phase = BUSY
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            if self.cycle.response_started:
                self.transport.close()
                return
            self.cycle.disconnected = True  # the application's later sends are dropped
            self.cycle.message_event.set()
        self.transport.write(problem_bytes(status, detail))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait(HEAD, self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._phase = BUSY
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._chunk_bytes = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, NOT_HTTP)  # no upgrade (websocket, h2c) is served
            return
        except httptools.HttpParserError as exc:
            refused = exc.__context__
            if isinstance(refused, _Refused):
                self._refuse(refused.status, refused.detail)
            else:
                self._refuse(400, NOT_HTTP)
            return
        if self._phase == IDLE:
            # Bytes that begin no request (a stray CRLF) keep a connection idle for the timeout, not open for ever.
            self._wait(IDLE, self.limits.keep_alive_timeout)
        elif self._phase == HEAD and self._begun:
            if not self._timed:  # the head goes on in another chunk: from now on its time counts
                self._timed = True
                self._wait(HEAD, self.limits.header_timeout)
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                # Cut off while it arrives, as Node's parser does: a request line still this long is a URL too long.
                if len(self.url) > self.limits.max_url_bytes:
                    self._refuse(414, _too_long_url(self.limits))
                else:
                    self._refuse(431, _too_many_header_bytes(self.limits))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = True
        self._head_bytes = 0
        if self._phase != HEAD:
            # Its deadline is set only if the head does not arrive whole with this chunk (the usual case); no timer
            # can fire before then.
            self._phase = HEAD
            self._timed = False

    def on_headers_complete(self) -> None:
        limits = self.limits
        headers = self.headers
        if len(self.url) > limits.max_url_bytes:
            raise _Refused(414, _too_long_url(limits))
        if len(headers) > limits.max_headers:
            raise _Refused(431, f"The request has more than {limits.max_headers} headers.")
        # Names and values are at most the bytes that carried them: only a head that large is counted.
        if self._head_bytes + self._chunk_bytes > limits.max_header_bytes and (
            sum(len(name) + len(value) for name, value in headers) > limits.max_header_bytes
        ):
            raise _Refused(431, _too_many_header_bytes(limits))
        hosts = 0
        body = False
        for name, _ in headers:
            if name == b"host":
                hosts += 1
            elif name == b"content-length" or name == b"transfer-encoding":
                body = True
        # RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; HTTP/1.0 may have none, never two.
        if hosts != 1 and (hosts > 1 or self.parser.get_http_version() == "1.1"):
            raise _Refused(400, ONE_HOST)
        self._begun = False
        super().on_headers_complete()
        if self._draining:
            self.cycle.keep_alive = False
        if body and self.parser.get_method() != b"HEAD":
            # Until the parser says the message is complete (at once for Content-Length: 0), the body may stall.
            self._wait(BODY, limits.body_timeout)
        else:
            self._phase = BUSY

    def on_body(self, body: bytes) -> None:
        if self.cycle.response_complete:
            self._discarded += len(body)
            if self._discarded > DISCARD_LIMIT:
                self.transport.close()
                return
        if self._phase == BODY:
            self._deadline = self.loop.time() + self.limits.body_timeout
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._phase == BODY:
            self._phase = BUSY
        self._discarded = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # uvicorn 0.54's own, with the keep-alive timeout as this connection's deadline instead of a timer of its own.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._draining:
            self.transport.close()
        elif self._phase == BUSY:  # not while the next request's head or a discarded body is on its way
            self._wait(IDLE, self.limits.keep_alive_timeout)

    def shutdown(self) -> None:
        """At SIGTERM: an idle keep-alive connection stays open for IDLE_LINGER, so that a request already sent is
        answered with Connection: close rather than meeting a closed socket; a busy one closes after its response."""
        self._draining = True
        if self.cycle is None and not self._begun:
            self.loop.call_later(min(IDLE_LINGER, self.limits.shutdown_drain), self._close_if_idle)
        elif self.cycle is not None and self.cycle.response_complete and not self._in_head_of_next():
            self.loop.call_later(min(IDLE_LINGER, self.limits.shutdown_drain), self._close_if_idle)
        elif self.cycle is not None:
            self.cycle.keep_alive = False

    def _in_head_of_next(self) -> bool:
        return self._phase == HEAD and self._begun

    def _close_if_idle(self) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        if not busy and not self._in_head_of_next() and not self.transport.is_closing():
            self.transport.close()


def _too_long_url(limits: Limits) -> str:
    return f"The request URL is longer than {limits.max_url_bytes} bytes."


def _too_many_header_bytes(limits: Limits) -> str:
    return f"The request headers are larger than {limits.max_header_bytes} bytes."


def serve(app: ASGIApp, *, host: str, port: int, log_level: str, limits: Limits | None = None) -> int:
    """Runs until SIGTERM or Ctrl-C: stops accepting, finishes in-flight requests within the drain time (cutting
    what is still running then), runs the shutdown, exits 0."""
    chosen = limits or Limits()
    protocol = type("Protocol", (LimitedProtocol,), {"limits": chosen})
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=protocol,
        lifespan="on",
        access_log=False,  # the runtime writes the access log
        log_config=None,  # keep the JSON logging
        log_level=log_level,
        timeout_keep_alive=chosen.keep_alive_timeout,
        timeout_graceful_shutdown=chosen.shutdown_drain,
        ws="none",
        # uvicorn's default trusts X-Forwarded-For and -Proto from 127.0.0.1, where a local client could choose the
        # address its failed logins count against: off. The request layer reads X-Forwarded-For from the peers
        # TRUSTED_PROXIES names only (proxies.py), as the Node kit does. It also takes uvicorn's proxy-headers
        # middleware out of every request.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    # uvicorn drains on SIGTERM, then re-raises the signal under the handler it found: this one exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit)
    server.run()
    return 0 if server.started else 1


def serve_from_env(create_app: Callable[[], ASGIApp], *, default_port: int) -> int:
    """HOST, PORT, LOG_LEVEL and the limits from the environment; a bad value or a missing handler is one line."""
    try:
        host = os.environ.get("HOST", "127.0.0.1")
        port = port_from_env(default_port)
        level = log_level_from_env()
        limits = limits_from_env()
        logs.configure(level)
        app = create_app()
    except (EnvError, MissingOperations, ContractError, InvalidPattern) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(app, host=host, port=port, log_level=level, limits=limits)


def _exit(sig: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
