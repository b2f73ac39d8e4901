"""Obtain a bearer token through the spec's own operations (e.g. register, then log in), as configured once."""

from __future__ import annotations

import json

import httpx

from twinapi_conformance.config import AuthSettings
from twinapi_conformance.http import WireRequest, send
from twinapi_conformance.jsonpointer import resolve
from twinapi_conformance.spec import Spec


class AuthError(RuntimeError):
    """A bootstrap step answered something other than its expected status, or carried no token."""


def bootstrap_token(client: httpx.Client, base_url: str, spec: Spec, auth: AuthSettings) -> str:
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
