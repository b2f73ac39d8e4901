"""Schemes whose credentials the kit cannot read (mutualTLS, a name no securitySchemes entry declares) are served,
not refused: each gets a security handler, which the runtimes call with empty credentials; an undeclared name is
also a located warning."""

from __future__ import annotations

from pathlib import Path

from twinapi_codegen import errors, loader, parser

SPEC = """openapi: 3.1.0
info: {title: t, version: "1"}
security: [{global_key: []}]
paths:
  /things:
    get:
      operationId: listThings
      security: [{certificate: []}, {api_key: []}]
      responses:
        "200": {description: ok}
    post:
      operationId: addThing
      security: [{api_key: []}]
      responses:
        "200": {description: ok}
  /other:
    get:
      operationId: other
      responses:
        "200": {description: ok}
components:
  securitySchemes:
    certificate:
      type: mutualTLS
    apiKey:
      type: apiKey
      in: header
      name: X-Key
"""


def _build(tmp_path: Path) -> tuple[parser.Context, list[errors.Problem]]:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    with errors.collecting() as warnings:
        ctx = parser.build(loader.load(spec))
    return ctx, warnings


def test_mutual_tls_and_undeclared_names_get_handlers(tmp_path: Path) -> None:
    ctx, _ = _build(tmp_path)
    schemes = {s["name"]: s for s in ctx.security_schemes}
    assert list(schemes) == ["certificate", "apiKey", "api_key", "global_key"]
    assert [s["name"] for s in ctx.security_schemes if s["opaque"]] == ["certificate", "api_key", "global_key"]
    assert schemes["certificate"]["type"] == "mutualTLS"
    assert schemes["api_key"]["type"] is None
    # `apiKey` and `api_key` are both api_key in Python: the undeclared one gets the next free name.
    assert (schemes["apiKey"]["py_name"], schemes["api_key"]["py_name"]) == ("api_key", "api_key2")
    assert (schemes["apiKey"]["ts_name"], schemes["api_key"]["ts_name"]) == ("apiKey", "apiKey2")
    security = {op["id"]: op["security"] for op in ctx.operations}
    assert security == {
        "listThings": [["certificate"], ["api_key"]],
        "addThing": [["api_key"]],
        "other": [["global_key"]],
    }


def test_an_undeclared_name_is_a_located_warning_once(tmp_path: Path) -> None:
    _, warnings = _build(tmp_path)
    assert [(w.pointer, w.line, w.warning) for w in warnings] == [
        ("/paths/~1things/get/security", 8, True),
        ("/security", 3, True),
    ]
    assert "security scheme 'api_key' is not declared" in warnings[0].message
    assert 'empty credentials ("")' in warnings[0].message
