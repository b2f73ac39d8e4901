"""Obtain the token requests carry, as configured once in `[auth]`: through the spec's own operations (e.g. register,
then log in), as a static token, or from an environment variable (an OAuth 2 access token obtained elsewhere)."""

from __future__ import annotations

import json
import os

import httpx

from twinapi_conformance.config import AuthSettings
from twinapi_conformance.http import WireRequest, send
from twinapi_conformance.jsonpointer import resolve
from twinapi_conformance.spec import Spec


class AuthError(RuntimeError):
    """A bootstrap step answered something other than its expected status, or carried no token."""


def configured_token(auth: AuthSettings) -> str | None:
    """The token `[auth]` gives without asking the server (`token`, `token_from_env`); None when it has steps."""
    if auth.token is not None:
        return auth.token
    if auth.token_from_env is not None:
        token = os.environ.get(auth.token_from_env, "")
        if not token.strip():
            raise AuthError(
                f"auth: token_from_env names {auth.token_from_env}, which is not set or empty: start the run with "
                f"the token in it ({auth.token_from_env}=... make test-contract)"
            )
        return token.strip()
    return None


def bootstrap_token(client: httpx.Client, base_url: str, spec: Spec, auth: AuthSettings) -> str:
    configured = configured_token(auth)
    if configured is not None:
        return configured
    token: object = None
    for step in auth.steps:
        operation = spec.operation(step.operation)
        request = WireRequest(
            method=operation.method,
            path=operation.path,
            headers=[("Content-Type", "application/json")],
            body=json.dumps(step.body).encode(),
        )
        response = send(client, base_url, request)
        if response.status != step.expect_status:
            raise AuthError(
                f"auth step {step.operation}: expected {step.expect_status}, got {response.status}: "
                f"{response.body[:300]!r}\n  {request.curl(base_url)}"
            )
        if step.token_pointer is not None:
            token = resolve(response.json(), step.token_pointer)
    if not isinstance(token, str) or not token:
        raise AuthError(f"auth: no string token at {auth.steps[-1].token_pointer} of {auth.steps[-1].operation}")
    return token


def auth_header(auth: AuthSettings, token: str) -> tuple[str, str]:
    return (auth.header, auth.header_value.format(token=token))
