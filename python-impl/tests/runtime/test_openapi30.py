"""OpenAPI 3.0 schemas in 2020-12 terms."""

from __future__ import annotations

from twinapi_runtime.openapi30 import upgrade


def test_nullable_becomes_a_null_type_and_enum_member() -> None:
    schema = {"type": "string", "enum": ["a"], "nullable": True}
    assert upgrade(schema) == {"type": ["string", "null"], "enum": ["a", None]}


def test_boolean_bounds_become_numeric() -> None:
    assert upgrade({"maximum": 5, "exclusiveMaximum": True, "minimum": 1, "exclusiveMinimum": False}) == {
        "exclusiveMaximum": 5,
        "minimum": 1,
    }


def test_a_property_named_nullable_is_kept() -> None:
    schema = {"type": "object", "properties": {"nullable": {"type": "string", "nullable": False}}}
    assert upgrade(schema) == {"type": "object", "properties": {"nullable": {"type": "string"}}}


def test_nullable_beside_a_reference_adds_a_null_branch() -> None:
    schema = {"$ref": "#/components/schemas/Task", "nullable": True}
    assert upgrade(schema) == {"anyOf": [{"$ref": "#/components/schemas/Task"}, {"type": "null"}]}


def test_nullable_widens_a_list_of_types_once() -> None:
    assert upgrade({"type": ["string", "integer"], "nullable": True}) == {"type": ["string", "integer", "null"]}
    assert upgrade({"type": ["string", "null"], "nullable": True}) == {"type": ["string", "null"]}
