"""The runtime's refusals in the shapes the contract documents, as contract.json's `errors` says (see refusals)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import contract_app
from pydantic import BaseModel
from starlette.responses import Response
from starlette.testclient import TestClient
from twinapi_runtime import (
    Binding,
    Call,
    Context,
    ContractError,
    NotImplementedOperation,
    OperationRoute,
    Refusal,
    refusals,
)

SPEC = """
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      parameters: [{name: limit, in: query, schema: {type: integer, maximum: 10}}]
      responses:
        "200": {description: ok}
    post:
      operationId: addItem
      security: [{key: []}]
      requestBody:
        required: true
        content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}}}}}
      responses:
        "204": {description: ok}
        "401": {description: No key., content: {}}
        "422":
          description: Invalid.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Errors"}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
  schemas:
    Errors:
      type: object
      required: [errors]
      properties: {errors: {type: object, required: [body], properties: {body: {type: array, items: {type: string}}}}}
"""


class ErrorsModel(BaseModel):
    errors: dict[str, list[str]]


async def added(ctx: Context, call: Call) -> Response:
    return Response(status_code=204)


async def listed(ctx: Context, call: Call) -> Response:
    return Response(status_code=200)


async def key(ctx: Context, credentials: str) -> str:
    return credentials


def _client(contract_of: Callable[[str], Path], hook: Callable[[Refusal], Any]) -> TestClient:
    routes = [OperationRoute("listItems", "GET", "/items", listed), OperationRoute("addItem", "POST", "/items", added)]
    binding = Binding(routes, {"key": key}, {}, error_bodies={"Errors": hook})
    return TestClient(contract_app(contract_of(SPEC), binding), raise_server_exceptions=False)


def _errors(refusal: Refusal) -> ErrorsModel:
    return ErrorsModel(errors={"body": refusals.messages(refusal)})


def test_a_validation_failure_is_the_documented_422_built_by_its_hook(contract_of: Callable[[str], Path]) -> None:
    with _client(contract_of, _errors) as client:
        answer = client.post("/items", json={}, headers={"x-key": "k"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert list(answer.json()) == ["errors"]
    assert [m.split(":", 1)[0] for m in answer.json()["errors"]["body"]] == ["body"]


def test_malformed_json_is_a_validation_failure_too(contract_of: Callable[[str], Path]) -> None:
    with _client(contract_of, _errors) as client:
        answer = client.post("/items", content=b"{", headers={"x-key": "k", "content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["errors"]["body"][0].startswith("body: ")


def test_a_documented_response_without_content_is_answered_without_a_body(contract_of: Callable[[str], Path]) -> None:
    with _client(contract_of, _errors) as client:
        answer = client.post("/items", json={})
    assert (answer.status_code, answer.content) == (401, b"")
    assert "content-type" not in answer.headers
    assert answer.headers["www-authenticate"] == "Bearer"  # the challenge stays


def test_what_the_operation_does_not_document_stays_problem_json(contract_of: Callable[[str], Path]) -> None:
    with _client(contract_of, _errors) as client:
        wrong_type = client.post("/items", content=b"x", headers={"x-key": "k", "content-type": "text/plain"})
        bad_query = client.get("/items", params={"limit": "11"})
        wrong_method = client.delete("/items")
    assert (wrong_type.status_code, wrong_type.headers["content-type"]) == (
        415,
        "application/problem+json; charset=utf-8",
    )
    assert bad_query.status_code == 400
    assert bad_query.json()["errors"][0]["location"] == "query/limit"
    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "GET, POST")
    assert wrong_method.headers["content-type"] == "application/problem+json; charset=utf-8"


def test_a_hook_that_refuses_answers_its_own_problem(contract_of: Callable[[str], Path]) -> None:
    def unwritten(refusal: Refusal) -> ErrorsModel:
        raise NotImplementedOperation()

    with _client(contract_of, unwritten) as client:
        answer = client.post("/items", json={}, headers={"x-key": "k"})
    assert (answer.status_code, answer.headers["content-type"]) == (501, "application/problem+json; charset=utf-8")


def test_a_hook_that_returns_no_model_is_a_server_error_that_leaks_nothing(contract_of: Callable[[str], Path]) -> None:
    with _client(contract_of, lambda refusal: {"errors": {}}) as client:
        answer = client.post("/items", json={}, headers={"x-key": "k"})
    assert answer.status_code == 500
    assert answer.json()["detail"] == "An unexpected error occurred."


def test_a_shape_without_a_hook_stops_the_start(contract_of: Callable[[str], Path]) -> None:
    binding = Binding([OperationRoute("addItem", "POST", "/items", added)], {"key": key}, {})
    with pytest.raises(ContractError, match="addItem: no ErrorBodies hook for the error shape Errors"):
        contract_app(contract_of(SPEC), binding)


def test_the_helpers_say_the_same_as_the_node_kits() -> None:
    refusal = Refusal(422, "Unprocessable Content", "Bad.", "/x", (refusals.FieldError("body/a", "is wrong"),))
    assert refusals.messages(refusal) == ["body/a: is wrong"]
    assert refusals.summary(refusal) == "Bad. body/a: is wrong"
    assert refusals.by_location(refusal) == {"body/a": ["is wrong"]}
    assert refusals.problem_json(refusal) == {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "Bad.",
        "instance": "/x",
        "errors": [{"location": "body/a", "message": "is wrong"}],
    }
    bare = Refusal(401, "Unauthorized", "No key.", "/x", ())
    assert (refusals.messages(bare), refusals.summary(bare), refusals.by_location(bare)) == (
        ["No key."],
        "No key.",
        {"body": ["No key."]},
    )
