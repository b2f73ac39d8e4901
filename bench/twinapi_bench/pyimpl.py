"""The Python implementation as an ASGI app factory, for servers that import it (granian, uvicorn --workers).

`python -m app` builds its own uvicorn.Server; multi-worker uvicorn and granian need an import string instead.
This does what `python -m app` does before serving: settings, JSON logs, migrations, then create_app.
"""

from app.core.config import load_settings
from app.core.db import migrate_at_start
from app.main import create_app
from fastapi import FastAPI
from twinapi_runtime import logs


def create() -> FastAPI:
    settings = load_settings()
    logs.configure(settings.log_level)
    migrate_at_start(settings.database, settings.pool)
    return create_app(settings)
