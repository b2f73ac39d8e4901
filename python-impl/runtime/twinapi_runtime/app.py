"""Serves a contract on a FastAPI application, from its generated contract document and binding."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from twinapi_runtime import docs, refusals
from twinapi_runtime.binding import Binding, OperationRoute, is_json
from twinapi_runtime.dispatch import Body, Media, Operation, PathEndpoint, Scheme
from twinapi_runtime.env import Limits, limits_from_env
from twinapi_runtime.middleware import RequestContext, http_problem
from twinapi_runtime.problems import NO_ROUTE, problem_response
from twinapi_runtime.proxies import TrustedProxies, trusted_proxies_from_env
from twinapi_runtime.refusals import Answer
from twinapi_runtime.validation import ANYTHING, Param, Validators, scalar_kind
from twinapi_runtime.visibility import ContractShapeError, Plan, Visibility

_TEMPLATE = re.compile(r"{([^}/]+)}")
_ENCODED_SLASH = re.compile(r"%2f", re.IGNORECASE)
# Stands for a %2F while the template is matched: a noncharacter, which no real path holds.
_SLASH_MARK = "\uffff"


class ContractError(Exception):
    """The spec and the generated code disagree, or the spec asks for something the runtime cannot serve."""


# The format of the contract document this runtime reads (twinapi-codegen's contract.py writes it).
CONTRACT_FORMAT = 1


@dataclass(frozen=True)
class ContractDocument:
    """What the generator wrote for the runtime: the spec as written (served at /openapi.json), the document routed
    by, OpenAPI's dialect already in JSON Schema 2020-12 terms, that document with tagged `oneOf`s checked by
    their tag, which requests are validated by, what leaves request and response bodies (readOnly and writeOnly
    properties; None when no body carries any), and how the kit's refusals are answered (see refusals)."""

    spec: dict[str, Any]
    served: dict[str, Any]
    validation: dict[str, Any]
    errors: dict[str, Any] = field(default_factory=dict)
    visibility: dict[str, Any] | None = None


