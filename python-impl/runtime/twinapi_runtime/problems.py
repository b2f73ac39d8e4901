"""RFC 9457 problem details: the only error body any generated server sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json; charset=utf-8"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

INVALID_REQUEST = "The request does not match the contract."
NO_ROUTE = "No route matches this path."
# The order of methods in an Allow header: OpenAPI's path-item order, the same in both implementations.
METHOD_ORDER = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem instead."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers


class AuthenticationFailed(ProblemError):
    """Raised by a security handler: the credentials were sent but are not valid."""

    def __init__(self, detail: str = "The bearer token is invalid or expired.") -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class NotImplementedOperation(ProblemError):
    """Raised by a scaffolded handler that nobody has written yet."""

    def __init__(self) -> None:
        super().__init__(501, "This operation is not implemented yet.")


def invalid(errors: Sequence[Mapping[str, str]], detail: str = INVALID_REQUEST) -> ProblemError:
    return ProblemError(400, detail, errors=errors)


def problem_response(
    status: int,
    detail: str,
    instance: str,
    *,
    errors: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_error(error: ProblemError, instance: str) -> Response:
    return problem_response(error.status, error.detail, instance, errors=error.errors, headers=error.headers)
