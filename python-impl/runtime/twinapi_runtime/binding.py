"""What generated routing code hands the runtime, and what the runtime hands back to it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from twinapi_runtime.problems import ProblemError

error_log = logging.getLogger("twinapi.error")
MODEL_REFUSED = "The server could not read a request that the contract accepts."


@dataclass(frozen=True, slots=True)
class Context:
    """Per-request facts a handler may need beyond its typed arguments."""

    request_id: str
    path: str
    request: Request


@dataclass(frozen=True, slots=True)
class Call:
    """A request the runtime has authenticated and validated: params by their spec names, the parsed body."""

    principal: Any
    params: dict[str, Any]
    body: Any


@dataclass(frozen=True, slots=True)
class RawBody:
    """A request body of a media type other than JSON, as it arrived (a form is validated first)."""

    media_type: str
    content: bytes


M = TypeVar("M", bound=BaseModel)


def as_model(model: type[M], value: Any, where: str) -> M:
    """Validated data as its generated model.

    The schema already passed, and a model must take whatever its schema takes: a refusal here is the kit's defect,
    not the client's, so it is a 500 whose log line names the model and what it refused.
    """
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        refused = exc
    whole = _whole_numbers(value)
    if whole is not value:
        try:
            return model.model_validate(whole)
        except ValidationError as exc:
            refused = exc
    errors = [{"location": "/".join([where, *map(str, e["loc"])]), "message": e["msg"]} for e in refused.errors()]
    error_log.error(
        "a generated model refused a value its schema accepts",
        extra={"fields": {"model": model.__name__, "errors": errors}},
    )
    raise ProblemError(500, MODEL_REFUSED)


# Pydantic turns a float into an int only within 64 bits; JSON Schema calls any number without a fraction an
# integer (1e20 included), and a JSON parser hands such numbers over as floats.
_INT64 = 2**63


def _whole_numbers(value: Any) -> Any:
    """The value with every float that is a whole number beyond 64 bits as an int; the same object if none is."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) >= _INT64 else value
    if isinstance(value, dict):
        items = {key: _whole_numbers(item) for key, item in value.items()}
        return items if any(items[key] is not value[key] for key in value) else value
    if isinstance(value, list):
        listed = [_whole_numbers(item) for item in value]
        return listed if any(new is not old for new, old in zip(listed, value, strict=True)) else value
    return value


Endpoint = Callable[[Context, Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class OperationRoute:
    operation_id: str
    method: str
    path: str
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Binding:
    routes: list[OperationRoute]
    authenticators: dict[str, Callable[[Context, str], Awaitable[Any]]]
    formats: Mapping[str, tuple[str, str | None]]
    # The generated ErrorBodies hooks by error shape: they build the documented bodies of the kit's refusals.
    error_bodies: Mapping[str, Callable[[Any], object]] = field(default_factory=dict)


class MissingOperations(Exception):
    """The hand-written class lacks methods the contract requires: the server must not start."""


def require_implemented(instance: object, protocol: type, names: Mapping[str, str]) -> None:
    """Names every contract operation whose method `instance` does not implement itself."""
    missing = [
        spec_name
        for spec_name, attr in names.items()
        if getattr(type(instance), attr, None) is None or getattr(type(instance), attr) is getattr(protocol, attr)
    ]
    if missing:
        kind = protocol.__name__
        raise MissingOperations(
            f"{type(instance).__name__} does not implement {kind} for: {', '.join(missing)}; "
            "add a method for each (run `make generate` after changing the spec)"
        )


def respond(status: int, body: object, media_type: str | None, headers: Mapping[str, str | None] | None) -> Response:
    """Serialises a documented response once; the type checker already proved the body's type."""
    plain = {k: v for k, v in headers.items() if v is not None} if headers else None
    if body is None:
        return Response(status_code=status, headers=plain)
    if isinstance(body, BaseModel):
        content: bytes | str = body.model_dump_json(by_alias=True, exclude_unset=True)
    elif isinstance(body, (bytes, str)):
        content = body
    else:
        raise TypeError(f"cannot serialise a {type(body).__name__} response body")
    return Response(content, status_code=status, media_type=with_charset(media_type), headers=plain)


def with_charset(media_type: str | None) -> str | None:
    """JSON goes out as UTF-8 and says so, as Fastify does, so both implementations send the same header."""
    if media_type and is_json(media_type) and "charset" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


def is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")
