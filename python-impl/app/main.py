"""The example API's application: the generated routes bound to the hand-written service."""

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from twinapi_runtime import include_contract
from twinapi_runtime.env import Limits
from twinapi_runtime.proxies import TrustedProxies

from app.core.config import Settings
from app.core.db import open_database
from app.core.security import Passwords, Tokens
from app.errors import Problems
from app.generated.routes import CONTRACT_PATH, bind
from app.handlers import BearerAuth, TaskService
from app.store.logins import LoginFailures, Throttle
from app.store.tasks import Tasks
from app.store.users import Users

log = logging.getLogger("app")


def create_app(settings: Settings, limits: Limits | None = None, proxies: TrustedProxies | None = None) -> FastAPI:
    """The application; its lifespan opens the database (applying migrations) and closes it on shutdown. Without
    `proxies`, TRUSTED_PROXIES from the environment says whose X-Forwarded-For names the client."""
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:  # only allowed with APP_ENV=development
        secret = secrets.token_urlsafe(48)
        log.warning("JWT_SECRET is not set: signing tokens with a random secret that ends with this process")
    db = open_database(settings.database, settings.pool)
    users, tokens = Users(db), Tokens(secret, settings.jwt_ttl_seconds)
    auth = BearerAuth(tokens, users)
    throttle = Throttle(settings.login_max_failures, settings.login_max_address_failures, settings.login_failure_window)
    logins = LoginFailures(db, throttle)
    service = TaskService(users, Tasks(db), Passwords(settings.bcrypt_rounds), tokens, logins, auth.forget)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    app = FastAPI(lifespan=lifespan)
    include_contract(
        app, CONTRACT_PATH, bind(service, auth, Problems()), limits=limits or Limits(), trusted_proxies=proxies
    )
    return app
