"""One ASGI endpoint per path template: method dispatch, authentication, body, parameters, then the handler.

The order of checks is part of the contract and the same in both implementations:
route (404/405) -> security (401) -> content type (415) -> size (413) -> JSON (400) -> validation (400) -> handler.
A body sent to an operation that declares none is read up to the size limit (413 beyond) and dropped: whatever its
media type or syntax, the handler never gets it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from twinapi_runtime.binding import Call, Context, Endpoint, RawBody
from twinapi_runtime.problems import METHOD_ORDER, ProblemError, invalid
from twinapi_runtime.refusals import Answer, refuse
from twinapi_runtime.validation import Param, coerce, errors_of
from twinapi_runtime.visibility import Plan, ResponsePlans

ABSENT = object()  # no request body at all, unlike a JSON `null` body, which is validated like any other value
POISONED = object()  # a JSON body holding a prototype-poisoning key: refused once the schema has had its say
POISON = {"location": "body", "message": "must not have a __proto__ or constructor.prototype property"}
MISSING_CREDENTIALS = "A valid bearer token is required."
NOT_JSON = "The request body is not valid JSON."

Authenticator = Callable[[Context, str], Awaitable[Any]]
# Headers whose first line Node's HTTP layer keeps when they repeat; it joins the lines of any other with ", ".
FIRST_LINE_ONLY = frozenset(
    "age authorization content-length content-type etag expires from host if-modified-since if-unmodified-since "
    "last-modified location max-forwards proxy-authorization referer retry-after server user-agent".split()
)


@dataclass(frozen=True, slots=True)
class Scheme:
    """Where a security scheme's credentials travel, and the handler that checks them."""

    name: str
    kind: str  # bearer, basic, header, query, cookie, or opaque (mutualTLS, undeclared: the kit cannot read them)
    param: str
    check: Authenticator

    def credentials(self, request: Request) -> str | None:
        if self.kind == "opaque":
            return ""  # always "present": the handler decides from the request, so access never opens by default
        if self.kind in ("bearer", "basic"):
            parts = request.headers.get("authorization", "").split(" ")
            if len(parts) != 2 or parts[0].lower() != self.kind or not parts[1]:
                return None
            if self.kind == "basic":
                try:
                    return base64.b64decode(parts[1], validate=True).decode()
                except (binascii.Error, UnicodeDecodeError):
                    return None
            return parts[1]
        if self.kind == "header":
            # The raw value, whatever it holds (`Token <jwt>` too): reading it is the handler's job.
            lines = request.headers.getlist(self.param)
            value = lines[0] if lines and self.param.lower() in FIRST_LINE_ONLY else ", ".join(lines)
        else:
            value = {"query": request.query_params, "cookie": request.cookies}[self.kind].get(self.param, "")
        return value or None  # an empty value is no credential

    def sent(self, request: Request) -> bool:
        """Whether the request carries anything where this scheme looks, usable or not."""
        if self.kind == "opaque":
            return False  # nothing to look at: its handler is called whatever is sent
        if self.kind in ("bearer", "basic"):
            return request.headers.get("authorization", "") != ""
        return self.credentials(request) is not None


@dataclass(frozen=True, slots=True)
class Media:
    """How one declared media type of a request body is read: parsed JSON, a validated form, or raw bytes."""

    kind: str  # json, form or raw
    validator: Any  # None when the spec gives no schema worth checking
    fields: dict[str, str | None]  # form fields: their scalar kind, for the shared string conversion
    arrays: frozenset[str]  # form fields that are arrays
    omit: Plan | None = None  # readOnly properties, removed from a JSON body once it is validated


@dataclass(frozen=True, slots=True)
class Body:
    required: bool
    media: dict[str, Media]  # by lower-case media type, wildcards (`image/*`, `*/*`) included
    limit: int  # bytes
    depth: int  # how deeply a JSON body may nest arrays and objects

    def match(self, media_type: str) -> Media | None:
        if media_type in self.media:
            return self.media[media_type]
        if not media_type:
            return None
        return self.media.get(media_type.split("/", 1)[0] + "/*") or self.media.get("*/*")


