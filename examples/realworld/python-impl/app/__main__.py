"""`python -m app`: serve RealWorld Conduit API on HOST:PORT (default 127.0.0.1:8000) until SIGTERM or Ctrl-C."""

import sys

from twinapi_runtime.server import serve_from_env

from app.main import create_app

sys.exit(serve_from_env(create_app, default_port=8000))
