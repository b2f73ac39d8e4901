"""Pydantic v2 models through datamodel-code-generator, fed a document whose schemas carry the names we chose."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from twinapi_codegen.errors import ToolError

# Wire formats stay strings in the models: the runtime checks them with the shared format definitions, and
# handlers write timestamps in the contract's exact form instead of pydantic's. Formats the kit does not define
# are annotations to both runtimes, so no model may refuse a value for them either: pydantic's AnyUrl, IPv4Address,
# time, timedelta, Base64Str (which also decodes), versioned UUIDs and the like stay strings, and numbers with a
# date or time format stay numbers. `uuid` (defined by the kit) and `binary` take every string; `password` would
# take every string too, but a SecretStr in a response is sent as `**********`.
TYPE_MAPPINGS = [
    "string+email=string",
    "date=string",
    "date-time=string",
    *(
        f"string+{name}=string"
        for name in (
            "byte",
            "password",
            "date-time-local",
            "timestamp with time zone",
            "duration",
            "time",
            "time-local",
            "idn-email",
            "uuid1",
            "uuid2",
            "uuid3",
            "uuid4",
            "uuid5",
            "ulid",
            "uri",
            "hostname",
            "ipv4",
            "ipv4-network",
            "ipv6",
            "ipv6-network",
            "decimal",
            "integer",
            "unixtime",
            "path",
        )
    ),
    *(f"number+{name}=number" for name in ("date-time", "time", "time-delta", "unixtime")),
    "integer+date-time=integer",
]

EMPTY = '''"""No schemas: the contract defines no models."""
'''


def _without_null_defaults(node: Any) -> Any:
    """`default: null` on a schema whose type admits no null describes no value; pydantic would be handed `str =
    None`. Such a field is simply optional (and stays required when the schema says so)."""
    if isinstance(node, dict):
        out = {k: _without_null_defaults(v) for k, v in node.items()}
        if out.get("nullable") is False:  # the default; spelled out, it makes the generator emit `int = None`
            del out["nullable"]
        kind = out.get("type")
        if "default" in out and out["default"] is None and isinstance(kind, str) and kind != "null":
            if out.get("nullable") is not True:
                del out["default"]
        return out
    if isinstance(node, list):
        return [_without_null_defaults(v) for v in node]
    return node


def _overrides_note(source: str) -> str:
    """A model that redeclares, narrower, a field of the model it extends (allOf) is sound for pydantic, which
    validates every instance, but an incompatible override for mypy; only then does the module tell mypy so."""
    fields: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=class )", source):
        head = re.match(r"class (\w+)(?:\(([^)]*)\))?:", block)
        if head:
            fields[head[1]] = set(re.findall(r"^    (\w+): ", block, flags=re.MULTILINE))
            bases[head[1]] = [name.strip() for name in (head[2] or "").split(",")]
    if not any(fields[cls] & fields.get(base, set()) for cls in bases for base in bases[cls]):
        return source
    first, _, rest = source.partition("\n")
    return f'{first}\n# mypy: disable-error-code="assignment"\n{rest}'


def _without_runtime_checks(node: Any, names: bool = False) -> Any:
    """Keywords the runtime's validator settles, which would make the models stricter than the schema.

    Patterns are ECMA-262; pydantic would compile them as Rust or Python regexes, refusing valid ones (named groups,
    identity escapes) when the models are imported. A discriminator would become a tagged union whose tags are the
    mapping's only, refusing the implicit tags (schema names) and a schema mapped under two tags; a plain union
    accepts what the validator accepted. `patternProperties` would become a dict whose keys must match a pattern,
    or extra keys forbidden beside `additionalProperties: false`, refusing keys the schema lets through; such an
    object's model takes any further key instead. An object that says nothing of further keys allows them, and its
    model keeps them (pydantic's default would drop them unseen). `names`: the node maps names to schemas.
    """
    if isinstance(node, list):
        return [_without_runtime_checks(v) for v in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: _without_runtime_checks(v) for k, v in node.items()}
    out = {
        k: _without_runtime_checks(v, k in ("properties", "$defs", "dependentSchemas"))
        for k, v in node.items()
        if not (k == "pattern" and isinstance(v, str))
        and not (k == "discriminator" and isinstance(v, dict))
        and not (k == "format" and v == "hostname")  # the generator gives it a pattern of its own
    }
    if "properties" in out and "additionalProperties" not in out and "unevaluatedProperties" not in out:
        out["additionalProperties"] = True
    if isinstance(out.get("patternProperties"), dict):
        del out["patternProperties"]
        if "additionalProperties" in out:
            out["additionalProperties"] = True
    if out.get("format") in _CLASS_FORMATS and "default" in out:
        # The generator writes the default as the JSON value (`id: UUID = "123e..."`), which mypy refuses and
        # pydantic hands over unconverted; the field stays the plain type the validator checks.
        del out["format"]
    return out


# Formats the models read as a class of their own rather than the JSON type.
_CLASS_FORMATS = frozenset({"uuid", "binary", "decimal"})


# Keywords from which datamodel-code-generator infers a type the schema does not state: a schema with `properties`
# but no `type` becomes a model class, one with `items` a list, though JSON Schema lets any other value through.
_OBJECT_WORDS = frozenset({"properties", "patternProperties", "propertyNames"})
_ARRAY_WORDS = frozenset({"items", "prefixItems"})
_PINNED = frozenset({"type", "enum", "const", "anyOf", "oneOf", "not"})
_OTHER_VALUES = {
    "object": {"type": ["string", "integer", "number", "boolean", "array", "null"]},
    "array": {"type": ["string", "integer", "number", "boolean", "object", "null"]},
}
_COMPONENT = "#/components/schemas/"


def _open_kind(schema: Any, models: dict[str, Any], seen: frozenset[str] = frozenset()) -> str | None:
    """`object` or `array` when the schema reads as one to the generator without requiring it; `pinned` when it
    (or an allOf member) states its type; None when it infers nothing."""
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref[len(_COMPONENT) :] if ref.startswith(_COMPONENT) else None
        if name is None or name not in models or name in seen:
            return "pinned"
        return _open_kind(models[name], models, seen | {name})
    if _PINNED & schema.keys():
        return "pinned"
    kinds = {"object"} if _OBJECT_WORDS & schema.keys() else set()
    kinds |= {"array"} if _ARRAY_WORDS & schema.keys() else set()
    for member in schema.get("allOf") or []:
        kind = _open_kind(member, models, seen)
        if kind is not None:
            kinds.add(kind)
    return kinds.pop() if len(kinds) == 1 and "pinned" not in kinds else ("pinned" if kinds else None)


def _open_values(models: dict[str, Any]) -> dict[str, Any]:
    """Models that take every value their schemas take, where a schema describes an object or an array without
    saying it must be one (`properties` without `type: object` lets a string through).

    Such a schema becomes a union of its object (or array) reading and every other JSON type; a component keeps
    its name for the union and gets `<Name>Object` for the object reading, which `allOf` extends as before.
    """
    # A bare `$ref` is the union of the component it names already.
    kinds = {
        name: None if isinstance(schema, dict) and "$ref" in schema else _open_kind(schema, models, frozenset({name}))
        for name, schema in models.items()
    }
    readings: dict[str, str] = {}
    for name, kind in kinds.items():
        if kind == "object":
            reading, n = f"{name}Object", 1
            while reading in models or reading in readings.values():
                n += 1
                reading = f"{name}Object{n}"
            readings[name] = reading

    def walk(node: Any, wrap: bool) -> Any:
        if isinstance(node, list):
            return [walk(item, True) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "allOf" and isinstance(value, list):
                out[key] = [_object_reading(walk(member, False), readings) for member in value]
            elif key in ("properties", "patternProperties", "$defs", "dependentSchemas") and isinstance(value, dict):
                out[key] = {k: walk(v, True) for k, v in value.items()}
            elif key in ("example", "examples", "default", "enum", "const") or key.startswith("x-"):
                out[key] = value
            else:
                out[key] = walk(value, True)
        kind = _open_kind(node, models) if wrap and "$ref" not in node else None
        if kind in _OTHER_VALUES:
            return {"anyOf": [{**out, "type": kind}, _OTHER_VALUES[kind]]}
        return out

    out: dict[str, Any] = {}
    for name, schema in models.items():
        walked = walk(schema, False)
        kind = kinds[name]
        if name in readings:
            out[readings[name]] = {**walked, "type": "object"}
            out[name] = {"anyOf": [{"$ref": _COMPONENT + readings[name]}, _OTHER_VALUES["object"]]}
        elif kind == "array":
            out[name] = {"anyOf": [{**walked, "type": "array"}, _OTHER_VALUES["array"]]}
        else:
            out[name] = walked
    return out


def _object_reading(member: Any, readings: dict[str, str]) -> Any:
    """An allOf member that refers to a component read as an object refers to that reading (its class)."""
    if isinstance(member, dict) and isinstance(member.get("$ref"), str) and member["$ref"].startswith(_COMPONENT):
        name = member["$ref"][len(_COMPONENT) :]
        if name in readings:
            return {**member, "$ref": _COMPONENT + readings[name]}
    return member


def generate(models: dict[str, Any], openapi_version: str, header: str, named: Iterable[str] = ()) -> str:
    """The models module; `named` are the classes the operations layer refers to, which it must define."""
    if not models:
        return f"# {header}\n{EMPTY}"
    document = {
        "openapi": openapi_version,
        "info": {"title": "models", "version": "0"},
        "paths": {},
        "components": {"schemas": _open_values(_without_null_defaults(_without_runtime_checks(models)))},
    }
    source = _run(document, header, [])
    if _missing(source, named):
        # datamodel-code-generator merges an array or scalar component into the models that use it and drops its
        # class; the operations (which it does not see) may still name it. Then every component keeps its class.
        source = _run(document, header, ["--no-collapse-root-models"])
    return _overrides_note(source)


def _missing(source: str, named: Iterable[str]) -> list[str]:
    defined = set(re.findall(r"^(?:class\s+)?([A-Za-z_][A-Za-z0-9_]*)\b", source, flags=re.MULTILINE))
    return [name for name in named if name not in defined]


def _run(document: dict[str, Any], header: str, extra: list[str]) -> str:
    with tempfile.TemporaryDirectory(prefix="twinapi-models-") as tmp:
        source = Path(tmp) / "models.json"
        target = Path(tmp) / "models.py"
        source.write_text(json.dumps(document, sort_keys=False), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(source),
            "--input-file-type",
            "openapi",
            "--output",
            str(target),
            "--preset",
            "standard-py311-20261027",
            "--target-pydantic-version",
            "2.11",
            "--openapi-scopes",
            "schemas",
            "--no-treat-dot-as-module",
            "--use-double-quotes",
            "--type-mappings",
            *TYPE_MAPPINGS,
            "--custom-file-header",
            f"# {header}",
            *extra,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not target.exists():
            raise ToolError(f"datamodel-code-generator failed:\n{done.stderr.strip()}")
        return target.read_text(encoding="utf-8")
