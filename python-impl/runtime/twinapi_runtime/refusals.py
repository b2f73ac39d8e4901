"""The kit's own refusals in the shape the contract documents (the Node kit's refusals.ts does the same).

twinapi-codegen decides, per operation and per status the kit refuses with, which documented response answers it
(its kit_errors module holds the rule) and writes the choice into the contract document; this module only looks it
up. A status the table does not name is answered with problem+json, as is a refusal whose hook itself refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel
from starlette.responses import Response

from twinapi_runtime.binding import with_charset
from twinapi_runtime.problems import TITLES, ProblemError, from_error


class FieldError(NamedTuple):
    """One thing wrong with a request: where (`body/title`, `query/limit`, ...) and what."""

    location: str
    message: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the kit refuses a request with, handed to the generated ErrorBodies hooks to build the documented body.

    `status` is the status answered (the documented 422 where the spec says so), `title` its reason phrase, `detail`
    the kit's one-line explanation, `instance` the request's path and `errors` what is wrong, empty unless the request
    failed validation.
    """

    status: int
    title: str
    detail: str
    instance: str
    errors: tuple[FieldError, ...]


def messages(refusal: Refusal) -> list[str]:
    """Each error as `location: message`; the detail alone when there are none."""
    return [f"{e.location}: {e.message}" for e in refusal.errors] or [refusal.detail]


def summary(refusal: Refusal) -> str:
    """The detail, then every error: one line for a `message` or `error` property."""
    if not refusal.errors:
        return refusal.detail
    return f"{refusal.detail} " + "; ".join(f"{e.location}: {e.message}" for e in refusal.errors)


def field_errors(refusal: Refusal) -> list[dict[str, str]]:
    """The errors as `[{location, message}]`, the kit's problem+json `errors` member."""
    return [{"location": e.location, "message": e.message} for e in refusal.errors]


def by_location(refusal: Refusal) -> dict[str, list[str]]:
    """The messages grouped by location (`{"body/email": ["..."]}`); the detail under `body` when there are none."""
    grouped: dict[str, list[str]] = {}
    for e in refusal.errors:
        grouped.setdefault(e.location, []).append(e.message)
    return grouped or {"body": [refusal.detail]}


def problem_json(refusal: Refusal) -> dict[str, Any]:
    """The kit's own RFC 9457 body for a refusal, as a plain dict (a problem+json shape's hook can validate it)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": refusal.title,
        "status": refusal.status,
        "detail": refusal.detail,
        "instance": refusal.instance,
    }
    if refusal.errors:
        body["errors"] = field_errors(refusal)
    return body


Hook = Callable[[Refusal], object]


@dataclass(frozen=True, slots=True)
class Answer:
    """How one status is answered: the documented status and media type, and the hook building its JSON body
    (None: no body when `media_type` is None, else the summary as text)."""

    status: int
    media_type: str | None
    hook: Hook | None


class UnknownShape(Exception):
    """The contract document names an error shape the binding has no hook for."""


def answers(table: Mapping[str, Any], hooks: Mapping[str, Hook]) -> dict[int, Answer]:
    """The answers of one operation (or path) from its entry in the contract document's `errors`."""
    found = {}
    for status, entry in table.items():
        shape = entry.get("body")
        if shape is not None and shape not in hooks:
            raise UnknownShape(shape)
        found[int(status)] = Answer(int(entry["status"]), entry.get("mediaType"), hooks[shape] if shape else None)
    return found


def refuse(error: ProblemError, instance: str, table: Mapping[int, Answer]) -> Response:
    """The answer to a refusal: the documented one where the table has it, else problem+json."""
    answer = table.get(error.status)
    if answer is None:
        return from_error(error, instance)
    headers = dict(error.headers) if error.headers else None
    if answer.media_type is None:
        return Response(status_code=answer.status, headers=headers)
    refusal = Refusal(
        status=answer.status,
        title=TITLES.get(answer.status, "Error"),
        detail=error.detail,
        instance=instance,
        errors=tuple(FieldError(e["location"], e["message"]) for e in error.errors or ()),
    )
    if answer.hook is None:
        # Starlette adds `; charset=utf-8` to a text type without one, as the Node kit does.
        return Response(summary(refusal), answer.status, headers, answer.media_type)
    try:
        body = answer.hook(refusal)
    except ProblemError as refused:  # a hook that cannot build its shape (a scaffold's unwritten one): its problem
        return from_error(refused, instance)
    if not isinstance(body, BaseModel):
        raise TypeError(f"an ErrorBodies hook returned a {type(body).__name__}, not a generated model")
    content = body.model_dump_json(by_alias=True, exclude_unset=True)
    return Response(content, status_code=answer.status, media_type=with_charset(answer.media_type), headers=headers)
