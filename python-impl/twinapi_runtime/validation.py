"""Request validation exactly as the contract states it: JSON Schema with the shared formats, no coercion of bodies.

Parameters arrive as strings; they are converted by the same small rule set the Node runtime uses before the
schema sees them, so `limit=5` is an integer in both implementations and `limit=5.0` is an error in both.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jsonschema_rs

INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
SPEC_URI = "urn:twinapi:spec"
POINTER_SAFE = "/~-._!$&'()*+,;=:@"  # what a URI fragment may hold as is; the rest is percent-encoded


def _calendar_check(pattern: re.Pattern[str], kind: str | None) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        match = pattern.fullmatch(value)
        if match is None:
            return False
        if kind is None:
            return True
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
            return False
        if kind == "date-time":
            hour, minute, second = int(match[4]), int(match[5]), int(match[6])
            if hour > 23 or minute > 59 or second > 60:
                return False
            if match[7] is not None and (int(match[7]) > 23 or int(match[8]) > 59):
                return False
        return True

    return check


def format_checkers(formats: Mapping[str, tuple[str, str | None]]) -> dict[str, Callable[[str], bool]]:
    return {name: _calendar_check(re.compile(pattern), kind) for name, (pattern, kind) in formats.items()}


class Validators:
    """Compiles validators for pointers into one spec; `$ref`s resolve against the whole document."""

    def __init__(self, spec: dict[str, Any], formats: Mapping[str, tuple[str, str | None]]) -> None:
        self._registry = jsonschema_rs.Registry([(SPEC_URI, spec)])
        self._formats = format_checkers(formats)

    def compile(self, pointer: str) -> jsonschema_rs.Draft202012Validator:
        return jsonschema_rs.Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{quote(pointer, safe=POINTER_SAFE)}"},
            registry=self._registry,
            formats=self._formats,
            validate_formats=True,
        )


def errors_of(validator: jsonschema_rs.Draft202012Validator, value: Any, location: str) -> list[dict[str, str]]:
    if validator.is_valid(value):
        return []
    return [
        {"location": location + "".join("/" + _escape(str(p)) for p in err.instance_path), "message": err.message}
        for err in validator.iter_errors(value)
    ]


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def scalar_kind(schema: Any, resolve: Callable[[Any], Any]) -> str | None:
    """`integer`, `number` or `boolean` when a parameter's schema asks for exactly that scalar type."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return None
    types = schema.get("type")
    if isinstance(types, list):
        types = [t for t in types if t != "null"]
        types = types[0] if len(types) == 1 else None
    return types if types in ("integer", "number", "boolean") else None


def coerce(value: str, kind: str | None) -> Any:
    """A parameter string as the type its schema wants, when it is exactly that type's spelling."""
    if kind == "integer" and INTEGER.match(value):
        return int(value)
    if kind == "number" and NUMBER.match(value):
        number = float(value)
        return int(number) if INTEGER.match(value) else number
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str  # path, query, header or cookie
    required: bool
    array: bool
    explode: bool
    kind: str | None  # the scalar kind of the value, or of each item of an array
    default: Any
    has_default: bool
    validator: jsonschema_rs.Draft202012Validator
    style: str
    fields: dict[str, str | None] | None  # an object parameter's properties and their scalar kinds

    @property
    def where(self) -> str:
        return f"{self.location}/{self.name}"
