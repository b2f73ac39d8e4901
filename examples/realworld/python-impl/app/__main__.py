"""`python -m app`: serve Conduit on HOST:PORT (default 127.0.0.1:8000) with uvicorn until SIGTERM or Ctrl-C.

A start that cannot go on is one line on stderr: exit 2 for a bad setting or a missing handler, 1 for a database
that cannot be opened or whose recorded migrations do not match db/migrations.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import asyncpg
from twinapi_runtime import ContractError, MissingOperations, logs
from twinapi_runtime.env import EnvError, limits_from_env
from twinapi_runtime.server import serve
from twinapi_runtime.validation import InvalidPattern

from app.core.config import ConfigError, load_settings
from app.core.db import MigrationError, migrate_at_start
from app.main import create_app


def main() -> int:
    try:
        settings = load_settings()
        limits = limits_from_env()
        logs.configure(settings.log_level)
        app = create_app(settings, limits)
        # The lifespan migrates as well (under any ASGI server); done here first, a refusal is one line.
        migrate_at_start(settings.database, settings.pool)
    except (MigrationError, OSError, TimeoutError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # The URL is not echoed: it may hold a password.
        where = settings.database if isinstance(settings.database, Path) else "DATABASE_URL"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: database {where}: {text}", file=sys.stderr)
        return 1
    except (ConfigError, EnvError, MissingOperations, ContractError, InvalidPattern) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(app, host=settings.host, port=settings.port, log_level=settings.log_level, limits=limits)


if __name__ == "__main__":
    sys.exit(main())
