"""readOnly and writeOnly: the request and response shapes the generator derives, and what it plans to remove."""

from __future__ import annotations

import copy
from typing import Any

from conftest import DATA, ROOT

from twinapi_codegen import contract, dialect, loader, visibility

REF = "#/components/schemas/"


def _spec(schemas: dict[str, Any], request: Any, response: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": request}}},
                    "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": response}}}},
                }
            }
        },
        "components": {"schemas": schemas},
    }


def _bodies(data: dict[str, Any]) -> tuple[Any, Any]:
    op = data["paths"]["/things"]["post"]
    return (
        op["requestBody"]["content"]["application/json"]["schema"],
        op["responses"]["201"]["content"]["application/json"]["schema"],
    )


PET = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "password"],
    "properties": {
        "id": {"type": "string", "readOnly": True},
        "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
    },
}


def test_a_spec_that_flags_nothing_a_body_carries_is_served_as_it_was() -> None:
    """The example API: its passwords are writeOnly, but only requests carry them."""
    loaded = loader.load(ROOT / "openapi.yaml")
    document = contract.document(loaded, "test")
    assert document["served"] == dialect.upgrade(loaded.for_generation().data)
    assert "visibility" not in document
    assert visibility.typed(loaded.data) == loaded.data


def test_the_served_request_shape_no_longer_requires_read_only_properties_but_checks_them() -> None:
    data = _spec({"Pet": PET}, {"$ref": REF + "Pet"}, {"$ref": REF + "Pet"})
    served = visibility.served(data)
    request, response = _bodies(served)
    schemas = served["components"]["schemas"]
    assert request == {"$ref": REF + "PetRequest"} and response == {"$ref": REF + "PetResponse"}
    assert schemas["PetRequest"]["required"] == ["name", "password"]
    assert set(schemas["PetRequest"]["properties"]) == {"id", "name", "password"}
    assert schemas["PetResponse"]["required"] == ["id", "name"]
    assert set(schemas["PetResponse"]["properties"]) == {"id", "name"}
    assert schemas["Pet"] == PET, "the original component stays"
    assert data == _spec({"Pet": PET}, {"$ref": REF + "Pet"}, {"$ref": REF + "Pet"}), "the input is not changed"


def test_the_typed_request_shape_has_no_read_only_property() -> None:
    typed = visibility.typed(_spec({"Pet": PET}, {"$ref": REF + "Pet"}, {"$ref": REF + "Pet"}))
    schemas = typed["components"]["schemas"]
    assert set(schemas["PetRequest"]["properties"]) == {"name", "password"}
    assert set(schemas["PetResponse"]["properties"]) == {"id", "name"}


def test_directed_shapes_follow_references_allof_arrays_and_recursion() -> None:
    schemas = {
        "Id": {"type": "string", "readOnly": True},
        "Node": {
            "type": "object",
            "required": ["id", "label"],
            "properties": {
                "id": {"$ref": REF + "Id"},
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": REF + "Node"}},
            },
        },
        "Tree": {"allOf": [{"$ref": REF + "Node"}, {"required": ["id", "root"], "properties": {"root": {}}}]},
        "Plain": {"type": "object", "properties": {"x": {"type": "integer"}}},
    }
    served = visibility.served(_spec(schemas, {"$ref": REF + "Tree"}, {"$ref": REF + "Plain"}))
    made = served["components"]["schemas"]
    assert made["NodeRequest"]["required"] == ["label"]
    assert made["NodeRequest"]["properties"]["children"]["items"] == {"$ref": REF + "NodeRequest"}
    assert made["TreeRequest"]["allOf"][0] == {"$ref": REF + "NodeRequest"}
    # `required` of the allOf member next to the one that declares `id`: the schema around it counts.
    assert made["TreeRequest"]["allOf"][1]["required"] == ["root"]
    assert _bodies(served)[1] == {"$ref": REF + "Plain"}, "a schema that flags nothing keeps its name"
    assert "PlainResponse" not in made and "IdRequest" not in made


def test_a_directed_name_never_takes_one_the_spec_uses() -> None:
    schemas = {"Pet": PET, "PetRequest": {"type": "string"}}
    served = visibility.served(_spec(schemas, {"$ref": REF + "Pet"}, {"type": "string"}))
    assert _bodies(served)[0] == {"$ref": REF + "PetRequest2"}
    assert served["components"]["schemas"]["PetRequest"] == {"type": "string"}


def test_a_discriminator_maps_its_tags_to_the_directed_branches() -> None:
    loaded = loader.load(DATA / "openapi_keywords.yaml")
    schemas = visibility.served(loaded.data)["components"]["schemas"]
    tagging = schemas["PetRequest"]["discriminator"]
    assert tagging["mapping"] == {"cat": REF + "Cat", "dog": REF + "DogRequest", "Dog": REF + "DogRequest"}
    assert schemas["PetRequest"]["oneOf"] == [{"$ref": REF + "Cat"}, {"$ref": REF + "DogRequest"}]
    # The tags read as before: `dog` and `Dog` select the directed Dog, `cat` and `Cat` the Cat.
    validation = dialect.discriminated(visibility.served(loaded.data))
    by_tag = validation["components"]["schemas"]["PetRequest"]["allOf"][0]["anyOf"][1]
    then = {rule["if"]["properties"]["petType"]["const"]: rule["then"]["$ref"] for rule in by_tag["allOf"]}
    assert {tag: then[tag] for tag in ("cat", "Cat", "dog", "Dog")} == {
        "cat": REF + "Cat",
        "Cat": REF + "Cat",
        "dog": REF + "DogRequest",
        "Dog": REF + "DogRequest",
    }


def test_a_reference_into_a_body_schema_reads_the_original() -> None:
    data = _spec({}, copy.deepcopy(PET), {"$ref": "#/paths/~1things/post/requestBody/content/application~1json/schema"})
    served = visibility.served(data)
    request, response = _bodies(served)
    assert request["required"] == ["name", "password"]
    made = served["components"]["schemas"][response["$ref"][len(REF) :]]
    assert made["required"] == ["id", "name"] and "password" not in made["properties"]


def test_plans_name_what_leaves_each_body() -> None:
    loaded = loader.load(DATA / "read_write.yaml")
    planned = visibility.plans(dialect.upgrade(loaded.data))
    assert planned is not None
    plans = planned["plans"]

    def plan(index: int) -> dict[str, Any]:
        found: dict[str, Any] = plans[index]
        return found

    pets = plan(planned["requests"]["/pets"]["post"]["application/json"])
    assert sorted(pets["drop"]) == ["createdAt", "id"]
    assert plan(plan(pets["properties"]["tags"])["items"]) == {"drop": ["id"]}
    assert list(planned["responses"]) == ["/accounts"], "no response of a Pet carries a writeOnly property"
    account = plan(planned["responses"]["/accounts"]["post"]["201"]["application/json"])
    assert sorted(account["drop"]) == ["password", "pin"]
    category = plan(planned["requests"]["/categories"]["post"]["application/json"])
    assert category["drop"] == ["serial"]
    inner = plan(category["properties"]["category"])
    assert inner["drop"] == ["id"]
    assert plan(inner["properties"]["children"])["items"] == category["properties"]["category"], "recursion"
