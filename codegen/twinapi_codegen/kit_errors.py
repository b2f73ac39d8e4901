"""The kit's own errors as the spec documents them: the one place that decides how either runtime answers a request
it refuses after routing and before any handler runs.

The rule, per operation and per status the kit refuses with (its "kit status"):
- validation (the kit's 400: parameters, body schema, a required body missing, malformed JSON, a prototype-poisoning
  key, and Fastify's own client errors): the operation's documented `400`, else `422`, else `4XX`, else `default`;
- missing or bad credentials (401), wrong content type (415), body too large (413): the documented status itself,
  else `4XX`, else `default`;
- method not allowed (405): no operation is known, only the path, so the path's operations are asked in OpenAPI's
  method order (get, put, post, delete, options, head, patch, trace) and the first that documents `405`, `4XX` or
  `default` gives the answer;
- nothing documented: the kit's status with its RFC 9457 problem+json, as before.
The status sent is the documented one where it is a number (422), else the kit's (a `4XX` or `default` answer to a
validation failure is a 400). The body follows the chosen response: its JSON schema is an error shape, built by the
hook the generated `ErrorBodies` interface declares for it (one per distinct schema); a response documented without
content is answered without a body; a `text/*` one with the kit's one-line summary. A response whose only content is
another media type (XML, ...) cannot be built by the kit: that status falls back to problem+json, and generation says
so in a warning.

Protocol-level refusals (408, 414, 431, malformed HTTP) and 404 happen before any operation is known and stay
problem+json. The result is written into the contract document (`errors`), which both runtimes only look up.
"""

from __future__ import annotations

import json
from typing import Any

from twinapi_codegen.errors import pointer, warn
from twinapi_codegen.naming import camel, snake, unique

VALIDATION = 400
# Response headers the kit sends on its own answers, so a spec may require them: X-Request-ID on every answer (the
# client's, else a fresh id), WWW-Authenticate on its 401 (the scheme's challenge), Allow on its 405 (the path's
# methods). It has no value for any other header a spec requires on these answers (a rate-limit window, a language,
# an id of another name): generation warns about each, and the project sends it (README, "Errors your spec declares").
SENT_HEADERS = {0: {"x-request-id"}, 401: {"www-authenticate"}, 405: {"allow"}}
# The statuses the runtimes refuse with after routing, on an operation; 405 is the path's (see `paths`).
OPERATION_STATUSES = (400, 401, 413, 415)
NOT_ALLOWED = 405


def candidates(status: int) -> list[str]:
    """The response keys that answer a kit status, in the order they are tried."""
    keys = [str(status)]
    if status == VALIDATION:
        keys.append("422")
    return [*keys, f"{str(status)[0]}XX", "default"]


def _is_json(media: str) -> bool:
    base = media.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


