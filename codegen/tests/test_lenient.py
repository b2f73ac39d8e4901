"""What does not stop a document from being served is a located warning, and generation goes on; what cannot be
generated from is still refused, located."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import DATA, OPENAPI_TYPESCRIPT

from twinapi_codegen import dialect, loader
from twinapi_codegen.errors import SpecError, collecting
from twinapi_codegen.generate import Targets, render

LENIENT = DATA / "lenient.yaml"


def test_what_is_forgiven_is_warned_about_where_it_is() -> None:
    with collecting() as collected:
        doc = loader.load(LENIENT)
    found = [(w.line, w.pointer) for w in doc.warnings]
    assert found == [
        (16, "/paths/~1readings/get/parameters/0/schema/default"),
        (16, "/paths/~1readings/get/parameters/0/schema/exclusiveMaximum"),
        (19, "/paths/~1readings/get/parameters/1/schema/default"),
        (22, "/paths/~1readings/get/parameters/2/schema/enum"),
        (48, "/paths/~1readings~1latest/get/responses/200/content/application~1json/schema/enum"),
        (51, "/paths/~1readings~1latest/delete/responses"),
        (61, "/components/schemas/Reading/properties/value/exclusiveMinimum"),
        (64, "/components/schemas/Reading/properties/count/default"),
        (64, "/components/schemas/Reading/properties/count/exclusiveMaximum"),
    ]
    assert collected == doc.warnings and all(w.warning for w in doc.warnings)
    by_pointer = {w.pointer: w.message for w in doc.warnings}
    assert "'10' is not of type 'integer'" in by_pointer["/paths/~1readings/get/parameters/0/schema/default"]
    assert "'yesterday' is not a 'date'" in by_pointer["/paths/~1readings/get/parameters/1/schema/default"]
    assert "'celsius' more than once" in by_pointer["/paths/~1readings/get/parameters/2/schema/enum"]
    assert "`exclusiveMaximum: 100`" in by_pointer["/paths/~1readings/get/parameters/0/schema/exclusiveMaximum"]
    rendered = doc.warnings[0].render("openapi.yaml")
    assert rendered.startswith("openapi.yaml:16: /paths/~1readings/get/parameters/0/schema/default: warning: ")


def test_generation_reads_the_document_as_the_runtimes_do() -> None:
    doc = loader.load(LENIENT)
    original = copy.deepcopy(doc.data)
    served = doc.for_generation()
    assert served.adjusted and not doc.adjusted
    assert doc.data == original  # the file's own reading is untouched
    limit = served.data["paths"]["/readings"]["get"]["parameters"][0]["schema"]
    assert limit == {"type": "integer", "minimum": 1, "exclusiveMaximum": 100}  # bound upgraded, bad default out
    unit = served.data["paths"]["/readings"]["get"]["parameters"][2]["schema"]
    assert unit["enum"] == ["celsius", "kelvin", "fahrenheit"]
    reading = served.data["components"]["schemas"]["Reading"]["properties"]
    assert reading["value"]["exclusiveMinimum"] == -273.15 and "minimum" not in reading["value"]
    assert reading["note"] == {"type": ["string", "null"]}
    assert reading["count"] == {"type": "integer"}
    assert served.warnings == doc.warnings and served.line("/components/schemas/Reading/properties/note") == 63


NO_RESPONSES = """openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /hoot:
    post:
      operationId: hoot
      responses: {}
"""


def test_an_operation_without_responses_is_generated_with_a_warning(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(NO_RESPONSES, encoding="utf-8")
    targets = Targets(
        root=tmp_path,
        spec=spec,
        python_dir=tmp_path / "python-impl" / "app" / "generated",
        typescript_dir=tmp_path / "node-impl" / "src" / "generated",
        openapi_typescript=OPENAPI_TYPESCRIPT,
    )
    with collecting() as collected:
        outputs = render(targets)
    assert [(w.line, w.pointer) for w in collected] == [(7, "/paths/~1hoot/post/responses")]
    assert "documents no responses" in collected[0].message
    operations = outputs[tmp_path / "python-impl" / "app" / "generated" / "operations.py"]
    service = outputs[tmp_path / "node-impl" / "src" / "generated" / "service.ts"]
    assert "def hoot(" in operations and "hoot" in service
    # Like an operation of a 3.1 document that leaves `responses` out: any status, no declared body.
    assert "The spec documents no responses for this operation." in operations


def test_a_document_without_anything_to_forgive_is_generated_from_as_it_is() -> None:
    doc = loader.load(DATA / "tasks.yaml")
    assert doc.warnings == [] and doc.for_generation() is doc


def test_3_0_documents_keep_their_own_bounds_and_nullable(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        'openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths: {}\ncomponents:\n  schemas:\n'
        "    N: {type: number, maximum: 5, exclusiveMaximum: true, nullable: true, enum: [1, 2, 2, null]}\n",
        encoding="utf-8",
    )
    doc = loader.load(spec)
    assert [(w.line, w.pointer) for w in doc.warnings] == [(6, "/components/schemas/N/enum")]
    served = doc.for_generation().data["components"]["schemas"]["N"]
    assert served == {"type": "number", "maximum": 5, "exclusiveMaximum": True, "nullable": True, "enum": [1, 2, None]}


def test_a_defaults_location_is_where_it_is_written_not_where_it_is_used(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        """openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      parameters: [{$ref: "#/components/parameters/Flag"}]
      responses: {"200": {description: ok}}
  /b:
    get:
      parameters: [{$ref: "#/components/parameters/Flag"}]
      responses: {"200": {description: ok}}
