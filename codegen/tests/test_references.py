"""References and parameter identity as the generated TypeScript sees them.

openapi-typescript turns a `$ref` into an indexed access type along its pointer, which is only valid for
`#/components/<kind>/<name>`; the document it reads has every other local reference made into one of those. And one
HTTP header is one member, whatever the case its name is written in (circular_paths and header_case in data/ are the
end-to-end cases: golden output, strict tsc, both servers).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import OPENAPI_TYPESCRIPT, ROOT

from twinapi_codegen import parser, typescript
from twinapi_codegen.loader import load

TSC = ROOT / "node-impl" / "node_modules" / ".bin" / "tsc"


def _prepared(document: dict[str, Any]) -> dict[str, Any]:
    return typescript._prepared(json.loads(json.dumps(document)))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


TREE = {
    "type": "object",
    "properties": {
        "children": {
            "type": "array",
            "items": {"$ref": "#/paths/~1trees/post/requestBody/content/application~1json/schema"},
        }
    },
}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/trees": {
            "post": {
                "parameters": [{"name": "depth", "in": "query", "schema": {"type": "integer"}}],
                "requestBody": {"content": {"application/json": {"schema": TREE}}},
                "responses": {"201": {"description": "Made."}},
            },
        },
        "/trees/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"$ref": "#/paths/~1trees/post/parameters/0"},
                ],
                "responses": {
                    "200": {
                        "description": "A tree.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/paths/~1trees/post/requestBody/content/application~1json/schema"}
                            }
                        },
                    },
                    "404": {"$ref": "#/components/responses/Missing"},
                },
            },
        },
        "/leaves/{id}": {"$ref": "#/paths/~1trees~1%7Bid%7D"},
    },
    "components": {
        "schemas": {"Leaf": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "responses": {
            "Missing": {
                "description": "No such thing.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Leaf/properties/name"}}},
            }
        },
    },
}


def test_every_reference_the_types_read_names_a_component() -> None:
    prepared = _prepared(DOCUMENT)
    refs = set(_refs(prepared))
    assert all(ref.startswith("#/components/") and ref.count("/") == 3 for ref in refs), refs
    schemas = prepared["components"]["schemas"]
    tree = "paths_trees_post_requestBody_content_application_json_schema"
    # A recursive inline schema becomes a recursive component; what pointed into it points to that component.
    assert schemas[tree]["properties"]["children"]["items"] == {"$ref": f"#/components/schemas/{tree}"}
    operation = prepared["paths"]["/trees/{id}"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{tree}"
    }
    # Other objects are copied in: a parameter from another operation's list, a path item (percent-encoded pointer).
    assert operation["parameters"][1] == {"name": "depth", "in": "query", "schema": {"type": "integer"}}
    assert prepared["paths"]["/leaves/{id}"] == prepared["paths"]["/trees/{id}"]
    # Part of a component schema is a component of its own; component references stay as they are.
    assert schemas["components_schemas_Leaf_properties_name"] == {"type": "string"}
    assert operation["responses"]["404"] == {"$ref": "#/components/responses/Missing"}
    # The document itself is read unchanged by everything else.
    assert "paths_trees_post_requestBody_content_application_json_schema" not in DOCUMENT["components"]["schemas"]


def test_types_of_references_into_paths_pass_strict_tsc(tmp_path: Path) -> None:
    source = typescript.generate(DOCUMENT, OPENAPI_TYPESCRIPT, "test")
    check = tmp_path / "check.ts"
    check.write_text(
        source
        + 'type Got = paths["/trees/{id}"]["get"]["responses"][200]["content"]["application/json"];\n'
        + "export const tree: Got = { children: [{ children: [] }] };\n"
        + 'export const depth: NonNullable<paths["/leaves/{id}"]["get"]["parameters"]["query"]>["depth"] = 1;\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(TSC), "--noEmit", "--strict", "--target", "es2022", "--pretty", "false", str(check)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_spec_without_such_references_is_read_as_it_is() -> None:
    leaf = {"application/json": {"schema": {"$ref": "#/components/schemas/Leaf"}}}
    plain = {
        **DOCUMENT,
        "paths": {"/leaves": {"get": {"responses": {"200": {"$ref": "#/components/responses/Leaf"}}}}},
        "components": {
            "schemas": DOCUMENT["components"]["schemas"],
            "responses": {"Leaf": {"description": "A leaf.", "content": leaf}},
        },
    }
    assert typescript._prepared(plain) == plain


HEADERS = """
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items:
    parameters:
      - {name: X-Request-Id, in: header, schema: {type: string}}
      - {name: X-Tenant, in: header, schema: {type: string}}
      - {name: id, in: query, schema: {type: string}}
    get:
      parameters:
        - {name: x-request-id, in: header, required: true, schema: {type: string}}
        - {name: ID, in: query, schema: {type: string}}
        - {name: X-TENANT, in: header, schema: {type: integer}}
        - {name: x-tenant, in: header, schema: {type: string, maxLength: 3}}
      responses:
        "204": {description: Listed.}
"""


def test_one_parameter_per_header_whatever_its_case_the_operation_overriding(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(HEADERS, encoding="utf-8")
    (operation,) = parser.build(load(spec)).operations
    params = [(p["name"], p["in"], p["required"], p["schema"]) for p in operation["params"]]
    assert params == [
        ("x-request-id", "header", True, {"type": "string"}),  # the operation's, in the path item's place
        ("x-tenant", "header", False, {"type": "string", "maxLength": 3}),  # the last of one list
        ("id", "query", False, {"type": "string"}),  # query names are case-sensitive: two parameters
        ("ID", "query", False, {"type": "string"}),
    ]
    assert len({p["py_name"] for p in operation["params"]}) == 4
