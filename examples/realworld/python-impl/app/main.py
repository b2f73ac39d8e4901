"""The Conduit application: the generated routes bound to the handlers, the database opened by the lifespan."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from twinapi_runtime import include_contract
from twinapi_runtime.env import Limits

from app.core.config import Settings
from app.core.db import Database
from app.core.security import Passwords, Tokens
from app.errors import Errors
from app.generated.routes import CONTRACT_PATH, bind
from app.handlers import Conduit, TokenAuth

log = logging.getLogger("app")


def create_app(settings: Settings, limits: Limits | None = None) -> FastAPI:
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:  # Settings allow this in development only
        secret = secrets.token_urlsafe(48)
        log.warning("JWT_SECRET is not set: tokens are signed with a random secret and die with this process")
    db = Database(settings.database_path)
    tokens = Tokens(secret, settings.jwt_ttl_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with db:  # open and migrated while the app serves
            yield

    app = FastAPI(title="Conduit", lifespan=lifespan)
    conduit = Conduit(db, Passwords(settings.bcrypt_rounds), tokens)
    include_contract(app, CONTRACT_PATH, bind(conduit, TokenAuth(db, tokens), Errors()), limits=limits or Limits())
    return app
