"""The application of RealWorld Conduit API: a FastAPI app serving the generated routes bound to the hand-written
handlers.

The app is yours: add routes, routers, dependencies, exception handlers, middleware and a lifespan as in any FastAPI
app. The contract's operations are served ahead of your own routes, and your middleware wraps them too.
"""

from fastapi import FastAPI
from twinapi_runtime import include_contract

from app.errors import Errors
from app.generated.routes import CONTRACT_PATH, bind
from app.handlers import Security, Service


def create_app() -> FastAPI:
    app = FastAPI()
    include_contract(app, CONTRACT_PATH, bind(Service(), Security(), Errors()))
    return app