class Operation:
    def __init__(
        self,
        endpoint: Endpoint,
        security: list[list[Scheme]],
        params: list[Param],
        body: Body | None,
        path_names: dict[str, str],
        body_limit: int,
        answers: dict[int, Answer],
        responses: ResponsePlans | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.answers = answers  # the kit's refusals as the operation documents them (see refusals)
        self.responses = responses  # writeOnly properties, removed from the responses that could carry them
        self.security = security
        self.optional_auth = any(not requirement for requirement in security)
        self.schemes = {scheme.name: scheme for requirement in security for scheme in requirement}.values()
        self.params = params
        self.body = body
        self.body_limit = body_limit  # bytes; for a body the operation does not declare, read and dropped
        self.path_names = path_names  # Starlette's safe parameter names -> the spec's names

    async def handle(self, scope: Scope, receive: Receive) -> Response:
        request = Request(scope, receive)
        ctx = Context(request_id=scope["state"]["request_id"], path=scope["path"], request=request)
        try:
            principal = await self._authenticate(ctx, request) if self.security else None
            if self.body is None:
                # Real clients send `{}`, or Content-Type: application/json and nothing, to operations without a body.
                if _has_body(request):
                    await _receive(request, self.body_limit)
                checked, media, body = None, None, ABSENT
            else:
                checked, media, body = await self._read_body(request)
            params, errors = self._read_params(request)
            if media is not None and media.validator is not None:
                errors += errors_of(media.validator, checked, "body")
            if errors:
                raise invalid(errors)
            if body is POISONED:
                raise invalid([POISON])
            if media is not None and media.omit is not None:
                body = media.omit.apply(body)
            response = await self.endpoint(ctx, Call(principal, params, None if body is ABSENT else body))
            return response if self.responses is None else _without_write_only(response, self.responses)
        except ProblemError as error:
            return refuse(error, ctx.path, self.answers)

    async def _authenticate(self, ctx: Context, request: Request) -> Any:
        for requirement in self.security:
            found = [(scheme, scheme.credentials(request)) for scheme in requirement]
            if requirement and all(value is not None for _, value in found):
                principal = None
                for scheme, value in found:
                    checked = await scheme.check(ctx, value)  # type: ignore[arg-type]
                    principal = checked if principal is None else principal
                return principal
        # Anonymous only when nothing was sent: credentials that are there but unusable fail like bad ones.
        if self.optional_auth and not any(scheme.sent(request) for scheme in self.schemes):
            return None
        challenge = "Basic" if all(s.kind in ("basic", "opaque") for r in self.security for s in r) else "Bearer"
        raise ProblemError(401, MISSING_CREDENTIALS, headers={"WWW-Authenticate": challenge})

    async def _read_body(self, request: Request) -> tuple[Any, Media | None, Any]:
        """What to validate, how, and what the handler gets (a form is validated as an object, delivered raw)."""
        body = self.body
        assert body is not None
        content_type = request.headers.get("content-type", "")
        media = body.match(content_type.split(";", 1)[0].strip().lower())
        if not _has_body(request):
            # Zero bytes are a value of text, binary and form bodies (an empty form is {}); no JSON value is empty.
            if not content_type or media is None or media.kind == "json":
                return self._absent()
            return self._delivered(media, content_type, b"")
        if media is None:
            raise ProblemError(415, f"The request body must be {' or '.join(sorted(body.media))}.")
        raw = await _receive(request, body.limit)
        if media.kind == "json":
            if not raw:
                return self._absent()
            if too_deep(raw, body.depth):
                raise _nested_too_deeply(raw, body.depth)
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise invalid([{"location": "body", "message": str(exc)}], NOT_JSON) from None
            # Only texts that could spell such a key (maybe as \u escapes) pay for the walk.
            suspect = b"proto" in raw or b"\\u" in raw
            return value, media, POISONED if suspect and poisoned(value) else value
        return self._delivered(media, content_type, bytes(raw))

    @staticmethod
    def _delivered(media: Media, content_type: str, raw: bytes) -> tuple[Any, Media | None, Any]:
        delivered = RawBody(content_type, raw)
        if media.kind == "form":
            return _form(delivered.content, media), media, delivered
        return None, None, delivered

    def _absent(self) -> tuple[None, None, object]:
        assert self.body is not None
        if self.body.required:
            raise invalid([{"location": "body", "message": "is required"}])
        return None, None, ABSENT

    def _read_params(self, request: Request) -> tuple[dict[str, Any], list[dict[str, str]]]:
        values: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        path_params = {self.path_names.get(k, k): v for k, v in request.path_params.items()}
        for param in self.params:
            if param.fields is not None:
                found_object = _object_value(request, param, path_params)
                if found_object is None:
                    if param.required:
                        errors.append({"location": param.where, "message": "is required"})
                    continue
                found = errors_of(param.validator, found_object, param.where)
                if found:
                    errors += found
                else:
                    values[param.name] = found_object
                continue
            raw = _raw_values(request, param, path_params)
            if not raw:
                if param.required:
                    errors.append({"location": param.where, "message": "is required"})
                elif param.has_default:
                    values[param.name] = param.default
                continue
            if param.array:
                # Unexploded, the empty list is the empty string (`a=`), not a list of one empty string.
                items = raw if param.explode or len(raw) > 1 else raw[0].split(",") if raw[0] else []
                value: Any = [coerce(item, param.kind) for item in items]
            elif len(raw) > 1:
                errors.append({"location": param.where, "message": "must be given at most once"})
                continue
            else:
                value = coerce(raw[0], param.kind)
            found = errors_of(param.validator, value, param.where)
            if found:
                errors += found
            else:
                values[param.name] = value
        return values, errors


def _has_body(request: Request) -> bool:
    # One pass over the raw headers (the first of each counts, as in request.headers), without building a Headers
    # object: every operation without a request body asks this.
    length = encoding = None
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            length = value if length is None else length
        elif name == b"transfer-encoding":
            encoding = value if encoding is None else encoding
    return (encoding is not None and b"chunked" in encoding.lower()) or (length is not None and length.strip() != b"0")


async def _receive(request: Request, limit: int) -> bytearray:
    """The whole body, refused (413) as soon as it is known to be larger than `limit` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _too_large(limit)
    return raw


def _without_write_only(response: Response, plans: ResponsePlans) -> Response:
    """The response without the writeOnly properties its documented schema flags (parsed, pruned, serialised again:
    only responses that could carry one pay for it)."""
    plan = plans.find(response.status_code, response.media_type)
    body = getattr(response, "body", None)  # a streamed response is no JSON body of the contract's
    if plan is None or not isinstance(body, bytes) or not body:
        return response
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return response  # no JSON, so no property of its schema
    response.body = orjson.dumps(plan.apply(value))
    response.headers["content-length"] = str(len(response.body))
    return response


def _object_value(request: Request, param: Param, path_params: dict[str, str]) -> dict[str, Any] | None:
    """An object parameter in its OpenAPI serialisation (deepObject, exploded form, or `k,v` pairs)."""
    fields = param.fields or {}
    if param.location == "query" and param.style == "deepObject":
        prefix = param.name + "["
        found = {
            key[len(prefix) : -1]: coerce(value, fields.get(key[len(prefix) : -1]))
            for key, value in request.query_params.multi_items()
            if key.startswith(prefix) and key.endswith("]")
        }
        return found if found or param.required else None
    if param.location == "query" and param.explode:
        exploded = {
            name: coerce(request.query_params[name], kind)
            for name, kind in fields.items()
            if name in request.query_params
        }
        # {} serialises to nothing in both styles: for a required parameter, nothing is that value.
        return exploded if exploded or param.required else None
    raw = _raw_values(request, param, path_params)
    if not raw:
        return None
    if param.explode:  # simple style, exploded: k=v,k=v
        pairs = [item.partition("=")[::2] for item in raw[0].split(",")]
    else:
        items = raw[0].split(",")
        pairs = list(zip(items[::2], items[1::2], strict=False))
    return {key: coerce(value, fields.get(key)) for key, value in pairs}


def _raw_values(request: Request, param: Param, path_params: dict[str, str]) -> list[str]:
    if param.location == "query":
        return request.query_params.getlist(param.name)
    if param.location == "path":
        value = path_params.get(param.name)
        return [] if value is None else [value]
    if param.location == "header":
        # Repeated header lines are one list, as HTTP defines them (and as Node joins them).
        lines = request.headers.getlist(param.name)
        return [", ".join(lines)] if lines else []
    value = request.cookies.get(param.name)
    return [] if value is None else [value]


def poisoned(value: Any) -> bool:
    """Fastify's prototype-poisoning guard, in both implementations alike: a `__proto__` key, or a `constructor`
    holding a `prototype`, would let a naive merge in a Node handler reach Object.prototype."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            if "__proto__" in node:
                return True
            constructor = node.get("constructor")
            if isinstance(constructor, dict) and "prototype" in constructor:
                return True
            pending.extend(node.values())
    return False


_JSON_SPECIAL = re.compile(rb'["\\\[\]{}]')


def too_deep(raw: bytes | bytearray, limit: int) -> bool:
    """Whether a JSON text nests arrays and objects deeper than `limit`, found by a scan (strings skipped) before
    any parser or validator recurses into it. The Node kit scans the same way."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth, in_string, skip_to = 0, False, -1
    for match in _JSON_SPECIAL.finditer(raw):
        pos = match.start()
        if pos < skip_to:
            continue
        char = raw[pos]
        if in_string:
            if char == 0x5C:  # a backslash: the next byte is escaped
                skip_to = pos + 2
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif char in (0x5D, 0x7D):
            depth -= 1
    return False


def _nested_too_deeply(raw: bytes | bytearray, limit: int) -> ProblemError:
    try:
        raw.decode()
    except UnicodeDecodeError:  # as in Node, a body that is not UTF-8 is no JSON, however deep
        return invalid([{"location": "body", "message": "is not UTF-8"}], NOT_JSON)
    return invalid([{"location": "body", "message": f"nests arrays and objects deeper than {limit} levels"}], NOT_JSON)


def _form(raw: bytes, media: Media) -> dict[str, Any]:
    """A urlencoded form as the object its schema describes, with the same conversion as parameters."""
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise invalid([{"location": "body", "message": "is not UTF-8"}]) from None
    form: dict[str, Any] = {}
    for name, value in pairs:
        converted = coerce(value, media.fields.get(name))
        if name in media.arrays:
            form.setdefault(name, []).append(converted)
        else:
            form[name] = converted
    return form


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, f"The request body is larger than {limit} bytes.")


class PathEndpoint:
    """The ASGI app of one path template; an undocumented method gets 405 with every documented one in Allow."""

    def __init__(self, operations: dict[str, Operation], answers: dict[int, Answer]) -> None:
        self.operations = operations
        self.answers = answers  # its 405 as the path's operations document it
        self.allow = ", ".join(m for m in METHOD_ORDER if m in operations)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = self.operations.get(scope["method"])
        if operation is None:
            wrong = ProblemError(405, "This path does not accept this method.", headers={"Allow": self.allow})
            response = refuse(wrong, scope["path"], self.answers)
        else:
            response = await operation.handle(scope, receive)
        await response(scope, receive, send)
