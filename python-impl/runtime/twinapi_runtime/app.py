"""Builds the FastAPI application of a contract from its spec and a generated binding."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import yaml
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send

from twinapi_runtime import dialect
from twinapi_runtime.binding import Binding, OperationRoute, is_json
from twinapi_runtime.dispatch import Body, Media, Operation, PathEndpoint, Scheme
from twinapi_runtime.env import Limits, limits_from_env
from twinapi_runtime.middleware import RequestContext
from twinapi_runtime.problems import NO_ROUTE, problem_response
from twinapi_runtime.validation import ANYTHING, Param, Validators, scalar_kind

_TEMPLATE = re.compile(r"{([^}/]+)}")
_ENCODED_SLASH = re.compile(r"%2f", re.IGNORECASE)
# Stands for a %2F while the template is matched: a noncharacter, which no real path holds.
_SLASH_MARK = "\uffff"


class ContractError(Exception):
    """The spec and the generated code disagree, or the spec asks for something the runtime cannot serve."""


def load_spec(path: Path) -> dict[str, Any]:
    """The spec as plain JSON data (YAML dates and integer keys become strings, as JSON would have them)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return plain


def validation_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The document as the validator reads it: OpenAPI's nullable, bounds and discriminators in 2020-12 terms."""
    upgraded: dict[str, Any] = dialect.discriminated(dialect.upgrade(spec))
    return upgraded


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class _Compiler:
    def __init__(self, spec: dict[str, Any], binding: Binding, limits: Limits) -> None:
        self.spec = spec
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
        body = self._body(op.get("requestBody"), base + _pointer(route.method.lower(), "requestBody"))
        requirements = [[self._scheme(name, route) for name in sorted(req)] for req in security or []]
        return Operation(route.endpoint, requirements, params, body, path_names)

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

    def _body(self, raw: Any, pointer: str) -> Body | None:
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
                media[key] = Media("json", validator, {}, frozenset())
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


class PathRouter:
    """Finds a request's path template: one dict lookup for concrete paths, then the templates, most concrete first.

    Anything else (the docs, a path the contract lacks) goes on to FastAPI's router.
    """

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.exact: dict[str, PathEndpoint] = {}
        self.templates: list[tuple[re.Pattern[str], PathEndpoint]] = []

    def add(self, path: str, pattern: str, endpoint: PathEndpoint) -> None:
        if _TEMPLATE.search(path) is None:
            self.exact[path] = endpoint
        else:
            self.templates.append((re.compile(pattern), endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            endpoint = self.exact.get(path)
            if endpoint is None:
                path, marked = _with_encoded_slashes(scope)
                for pattern, candidate in self.templates:
                    match = pattern.fullmatch(path)
                    if match is not None:
                        params = match.groupdict()
                        if marked:
                            params = {key: value.replace(_SLASH_MARK, "/") for key, value in params.items()}
                        scope["path_params"] = params
                        endpoint = candidate
                        break
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


def _may_be_object(schema: Any) -> bool:
    """A form encodes an object: a form body whose schema cannot be one (`type: string`) is taken as it arrives."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type", "object")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _with_encoded_slashes(scope: Scope) -> tuple[str, bool]:
    """The decoded path, except that a %2F stays inside its segment (as in the Node kit's router): a parameter may
    hold a slash, sent encoded (`/items/a%2Fb` is one item). The server's decoded path has lost that difference."""
    raw = scope.get("raw_path")
    if not raw or b"%2" not in raw or _SLASH_MARK in scope["path"]:
        return scope["path"], False
    text = raw.decode("latin-1")
    if _ENCODED_SLASH.search(text) is None:
        return scope["path"], False
    return unquote(_ENCODED_SLASH.sub(_SLASH_MARK, text), errors="replace"), True


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await problem_response(404, NO_ROUTE, scope["path"])(scope, receive, send)


class ContractApp(FastAPI):
    """FastAPI with only the middleware a contract needs.

    The runtime's own outermost layer answers every error as a problem, so FastAPI's server-error, exception,
    telemetry, body-limit and exit-stack layers (which cost time on every request) are left out; middleware a user
    adds with `add_middleware` still runs, inside the request context.
    """

    contract_router: PathRouter

    def build_middleware_stack(self) -> ASGIApp:
        self.contract_router.fallback = self.router
        app: ASGIApp = self.contract_router
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return RequestContext(app)


def build_app(
    spec_path: Path,
    binding: Binding,
    *,
    lifespan: Lifespan[FastAPI] | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """The application: every spec operation routed through the runtime, the spec at /openapi.json, docs at /docs.

    Body size and JSON depth come from `limits`, else from the environment (MAX_BODY_BYTES, MAX_JSON_DEPTH).
    """
    spec = load_spec(spec_path)
    compiler = _Compiler(validation_view(spec), binding, limits or limits_from_env())
    info = spec.get("info") or {}
    app = ContractApp(
        title=str(info.get("title", "API")),
        version=str(info.get("version", "")),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    groups: dict[str, dict[str, Operation]] = {}
    shapes: dict[str, str] = {}  # templates that differ only in parameter names are one path
    for route in binding.routes:
        pattern, names = _path_pattern(route.path)
        groups.setdefault(pattern, {})[route.method] = compiler.operation(route, names)
        shapes.setdefault(pattern, route.path)
    _require_complete(spec, binding)
    app.contract_router = PathRouter(app.router)
    for pattern in sorted(groups, key=lambda p: _specificity(shapes[p])):
        app.contract_router.add(shapes[pattern], pattern, PathEndpoint(groups[pattern]))
    _add_contract_routes(app, spec, set(shapes.values()))
    app.router.default = _not_found
    return app


def _require_complete(spec: dict[str, Any], binding: Binding) -> None:
    bound = {(r.method, r.path) for r in binding.routes}
    for path, item in (spec.get("paths") or {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            if isinstance(item, dict) and method in item and (method.upper(), path) not in bound:
                raise ContractError(f"{method.upper()} {path} has no generated route: run `make generate`")


def _add_contract_routes(app: FastAPI, spec: dict[str, Any], taken: set[str]) -> None:
    """The spec itself (not a re-derived one) and Swagger UI, unless the contract uses those paths itself."""
    document = orjson.dumps(spec)

    async def openapi(_: Request) -> Response:
        return Response(document, media_type="application/json; charset=utf-8")

    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=str(app.title))

    extra: list[tuple[str, Callable[[Request], Any]]] = [("/openapi.json", openapi), ("/docs", docs)]
    for path, endpoint in extra:
        if path not in taken:
            app.router.routes.append(Route(path, endpoint, methods=["GET"]))