components:
  parameters:
    Flag:
      name: flag
      in: query
      schema: {type: boolean, default: "false - DELETE"}
""",
        encoding="utf-8",
    )
    [warning] = loader.load(spec).warnings
    assert (warning.line, warning.pointer) == (17, "/components/parameters/Flag/schema/default")
    assert "'false - DELETE' is not of type 'boolean'" in warning.message


def test_a_required_property_nothing_defines_is_a_warning_at_its_schema(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        """openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/A"}
components:
  schemas:
    Base:
      type: object
      properties: {y: {type: string}}
    A:
      required: [x, y]
      allOf: [{$ref: "#/components/schemas/Base"}]
""",
        encoding="utf-8",
    )
    [warning] = loader.load(spec).warnings  # the validator met A first through the response's reference
    assert (warning.line, warning.pointer) == (18, "/components/schemas/A")
    assert "`required` names ['x']" in warning.message and "any value of it is accepted" in warning.message


def test_other_dialects_in_a_3_1_document_are_read_as_2020_12(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        """openapi: 3.1.0
info: {title: t, version: "1"}
jsonSchemaDialect: http://json-schema.org/draft-04/schema#
paths: {}
components:
  schemas:
    N:
      $schema: http://json-schema.org/draft-04/schema#
      type: number
      maximum: 5
      exclusiveMaximum: true
""",
        encoding="utf-8",
    )
    doc = loader.load(spec)
    assert [(w.line, w.pointer) for w in doc.warnings] == [
        (3, "/jsonSchemaDialect"),
        (8, "/components/schemas/N/$schema"),
        (11, "/components/schemas/N/exclusiveMaximum"),
    ]
    served = doc.for_generation().data
    assert "jsonSchemaDialect" not in served
    assert served["components"]["schemas"]["N"] == {"type": "number", "exclusiveMaximum": 5}


REFUSED = {
    "paths that are not a mapping": (
        'openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths:\n  - /things\n',
        (4, "/paths", 'is not of type "object"'),
    ),
    "a reference to nothing": (
        'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /things:\n    get:\n      responses:\n'
        '        "200":\n          description: ok\n          content:\n            application/json:\n'
        '              schema: {$ref: "#/components/schemas/Missing"}\n',
        (
            11,
            "/paths/~1things/get/responses/200/content/application~1json/schema/$ref",
            "#/components/schemas/Missing points to nothing",
        ),
    ),
    "an unsupported version": (
        'openapi: 2.0.0\ninfo: {title: t, version: "1"}\npaths: {}\n',
        (1, "/openapi", "unsupported OpenAPI version '2.0.0'"),
    ),
    "an operationId used twice": (
        'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get:\n      operationId: same\n'
        '      responses: {"200": {description: ok}}\n  /b:\n    get:\n      operationId: same\n'
        '      responses: {"200": {description: ok}}\n',
        (10, "/paths/~1b/get", "Operation ID 'same' for 'get' in '/b' is not unique"),
    ),
    "a path parameter that is not declared": (
        'openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths:\n  /things/{id}:\n    get:\n'
        '      responses: {"200": {description: ok}}\n',
        (6, "/paths/~1things~1{id}/get", "Path parameter 'id'"),
    ),
    "a schema that is not JSON Schema": (
        'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths: {}\ncomponents:\n  schemas:\n'
        "    N: {type: number, maximum: five}\n",
        (6, "/components/schemas/N/maximum", "not a valid JSON Schema"),
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_cannot_be_generated_from_is_refused_where_it_is(case: str, tmp_path: Path) -> None:
    text, (line, ptr, message) = REFUSED[case]
    spec = tmp_path / "openapi.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        loader.load(spec)
    [problem] = refused.value.problems
    assert (problem.line, problem.pointer) == (line, ptr) and not problem.warning
    assert message in problem.message


def test_enum_values_are_compared_as_json_values() -> None:
    kept, repeated = dialect.unique([1, 1.0, True, "1", None, None, [1], [1.0]])
    assert kept == [1, True, "1", None, [1]] and repeated == [1.0, None, [1.0]]
