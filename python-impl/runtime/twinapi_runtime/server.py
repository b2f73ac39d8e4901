"""Serving a generated application with uvicorn, configured from the environment like every server of the kit."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from twinapi_runtime import logs
from twinapi_runtime.app import ContractError
from twinapi_runtime.binding import MissingOperations
from twinapi_runtime.validation import InvalidPattern


class EnvError(ValueError):
    """A setting from the environment has a value the server cannot use."""


def port_from_env(default: int) -> int:
    raw = os.environ.get("PORT", str(default))
    if not raw.isdigit() or int(raw) > 65535:
        raise EnvError(f"PORT must be a whole number from 0 to 65535, not {raw!r}")
    return int(raw)


def log_level_from_env() -> str:
    level = os.environ.get("LOG_LEVEL", "info").lower()
    if level not in logs.LEVELS:
        raise EnvError(f"LOG_LEVEL must be one of {', '.join(logs.LEVELS)}, not {level!r}")
    return level


def serve(app: ASGIApp, *, host: str, port: int, log_level: str) -> int:
    """Runs until SIGTERM or Ctrl-C: stops accepting, finishes in-flight requests, runs the shutdown, exits 0."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # the runtime writes the access log
        log_config=None,  # keep the JSON logging
        log_level=log_level,
    )
    server = uvicorn.Server(config)
    # uvicorn drains on SIGTERM, then re-raises the signal under the handler it found: this one exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit)
    server.run()
    return 0 if server.started else 1


def serve_from_env(create_app: Callable[[], ASGIApp], *, default_port: int) -> int:
    """HOST, PORT and LOG_LEVEL from the environment; a bad value or a missing handler is one line, not a trace."""
    try:
        host = os.environ.get("HOST", "127.0.0.1")
        port = port_from_env(default_port)
        level = log_level_from_env()
        logs.configure(level)
        app = create_app()
    except (EnvError, MissingOperations, ContractError, InvalidPattern) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(app, host=host, port=port, log_level=level)


def _exit(sig: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
