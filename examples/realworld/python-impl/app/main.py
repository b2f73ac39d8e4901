"""The Conduit application: the generated routes bound to the handlers, the database opened by the lifespan."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from twinapi_runtime import include_contract
from twinapi_runtime.env import Limits

from app.core.config import Settings
from app.core.db import RETRY_AFTER_SECONDS, Unavailable, open_database
from app.core.security import Passwords, Tokens
from app.errors import Errors
from app.generated.routes import CONTRACT_PATH, bind
from app.handlers import Conduit, TokenAuth

log = logging.getLogger("app")
# Conduit's errors are GenericErrorModel (CONVENTIONS.md, Errors), this one included.
UNAVAILABLE = "the database is unavailable; try again shortly"


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After while the database cannot be reached: the request may succeed in a moment."""
    return JSONResponse({"errors": {"body": [UNAVAILABLE]}}, 503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def create_app(settings: Settings, limits: Limits | None = None) -> FastAPI:
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:  # Settings allow this in development only
        secret = secrets.token_urlsafe(48)
        log.warning("JWT_SECRET is not set: tokens are signed with a random secret and die with this process")
    db = open_database(settings.database, settings.pool)
    tokens = Tokens(secret, settings.jwt_ttl_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await db.open()  # and migrated, while the app serves
        try:
            yield
        finally:
            await db.close()

    app = FastAPI(title="Conduit", lifespan=lifespan)
    app.add_exception_handler(Unavailable, _unavailable)
    conduit = Conduit(db, Passwords(settings.bcrypt_rounds), tokens)
    include_contract(app, CONTRACT_PATH, bind(conduit, TokenAuth(db, tokens), Errors()), limits=limits or Limits())
    return app