class ErrorTable:
    """The chosen answer for every operation and path, and the error shapes the hooks build."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.doc = ctx.doc
        self.shapes: list[dict[str, Any]] = []
        self._by_schema: dict[str, dict[str, Any]] = {}
        self._py_taken: set[str] = set()
        self._ts_taken: set[str] = set()
        self.operations: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, dict[str, Any]] = {}
        # (pointer, header name) -> the kit statuses answered with a response requiring that header it does not send
        self._unsent: dict[tuple[str, str], list[int]] = {}
        for op in ctx.operations:
            answers = {}
            for status in OPERATION_STATUSES:
                if status == 401 and not op["security"]:
                    continue  # the kit authenticates only where the operation asks for it
                answer = self._answer(op, status)
                if answer is not None:
                    answers[str(status)] = answer
            if answers:
                self.operations[op["id"]] = answers
        for op in ctx.operations:  # in path order, methods in OpenAPI's order within each path
            if op["path"] not in self.paths:
                answer = self._answer(op, NOT_ALLOWED)
                if answer is not None:
                    self.paths[op["path"]] = {str(NOT_ALLOWED): answer}
        self._warn_unsent()

    def document(self) -> dict[str, Any]:
        """The `errors` section of the contract document."""
        return {"operations": self.operations, "paths": self.paths}

    def _raw_response(self, op: dict[str, Any], key: str) -> dict[str, Any]:
        item = self.doc.resolve((self.doc.data.get("paths") or {}).get(op["path"]))
        operation = item.get(op["method"].lower()) if isinstance(item, dict) else None
        responses = (operation or {}).get("responses") or {}
        found = next((v for k, v in responses.items() if str(k).upper() == key.upper()), None)
        resolved = self.doc.resolve(found)
        return resolved if isinstance(resolved, dict) else {}

    def _answer(self, op: dict[str, Any], status: int) -> dict[str, Any] | None:
        documented = {str(r["status"]).upper(): r for r in op["responses"]}
        for key in candidates(status):
            response = documented.get(key.upper())
            if response is None:
                continue
            code = response["code"] if response["code"] is not None else status
            self._unsent_headers(op, key, status)
            media = response["media_type"]
            answer: dict[str, Any] = {"status": code, "mediaType": media}
            if media is None:
                return answer
            if _is_json(media):
                schema = ((self._raw_response(op, key).get("content") or {}).get(media) or {}).get("schema", {})
                answer["body"] = self._shape(op, response, schema, code)["name"]
                return answer
            if media.split(";", 1)[0].strip().lower().startswith("text/"):
                return answer
            warn(
                self.doc.warning(
                    pointer("paths", op["path"], op["method"].lower(), "responses", response["status"]),
                    f"the kit cannot build a {media} body for its {status} answer: it answers problem+json instead",
                )
            )
            return None
        return None

    def _unsent_headers(self, op: dict[str, Any], key: str, status: int) -> None:
        """Warns about each header the chosen response requires that the kit does not send."""
        sent = SENT_HEADERS[0] | SENT_HEADERS.get(status, set())
        for name, header in (self._raw_response(op, key).get("headers") or {}).items():
            header = self.doc.resolve(header)
            if not isinstance(header, dict) or not header.get("required") or str(name).lower() in sent:
                continue
            if str(name).lower() == "content-type":
                continue  # OpenAPI ignores it: the media type says it
            where = pointer("paths", op["path"], op["method"].lower(), "responses", key, "headers", name)
            self._unsent.setdefault((where, str(name)), []).append(status)

    def _warn_unsent(self) -> None:
        for (where, name), statuses in self._unsent.items():
            answers = ", ".join(str(status) for status in sorted(set(statuses)))
            warn(
                self.doc.warning(
                    where,
                    f"the kit answers its {answers} with this response but has no value for its required header "
                    f'{name}: send it yourself (README, "Errors your spec declares"), or the contract run fails '
                    "on response_headers_conformance",
                )
            )

    def _shape(self, op: dict[str, Any], response: dict[str, Any], schema: Any, code: int) -> dict[str, Any]:
        identity = json.dumps(schema, sort_keys=True, ensure_ascii=False)
        shape = self._by_schema.get(identity)
        if shape is None:
            name = response["model"]
            index = response["code"] if response["code"] is not None else json.dumps(response["status"])
            media = json.dumps(response["media_type"])
            shape = {
                "name": name,
                "py_name": unique(snake(name), self._py_taken),
                "ts_name": unique(camel(name), self._ts_taken),
                "ts_type": f'{op["pascal"]}Operation["responses"][{index}]["content"][{media}]',
                "statuses": [],
                "fields": _recipe(self.doc, schema, response["media_type"]),
            }
            shape["helpers"] = helpers(shape["fields"])
            self._by_schema[identity] = shape
            self.shapes.append(shape)
        if code not in shape["statuses"]:
            shape["statuses"].append(code)
            shape["statuses"].sort()
        return shape


def _flat(doc: Any, schema: Any, depth: int = 0) -> dict[str, Any]:
    """An object schema's properties and required names, through `$ref`s and `allOf`s."""
    schema = doc.resolve(schema)
    if not isinstance(schema, dict) or depth > 16:
        return {"properties": {}, "required": [], "closed": False, "open": False}
    properties = dict(schema.get("properties") or {})
    required = list(schema.get("required") or [])
    closed = schema.get("additionalProperties") is False
    # Declared extra members: openapi-typescript types an object without them as having none.
    declared = schema.get("additionalProperties") not in (None, False)
    for part in schema.get("allOf") or []:
        inner = _flat(doc, part, depth + 1)
        properties = {**inner["properties"], **properties}
        required += [r for r in inner["required"] if r not in required]
        closed = closed or inner["closed"]
        declared = declared or inner["open"]
    return {"properties": properties, "required": required, "closed": closed, "open": declared and not closed}