def load_contract(path: Path) -> ContractDocument:
    """The generated contract document; ContractError if it is missing or not one this runtime reads."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ContractError(f"{path}: cannot read the contract document ({exc}): run `make generate`") from None
    if not isinstance(data, dict) or data.get("twinapi-contract") != CONTRACT_FORMAT:
        raise ContractError(
            f"{path} is not a contract document of format {CONTRACT_FORMAT}: run `make generate` with the "
            "twinapi-codegen that matches this runtime"
        )
    spec, served = data.get("spec"), data.get("served")
    validation = data.get("validation", served)  # written only where it differs from `served`
    errors = data.get("errors", {})
    if not isinstance(spec, dict) or not isinstance(served, dict) or not isinstance(validation, dict):
        raise ContractError(f"{path}: the contract document lacks its spec: run `make generate`")
    if not isinstance(errors, dict):
        raise ContractError(f"{path}: the contract document's errors are not a table: run `make generate`")
    visibility = data.get("visibility")
    if visibility is not None and not isinstance(visibility, dict):
        raise ContractError(f"{path}: the contract document's `visibility` is not an object: run `make generate`")
    return ContractDocument(spec, served, validation, errors, visibility)


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class _Compiler:
    def __init__(
        self, spec: dict[str, Any], binding: Binding, limits: Limits, errors: dict[str, Any], visibility: Visibility
    ) -> None:
        self.spec = spec
        self.errors = errors
        self.error_bodies = binding.error_bodies
        self.visibility = visibility
        self.validators = Validators(spec, binding.formats)
        self.limits = limits
        self.authenticators = binding.authenticators
        self.schemes = self._schemes(binding)

    def resolve(self, node: Any) -> Any:
        return self.located(node, "")[0]

    def located(self, node: Any, where: str) -> tuple[Any, str]:
        """Follows local `$ref`s; the node found and its pointer (the schemas inside are compiled from there)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            ref = node["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            node, where = self.at(ref[1:]), ref[1:]
        return node, where

    def at(self, pointer: str) -> Any:
        node: Any = self.spec
        for raw in pointer.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def _schemes(self, binding: Binding) -> dict[str, Scheme]:
        found = {}
        for name, raw in ((self.spec.get("components") or {}).get("securitySchemes") or {}).items():
            scheme = self.resolve(raw)
            kind = scheme.get("type")
            if kind == "http":
                kind = str(scheme.get("scheme", "")).lower()
            elif kind in ("oauth2", "openIdConnect"):
                kind = "bearer"
            elif kind == "apiKey":
                kind = scheme.get("in")
            elif kind == "mutualTLS":
                kind = "opaque"  # checked by whatever terminates TLS: the handler decides from the request
            if kind not in ("bearer", "basic", "header", "query", "cookie", "opaque"):
                raise ContractError(f"security scheme {name!r}: {scheme.get('type')} is not supported")
            found[name] = Scheme(name, kind, str(scheme.get("name", "")), binding.authenticators[name])
        return found

    def _scheme(self, name: str, route: OperationRoute) -> Scheme:
        """A declared scheme, or one the spec only names in a requirement: its handler decides from the request."""
        if name in self.schemes:
            return self.schemes[name]
        if name not in self.authenticators:
            raise ContractError(
                f"{route.method} {route.path}: no handler for security scheme {name!r}: run `make generate`"
            )
        self.schemes[name] = Scheme(name, "opaque", "", self.authenticators[name])
        return self.schemes[name]

    def operation(self, route: OperationRoute, path_names: dict[str, str]) -> Operation:
        # A path item may be a reference to another one: its schemas are compiled where they are.
        item, base = self.located((self.spec.get("paths") or {}).get(route.path), _pointer("paths", route.path))
        op = item.get(route.method.lower()) if isinstance(item, dict) else None
        if not isinstance(op, dict):
            raise ContractError(f"{route.method} {route.path} is not in the spec: run `make generate`")
        security = op.get("security", self.spec.get("security", []))
        params = self._params(item, op, base, route.method.lower())
        body = self._body(
            op.get("requestBody"),
            base + _pointer(route.method.lower(), "requestBody"),
            lambda media_type: self.visibility.request(route.path, route.method, media_type),
        )
        requirements = [[self._scheme(name, route) for name in sorted(req)] for req in security or []]
        answers = self.answers("operations", route.operation_id)
        responses = self.visibility.responses(route.path, route.method)
        return Operation(
            route.endpoint, requirements, params, body, path_names, self.limits.max_body_bytes, answers, responses
        )

    def answers(self, kind: str, key: str) -> dict[int, Answer]:
        """The documented answers of an operation's (or a path's) refusals, from the contract document."""
        try:
            return refusals.answers((self.errors.get(kind) or {}).get(key) or {}, self.error_bodies)
        except refusals.UnknownShape as missing:
            raise ContractError(
                f"{key}: no ErrorBodies hook for the error shape {missing}: run `make generate`"
            ) from None

    def _params(self, item: dict[str, Any], op: dict[str, Any], base: str, method: str) -> list[Param]:
        merged: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        for where, group in (
            (base + "/parameters", item.get("parameters")),
            (base + f"/{method}/parameters", op.get("parameters")),
        ):
            for i, raw in enumerate(group or []):
                param = self.resolve(raw)
                pointer = raw["$ref"][1:] if isinstance(raw, dict) and "$ref" in raw else f"{where}/{i}"
                # HTTP header names are case-insensitive: an operation's X-Id overrides its path's x-id.
                location = param["in"]
                merged[(param["name"].lower() if location == "header" else param["name"], location)] = (pointer, param)
        params = []
        for (_, location), (pointer, param) in merged.items():
            name = param["name"]
            schema = self.resolve(param.get("schema", {}))
            array = isinstance(schema, dict) and schema.get("type") == "array"
            style = param.get("style", "form" if location in ("query", "cookie") else "simple")
            explode = bool(param.get("explode", style == "form")) and location in ("query", "cookie")
            if location in ("path", "header") and "explode" in param:
                explode = bool(param["explode"])
            fields = None
            if isinstance(schema, dict) and (schema.get("type") == "object" or style == "deepObject"):
                properties = schema.get("properties") or {}
                fields = {n: scalar_kind(p, self.resolve) for n, p in properties.items()}
            kind = scalar_kind(schema.get("items", {}) if array else schema, self.resolve)
            schema_pointer = param["schema"]["$ref"][1:] if "$ref" in param.get("schema", {}) else pointer + "/schema"
            params.append(
                Param(
                    name=name,
                    location=location,
                    required=bool(param.get("required", location == "path")),
                    array=array,
                    explode=explode,
                    kind=kind,
                    default=schema.get("default") if isinstance(schema, dict) else None,
                    has_default=isinstance(schema, dict) and "default" in schema,
                    # A parameter described by `content` instead of `schema` is taken as it is, as in Node.
                    validator=self.validators.compile(schema_pointer) if "schema" in param else ANYTHING,
                    style=style,
                    fields=fields,
                )
            )
        return params

    def _body(self, raw: Any, pointer: str, omitted: Callable[[str], Plan | None]) -> Body | None:
        if raw is None:
            return None
        if "$ref" in raw:
            pointer = raw["$ref"][1:]
        body = self.resolve(raw)
        media = {}
        for media_type, entry in (body.get("content") or {}).items():
            entry = entry or {}
            key = media_type.split(";", 1)[0].strip().lower()
            schema_pointer = pointer + _pointer("content", media_type, "schema")
            schema = self.resolve(entry.get("schema"))
            if is_json(key):
                validator = self.validators.compile(schema_pointer) if "schema" in entry else None
                media[key] = Media("json", validator, {}, frozenset(), omitted(key))
            elif key == "application/x-www-form-urlencoded" and _may_be_object(schema):
                properties = schema.get("properties") or {}
                arrays = frozenset(n for n, p in properties.items() if (self.resolve(p) or {}).get("type") == "array")
                fields = {
                    n: scalar_kind((self.resolve(p) or {}).get("items", {}) if n in arrays else p, self.resolve)
                    for n, p in properties.items()
                }
                media[key] = Media("form", self.validators.compile(schema_pointer), fields, arrays)
            else:
                media[key] = Media("raw", None, {}, frozenset())
        return Body(
            required=bool(body.get("required", False)),
            media=media,
            limit=self.limits.max_body_bytes,
            depth=self.limits.max_json_depth,
        )


def _path_pattern(path: str) -> tuple[str, dict[str, str]]:
    """A path template as a regex whose groups have safe names, mapped back to the spec's parameter names.

    A parameter may be empty (`/tasks/`): it reaches validation, as in Fastify, instead of being a 404.
    """
    names: dict[str, str] = {}
    parts, last = [], 0
    for match in _TEMPLATE.finditer(path):
        safe = f"p{len(names)}"
        names[safe] = match[1]
        parts += [re.escape(path[last : match.start()]), f"(?P<{safe}>[^/]*)"]
        last = match.end()
    parts.append(re.escape(path[last:]))
    return "".join(parts), names


def _specificity(path: str) -> tuple[tuple[int, int], ...]:
    # Concrete segments win over templated ones, as OpenAPI specifies (/tasks/search before /tasks/{id}), and
    # within a segment, more literal text wins (/jobs/{name}:cancel before /jobs/{name}).
    return tuple((int("{" in seg), -len(_TEMPLATE.sub("", seg))) for seg in path.split("/"))


class ContractRoutes:
    """Finds a request's path template: one dict lookup for concrete paths, then the templates, most concrete first."""

    def __init__(self) -> None:
        self.exact: dict[str, PathEndpoint] = {}
        self.templates: list[tuple[re.Pattern[str], PathEndpoint]] = []

    def add(self, path: str, pattern: str, endpoint: PathEndpoint) -> None:
        if _TEMPLATE.search(path) is None:
            self.exact[path] = endpoint
        else:
            self.templates.append((re.compile(pattern), endpoint))

    def find(self, scope: Scope, path: str) -> tuple[PathEndpoint, dict[str, str]] | None:
        endpoint = self.exact.get(path)
        if endpoint is not None:
            return endpoint, {}
        path, marked = _with_encoded_slashes(scope, path)
        for pattern, candidate in self.templates:
            match = pattern.fullmatch(path)
            if match is not None:
                params = match.groupdict()
                if marked:
                    params = {key: value.replace(_SLASH_MARK, "/") for key, value in params.items()}
                return candidate, params
        return None


class ContractDispatch:
    """The innermost middleware of the app: a contract request goes from the app's middleware straight to its
    operation, past FastAPI's exception, exit-stack and router layers (which cost time on every request and serve
    nothing the runtime does not do itself); any other request goes on to them and to the app's own routes.

    An exception an operation raises that the app has a handler for is answered by that handler, as FastAPI would.
    """

    def __init__(self, app: ASGIApp, routes: ContractRoutes, owner: FastAPI) -> None:
        self.app = app
        self.routes = routes
        # Handlers for 500 and Exception belong to the outermost layer, as in Starlette.
        self.handlers = {k: v for k, v in owner.exception_handlers.items() if k not in (500, Exception)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            found = self.routes.find(scope, path)
            if found is not None:
                endpoint, scope["path_params"] = found
                try:
                    await endpoint(scope, receive, send)
                except Exception as exc:
                    await self._handled(exc, scope, receive, send)
                return
            # The contract's paths are exact, as in Node: `/health/` is not found, not redirected to `/health`.
            toggled = path[:-1] if path.endswith("/") else path + "/"
            if toggled and self.routes.find(scope, toggled) is not None:
                await problem_response(404, NO_ROUTE, path)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _handled(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        handler = next((self.handlers[c] for c in type(exc).__mro__ if c in self.handlers), None)
        if handler is None:
            raise exc
        request = Request(scope, receive)
        if inspect.iscoroutinefunction(handler):
            response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        if response is not None:
            await response(scope, receive, send)


def _may_be_object(schema: Any) -> bool:
    """A form encodes an object: a form body whose schema cannot be one (`type: string`) is taken as it arrives."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type", "object")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _with_encoded_slashes(scope: Scope, path: str) -> tuple[str, bool]:
    """The decoded path, except that a %2F stays inside its segment (as in the Node kit's router): a parameter may
    hold a slash, sent encoded (`/items/a%2Fb` is one item). The server's decoded path has lost that difference."""
    raw = scope.get("raw_path")
    if not raw or b"%2" not in raw or _SLASH_MARK in path or path != scope["path"]:
        return path, False
    text = raw.decode("latin-1")
    if _ENCODED_SLASH.search(text) is None:
        return path, False
    return unquote(_ENCODED_SLASH.sub(_SLASH_MARK, text), errors="replace"), True


def include_contract(
    app: FastAPI,
    contract_path: Path,
    binding: Binding,
    *,
    limits: Limits | None = None,
    trusted_proxies: TrustedProxies | None = None,
) -> None:
    """Serves every operation of the generated contract document on `app`, ahead of the app's own routes.

    The app stays the caller's: its routes, dependencies, routers, exception handlers, middleware and lifespan work
    as in any FastAPI app, and all of its middleware, added before or after this call, wraps the contract's routes
    too. `app.openapi()` (and so the app's /openapi.json) is the contract as written; the app's docs pages load
    their assets from the app itself. The kit's request layer (request id, access log, a 500 problem that leaks
    nothing) is middleware added by this call: middleware added later runs outside it. Body size and JSON depth
    come from `limits`, else from the environment (MAX_BODY_BYTES, MAX_JSON_DEPTH); the proxies whose
    X-Forwarded-For names the client from `trusted_proxies`, else from TRUSTED_PROXIES (proxies.py).
    """
    proxies = trusted_proxies if trusted_proxies is not None else trusted_proxies_from_env()
    contract = load_contract(contract_path)
    spec = contract.spec
    try:
        visibility = Visibility(contract.visibility)
    except ContractShapeError as exc:
        raise ContractError(f"{contract_path}: {exc}: run `make generate`") from None
    compiler = _Compiler(contract.validation, binding, limits or limits_from_env(), contract.errors, visibility)
    groups: dict[str, dict[str, Operation]] = {}
    shapes: dict[str, str] = {}  # templates that differ only in parameter names are one path
    for route in binding.routes:
        pattern, names = _path_pattern(route.path)
        groups.setdefault(pattern, {})[route.method] = compiler.operation(route, names)
        shapes.setdefault(pattern, route.path)
    _require_complete(spec, binding)
    if app.middleware_stack is not None:
        raise RuntimeError("include_contract must be called before the application starts")
    routes = ContractRoutes()
    for pattern in sorted(groups, key=lambda p: _specificity(shapes[p])):
        routes.add(shapes[pattern], pattern, PathEndpoint(groups[pattern], compiler.answers("paths", shapes[pattern])))
    # Last in the list is innermost: middleware the app adds later still wraps the contract's routes.
    app.user_middleware.append(Middleware(ContractDispatch, routes=routes, owner=app))
    # FastAPI's documented way to give an app its own document (its /openapi.json serves what this returns).
    app.openapi = lambda: spec  # type: ignore[method-assign]
    docs.serve(app, str((spec.get("info") or {}).get("title", "API")))
    # FastAPI's own answer to an HTTPException is {"detail": ...}; unless the app chose its own, it is a problem.
    if app.exception_handlers.get(HTTPException) is http_exception_handler:
        app.exception_handlers[HTTPException] = http_problem
    app.add_middleware(RequestContext, owner=app, proxies=proxies)


def _require_complete(spec: dict[str, Any], binding: Binding) -> None:
    bound = {(r.method, r.path) for r in binding.routes}
    for path, item in (spec.get("paths") or {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            if isinstance(item, dict) and method in item and (method.upper(), path) not in bound:
                raise ContractError(f"{method.upper()} {path} has no generated route: run `make generate`")
