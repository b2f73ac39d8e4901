"""`python -m app`: serve the API on HOST:PORT with uvicorn until SIGTERM or Ctrl-C."""

import sys

from twinapi_runtime import ContractError, MissingOperations, logs
from twinapi_runtime.env import EnvError, limits_from_env
from twinapi_runtime.proxies import trusted_proxies_from_env
from twinapi_runtime.server import serve
from twinapi_runtime.validation import InvalidPattern

from app.core.config import ConfigError, load_settings
from app.core.db import StartError, migrate_at_start
from app.main import create_app


def main() -> int:
    try:
        settings = load_settings()
        limits = limits_from_env()
        proxies = trusted_proxies_from_env()
    except (ConfigError, EnvError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    # The lifespan migrates as well (for any ASGI server); doing it first here turns a refused migration
    # into one line and exit 1 instead of uvicorn's startup traceback.
    try:
        migrate_at_start(settings.database, settings.pool)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        app = create_app(settings, limits, proxies)
    except (MissingOperations, ContractError, InvalidPattern) as exc:  # the contract does not fit the code
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(app, host=settings.host, port=settings.port, log_level=settings.log_level, limits=limits)


if __name__ == "__main__":
    sys.exit(main())