def _kind(doc: Any, schema: Any) -> str | None:
    schema = doc.resolve(schema)
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and (schema.get("properties") or schema.get("allOf")):
        kind = "object"
    return kind if isinstance(kind, str) else None


PROBLEM_FIELDS = {"type": "about", "title": "title", "status": "status", "detail": "detail", "instance": "instance"}
TEXT_FIELDS = {
    "message": "summary",
    "error": "summary",
    "detail": "summary",
    "title": "title",
    "description": "summary",
}
NUMBER_FIELDS = ("status", "code", "statusCode", "status_code")


# Keywords that narrow a string or a number to values the kit's texts and statuses need not be (an `error` that is an
# enum of codes): such a property is the project's to fill.
NARROWING = ("enum", "const", "pattern")


def _field(doc: Any, name: str, schema: Any, problem: bool) -> Any:
    """What fills one property of an error shape: a source name, a nested object of them, or None."""
    kind = _kind(doc, schema)
    resolved = doc.resolve(schema)
    if kind in ("string", "integer") and isinstance(resolved, dict) and any(k in resolved for k in NARROWING):
        return None
    if problem and name in PROBLEM_FIELDS and kind == ("integer" if name == "status" else "string"):
        return PROBLEM_FIELDS[name]
    if name == "errors" and kind == "array":
        items = doc.resolve((doc.resolve(schema) or {}).get("items"))
        if _kind(doc, items) == "string":
            return "messages"
        flat = _flat(doc, items)
        if {"location", "message"} <= set(flat["properties"]) and set(flat["required"]) <= {"location", "message"}:
            return "field_errors"
        return None
    if name == "errors" and kind == "object":
        flat = _flat(doc, schema)
        keys = flat["required"] or (["body"] if "body" in flat["properties"] else [])
        lists = [k for k in keys if _kind(doc, flat["properties"].get(k, {"type": "array"})) == "array"]
        if keys and lists == keys:
            return {key: "messages" for key in keys}
        if not keys and flat["open"]:
            return "by_location"
        return None
    if kind == "string" and name in TEXT_FIELDS:
        return TEXT_FIELDS[name]
    if kind == "integer" and name in NUMBER_FIELDS:
        return "status"
    return None


def _recipe(doc: Any, schema: Any, media: str) -> list[dict[str, Any]] | None:
    """How the scaffold's default hook fills a shape, property by property in the schema's order; None when the kit
    cannot fill a property the shape requires (that hook is the project's to write)."""
    if _kind(doc, schema) != "object":
        return None
    flat = _flat(doc, schema)
    problem = media.split(";", 1)[0].strip().lower().endswith("problem+json") or {"title", "status"} <= set(
        flat["properties"]
    )
    fields = []
    for name, prop in flat["properties"].items():
        source = _field(doc, name, prop, problem)
        if source is None:
            if name in flat["required"]:
                return None
            continue
        optional = name not in flat["required"] and source in ("field_errors", "messages", "by_location")
        fields.append({"name": name, "source": source, "if_any": optional})
    if problem and not flat["closed"] and "errors" not in flat["properties"]:
        # problem+json admits members of its own: the field errors, as the kit's fallback answer carries them.
        fields.append({"name": "errors", "source": "field_errors", "if_any": True})
    return fields if fields else None


HELPERS = frozenset({"summary", "messages", "field_errors", "by_location"})


def helpers(fields: list[dict[str, Any]] | None) -> list[str]:
    """The runtime's helper functions a shape's default hook calls."""
    found: set[str] = set()

    def walk(source: Any) -> None:
        if isinstance(source, dict):
            for inner in source.values():
                walk(inner)
        elif source in HELPERS:
            found.add(source)

    for field in fields or []:
        walk(field["source"])
    return sorted(found)


def table(ctx: Any) -> ErrorTable:
    return ErrorTable(ctx)
