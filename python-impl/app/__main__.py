"""`python -m app`: serve the API on HOST:PORT with uvicorn until SIGTERM or Ctrl-C."""

import signal
import sqlite3
import sys
from contextlib import closing
from types import FrameType

import uvicorn

from app.core.config import ConfigError, load_settings
from app.core.db import MigrationError, connect, migrate
from app.main import create_app
from twinapi_runtime import logs


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    # The lifespan migrates as well (for any ASGI server); doing it first here turns a refused migration
    # into one line and exit 1 instead of uvicorn's startup traceback.
    try:
        with closing(connect(settings.database_path)) as conn:
            migrate(conn)
    except (MigrationError, OSError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # the runtime writes the access log
        log_config=None,  # keep the JSON logging set up above
        log_level=settings.log_level,
    )
    server = uvicorn.Server(config)
    # On SIGTERM uvicorn stops accepting, finishes in-flight requests and runs the lifespan's shutdown, then
    # re-raises the signal under the handler it found: this one makes that (or an earlier signal) exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit)
    server.run()
    return 0 if server.started else 1


def _exit(sig: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
