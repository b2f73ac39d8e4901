"""readOnly and writeOnly: a readOnly property a client sends is validated, then removed before the handler sees it;
a writeOnly property is removed from every response the schema documents, whatever the handler returned.
The same cases as node-impl/test/kit/visibility.test.ts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import contract_app
from starlette.responses import Response
from starlette.testclient import TestClient
from twinapi_runtime import Binding, Call, Context, ContractError, OperationRoute, Refusal, respond

SPEC = """
openapi: 3.1.0
info: {title: visibility, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
      responses:
        "201": {description: Created., content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}}
  /accounts:
    get:
      responses:
        "200":
          description: Every account.
          content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Account"}}}}
    post:
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Account"}}}
      responses:
        "201": {description: Created., content: {application/json: {schema: {$ref: "#/components/schemas/Account"}}}}
        "4XX": {description: Refused., content: {application/json: {schema: {$ref: "#/components/schemas/Account"}}}}
        "204": {description: Nothing.}
components:
  schemas:
    Pet:
      type: object
      additionalProperties: false
      required: [id, name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        tags:
          type: array
          items:
            type: object
            properties: {id: {type: integer, readOnly: true}, label: {type: string}}
    Account:
      type: object
      additionalProperties: true
      required: [id, email, password]
      properties:
        id: {type: string, readOnly: true}
        email: {type: string}
        password: {type: string, writeOnly: true}
        keys:
          type: array
          prefixItems: [{type: object, properties: {secret: {type: string, writeOnly: true}}}]
"""

SECRET_ACCOUNT = {
    "id": "a1",
    "email": "a@example.com",
    "password": "hunter22",
    "extra": {"password": "not the schema's"},
    "keys": [{"secret": "s", "name": "first"}, {"secret": "kept: past the prefix"}],
}
SHOWN_ACCOUNT = {
    "id": "a1",
    "email": "a@example.com",
    "extra": {"password": "not the schema's"},
    "keys": [{"name": "first"}, {"secret": "kept: past the prefix"}],
}


class Handlers:
    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.status = 201

    async def create_pet(self, ctx: Context, call: Call) -> Response:
        self.bodies.append(call.body)
        return respond(201, orjson.dumps({"id": "p1", **call.body}), "application/json", None)

    async def create_account(self, ctx: Context, call: Call) -> Response:
        self.bodies.append(call.body)
        if self.status == 204:
            return respond(204, None, None, None)
        return respond(self.status, orjson.dumps(SECRET_ACCOUNT), "application/json", None)

    async def list_accounts(self, ctx: Context, call: Call) -> Response:
        return respond(200, orjson.dumps([SECRET_ACCOUNT, SECRET_ACCOUNT]), "application/json", None)


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


def refused_account(refusal: Refusal) -> dict[str, str]:
    return {"email": "refused@example.com"}


# The spec's 4XX is an Account: the kit's own refusals answer in that shape.
ERROR_BODIES = {"Account": refused_account}


@pytest.fixture
def client(contract_of: Callable[[str], Path], handlers: Handlers) -> TestClient:
    routes = [
        OperationRoute("createPet", "POST", "/pets", handlers.create_pet),
        OperationRoute("createAccount", "POST", "/accounts", handlers.create_account),
        OperationRoute("listAccounts", "GET", "/accounts", handlers.list_accounts),
    ]
    binding = Binding(routes=routes, authenticators={}, formats={}, error_bodies=ERROR_BODIES)
    return TestClient(contract_app(contract_of(SPEC), binding))


def test_a_read_only_property_is_not_required_in_a_request(client: TestClient, handlers: Handlers) -> None:
    answer = client.post("/pets", json={"name": "Rex"})
    assert answer.status_code == 201, answer.text
    assert handlers.bodies == [{"name": "Rex"}]


def test_one_sent_anyway_is_removed_before_the_handler_at_every_depth(client: TestClient, handlers: Handlers) -> None:
    echoed = {"id": "p1", "name": "Rex", "tags": [{"id": 1, "label": "good"}, {"label": "calm", "id": 2}]}
    answer = client.post("/pets", json=echoed)
    assert answer.status_code == 201, answer.text
    assert handlers.bodies == [{"name": "Rex", "tags": [{"label": "good"}, {"label": "calm"}]}]


def test_one_sent_anyway_is_still_checked(client: TestClient, handlers: Handlers) -> None:
    answer = client.post("/pets", json={"id": 7, "name": "Rex"})
    assert answer.status_code == 400
    assert [e["location"] for e in answer.json()["errors"]] == ["body/id"]
    assert handlers.bodies == []


def test_a_write_only_property_is_required_in_a_request(client: TestClient, handlers: Handlers) -> None:
    answer = client.post("/accounts", json={"email": "a@example.com"})
    assert answer.status_code == 400
    assert "password" in answer.json()["errors"][0]["message"]
    accepted = client.post("/accounts", json={"email": "a@example.com", "password": "hunter22"})
    assert accepted.status_code == 201, accepted.text
    assert handlers.bodies == [{"email": "a@example.com", "password": "hunter22"}]


@pytest.mark.parametrize("status", [201, 409])
def test_a_write_only_property_never_leaves_in_a_response(client: TestClient, handlers: Handlers, status: int) -> None:
    """The documented status and its class (4XX) alike; a property of another schema with the same name stays."""
    handlers.status = status
    answer = client.post("/accounts", json={"email": "a@example.com", "password": "hunter22"})
    assert answer.status_code == status
    assert answer.json() == SHOWN_ACCOUNT
    assert answer.headers["content-length"] == str(len(answer.content))
    assert answer.headers["content-type"] == "application/json; charset=utf-8"


def test_nor_in_the_items_of_an_array(client: TestClient) -> None:
    answer = client.get("/accounts")
    assert answer.status_code == 200
    assert answer.json() == [SHOWN_ACCOUNT, SHOWN_ACCOUNT]


def test_a_bodiless_answer_stays_so(client: TestClient, handlers: Handlers) -> None:
    handlers.status = 204
    answer = client.post("/accounts", json={"email": "a@example.com", "password": "hunter22"})
    assert answer.status_code == 204 and answer.content == b""


def test_a_malformed_visibility_section_stops_the_start(contract_of: Callable[[str], Path], handlers: Handlers) -> None:
    path = contract_of(SPEC)
    document = orjson.loads(path.read_bytes())
    document["visibility"]["requests"]["/pets"]["post"]["application/json"] = 99
    path.write_bytes(orjson.dumps(document))
    binding = Binding(
        routes=[OperationRoute("createPet", "POST", "/pets", handlers.create_pet)],
        authenticators={},
        formats={},
        error_bodies=ERROR_BODIES,
    )
    with pytest.raises(ContractError, match="names no plan"):
        contract_app(path, binding)
