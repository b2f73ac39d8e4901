"""A parameter described by `content` instead of `schema` is taken as it is, as the Node runtime takes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import contract_app
from starlette.responses import Response
from starlette.testclient import TestClient
from twinapi_runtime import Binding, Call, Context, OperationRoute

SPEC = """
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    get:
      operationId: getX
      parameters:
        - name: filter
          in: header
          content:
            application/json:
              schema: {type: object, properties: {a: {type: integer}}}
        - name: q
          in: query
          content:
            application/json:
              schema: {type: object}
        - name: limit
          in: query
          schema: {type: integer}
      responses:
        "204": {description: ok}
"""


def test_a_content_parameter_reaches_the_handler_as_sent(contract_of: Callable[[str], Path]) -> None:
    seen: list[dict[str, Any]] = []

    async def endpoint(ctx: Context, call: Call) -> Response:
        seen.append(call.params)
        return Response(status_code=204)

    app = contract_app(contract_of(SPEC), Binding([OperationRoute("getX", "GET", "/x", endpoint)], {}, {}))
    with TestClient(app) as client:
        sent = client.get("/x", headers={"filter": '{"a": 1}'}, params={"q": "not json", "limit": "2"})
        assert sent.status_code == 204
        assert seen == [{"filter": '{"a": 1}', "q": "not json", "limit": 2}]
        assert client.get("/x", params={"limit": "x"}).status_code == 400  # schema parameters are still checked
