"""OpenAPI 3.0 schemas in 2020-12 terms, and tagged `oneOf`s: the one dialect module, which both runtimes read the
results of (the contract document's `served` form)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from twinapi_codegen.dialect import discriminated, upgrade


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


SPEC = {
    "components": {
        "schemas": {
            "One": {"type": "object", "properties": {"kind": {"type": "string"}, "a": {"type": "number"}}},
            "Two": {"type": "object", "properties": {"kind": {"type": "string"}, "b": {"type": "string"}}},
            "Body": {
                "oneOf": [{"$ref": "#/components/schemas/One"}, {"$ref": "#/components/schemas/Two"}],
                "discriminator": {"propertyName": "kind", "mapping": {"one": "One", "gone": "#/components/schemas/X"}},
            },
        }
    }
}


def _validator(spec: dict[str, Any]) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource("urn:spec", Resource.opaque(spec))
    return Draft202012Validator({"$ref": "urn:spec#/components/schemas/Body"}, registry=registry)


def _valid(value: object) -> bool:
    return _validator(discriminated(SPEC)).is_valid(value)


def test_a_known_tag_selects_its_branch_even_when_both_branches_accept() -> None:
    assert not _validator(SPEC).is_valid({"kind": "one"})
    assert _valid({"kind": "one"})
    assert _valid({"kind": "Two", "b": "x"})


def test_a_known_tag_holds_the_value_to_its_branch() -> None:
    assert not _valid({"kind": "one", "a": "not a number", "b": 1})


def test_without_a_known_tag_exactly_one_branch_must_accept() -> None:
    assert _valid({"kind": "other", "a": "x"})  # only Two accepts it
    assert not _valid({"kind": "other"})  # both accept it
    assert not _valid({"kind": "gone"})  # a mapping to a missing schema is no tag


def test_the_document_it_is_given_is_left_alone() -> None:
    before = repr(SPEC)
    discriminated(SPEC)
    upgrade(SPEC)
    assert repr(SPEC) == before
