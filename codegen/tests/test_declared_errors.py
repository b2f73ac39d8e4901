"""Errors the spec declares: the kit answers the requests it refuses in the status, media type and schema each
operation documents (data/declared_errors.yaml), the same on both servers, and problem+json only where nothing is.

data/declared_errors.answers.json holds each request and the one answer expected of either server; the servers run
the generated code with the scaffolded handlers and error bodies, and a security handler that accepts any token.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from conftest import DATA, Project
from test_any_spec_node import _project, _serving
from twinapi_conformance import http, vectors

from twinapi_codegen import kit_errors, loader, parser
from twinapi_codegen.errors import collecting
from twinapi_codegen.generate import render, scaffold

VECTORS = DATA / "declared_errors.answers.json"
TOKEN = [("Authorization", "Bearer any")]


def _table() -> dict[str, Any]:
    doc = loader.load(DATA / "declared_errors.yaml").for_generation()
    return kit_errors.table(parser.build(doc)).document()


def test_the_rule_tries_the_status_then_422_for_validation_then_the_range_then_default() -> None:
    assert kit_errors.candidates(400) == ["400", "422", "4XX", "default"]
    assert kit_errors.candidates(401) == ["401", "4XX", "default"]
    assert kit_errors.candidates(415) == ["415", "4XX", "default"]


def test_each_refusal_is_answered_by_the_response_the_rule_picks() -> None:
    table = _table()
    create = table["operations"]["createArticle"]
    assert create["400"] == {"status": 422, "mediaType": "application/json", "body": "GenericErrorModel"}
    assert create["401"] == {"status": 401, "mediaType": None}  # documented without content: no body
    assert create["415"] == {"status": 415, "mediaType": "application/json", "body": "GenericErrorModel"}  # default
    assert table["operations"]["listArticles"] == {
        "400": {"status": 400, "mediaType": "application/json", "body": "Message"}
    }
    update = table["operations"]["updateArticle"]
    assert {status: answer["status"] for status, answer in update.items()} == {
        "400": 400,
        "401": 401,
        "413": 413,
        "415": 415,
    }
    assert table["operations"]["addNote"]["413"] == {"status": 413, "mediaType": "text/plain"}
    # 405: the path's operations in OpenAPI's method order; GET /articles documents nothing for it, POST a default.
    assert table["paths"]["/articles"]["405"]["body"] == "GenericErrorModel"
    assert table["paths"]["/articles/{slug}"]["405"]["body"] == "ErrorCode"


def test_an_operation_that_documents_nothing_keeps_problem_json() -> None:
    doc = loader.load(DATA / "minimal.yaml").for_generation()
    assert kit_errors.table(parser.build(doc)).document() == {"operations": {}, "paths": {}}


def _same(expected: Any, found: Any) -> bool:
    """Equal, except that an expected text ending in … matches any text it starts (validation messages are each
    validator's own; their locations are compared)."""
    if isinstance(expected, str) and expected.endswith("…"):
        return isinstance(found, str) and found.startswith(expected[:-1])
    if isinstance(expected, dict):
        return (
            isinstance(found, dict)
            and found.keys() == expected.keys()
            and all(_same(v, found[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return isinstance(found, list) and len(found) == len(expected) and all(map(_same, expected, found))
    return bool(expected == found)


def _check(raw: dict[str, Any], answer: http.WireResponse) -> str | None:
    """What differs between an answer and the one the vector expects, or None."""
    expect = raw["expect"]
    found = (answer.status, answer.headers.get("content-type"))
    wanted = (expect["status"], expect.get("content_type"))
    if found != wanted:
        return f"{raw['description']}: {found} {answer.body[:300]!r}, expected {wanted}"
    for name, value in expect.get("headers", {}).items():
        if answer.headers.get(name) != value:
            return f"{raw['description']}: {name}: {answer.headers.get(name)!r}, expected {value!r}"
    if expect.get("empty") and answer.body:
        return f"{raw['description']}: a body {answer.body[:300]!r}, expected none"
    if "json" in expect and not _same(expect["json"], json.loads(answer.body)):
        return f"{raw['description']}: {answer.body[:300]!r}, expected {json.dumps(expect['json'])}"
    if "text" in expect and answer.body.decode() != expect["text"]:
        return f"{raw['description']}: {answer.body[:300]!r}, expected {expect['text']!r}"
    if "shape" in expect:
        node: Any = json.loads(answer.body)
        for key in expect["shape"].split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if not node:
            return f"{raw['description']}: nothing at {expect['shape']} in {answer.body[:300]!r}"
    return None


def _answers(client: httpx.Client, url: str) -> list[str]:
    failures = []
    for vector, raw in zip(vectors.load(VECTORS), json.loads(VECTORS.read_text(encoding="utf-8")), strict=True):
        request, _ = vectors.build(vector.request, {})
        if raw["request"].get("auth") is True:
            request = http.WireRequest(
                request.method, request.path, request.query, [*request.headers, *TOKEN], request.body
            )
        failure = _check(raw, http.send(client, url, request))
        if failure:
            failures.append(failure)
    return failures


PYTHON_APP = """
import json, sys
from fastapi import FastAPI
from starlette.testclient import TestClient
from twinapi_runtime import Context, include_contract

from app.errors import Errors
from app.generated.routes import CONTRACT_PATH, bind
from app.handlers import Caller, Security, Service


class Accepting(Security):
    async def token(self, ctx: Context, credentials: str) -> Caller:
        return Caller(credentials)


app = FastAPI()
include_contract(app, CONTRACT_PATH, bind(Service(), Accepting(), Errors()))
client = TestClient(app, raise_server_exceptions=False)
"""

PYTHON_VECTORS = """
sys.path.insert(0, {tests!r})
from test_declared_errors import _answers
failures = _answers(client, "http://testserver")
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def _python_project(project: Project) -> Path:
    targets = project("declared_errors")
    for path, text in {**render(targets), **scaffold(targets)}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (targets.root / "python-impl" / "app" / "__init__.py").write_text("", encoding="utf-8")
    return targets.root


def _run(root: Path, script: str) -> subprocess.CompletedProcess[str]:
    (root / "check.py").write_text(script, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(root / "check.py")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
        env={"PYTHONPATH": str(root / "python-impl"), "PATH": "/usr/bin:/bin"},
    )


def test_the_python_server_answers_each_refusal_as_documented(project: Project) -> None:
    root = _python_project(project)
    done = _run(root, PYTHON_APP + PYTHON_VECTORS.format(tests=str(Path(__file__).parent)))
    assert done.returncode == 0, done.stdout + done.stderr


NODE_SERVER = """
import Fastify from "fastify";

import { formats } from "../generated/formats.js";
import { CONTRACT_PATH, contract } from "../generated/service.js";
import { fastifyOptions, serveFromEnv, twinapi } from "fastify-twinapi";
import { Errors } from "./errors.js";
import { Service } from "./service.js";

await serveFromEnv(
  async ({ logLevel, limits }) => {
    const app = Fastify({ ...fastifyOptions({ logLevel, limits }) });
    const securityHandlers = { token: async (credential: string) => ({ credential }) };
    const service = new Service();
    const errorBodies = new Errors();
    const options = { contractPath: CONTRACT_PATH, contract, formats, service, securityHandlers, errorBodies, limits };
    await app.register(twinapi, options);
    return app;
  },
  { defaultPort: 3000 },
);
"""


def test_the_node_server_answers_each_refusal_as_documented(tmp_path: Path) -> None:
    root = _project(tmp_path / "project", DATA / "declared_errors.yaml", "declared_errors").root
    (root / "node-impl" / "src" / "app" / "server.ts").write_text(NODE_SERVER, encoding="utf-8")
    with _serving(root / "node-impl") as url, httpx.Client(timeout=10) as client:
        failures = _answers(client, url)
    assert not failures, "\n".join(failures)


CONFORMANCE = """
import warnings
warnings.simplefilter("ignore")
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks

with open("python-impl/app/generated/contract.json", encoding="utf-8") as fh:
    schema = schemathesis.openapi.from_dict(json.load(fh)["spec"])
CONFORMANCE = (checks.status_code_conformance, checks.content_type_conformance, checks.response_schema_conformance)
failures, refused = [], 0
for result in schema.get_all_operations():
    operation = result.ok()
    cases = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(max_examples=25, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def collect(case):
        cases.append(case)

    collect()
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        kwargs.setdefault("headers", {})["Authorization"] = "Bearer any"
        allowed = ("method", "url", "headers", "params", "json", "content", "data", "files")
        response = client.request(**{k: v for k, v in kwargs.items() if k in allowed})
        if response.status_code == 501:
            continue
        refused += 1
        for check in CONFORMANCE:
            try:
                case.validate_response(response, checks=(check,))
            except Exception as error:
                answer = f"{response.status_code} {response.text[:200]}"
                failures.append(f"{case.method} {case.formatted_path} {answer}: {error}")
print("\\n".join(failures))
print("refused", refused)
sys.exit(1 if failures or not refused else 0)
"""


def test_the_kits_refusals_conform_to_the_documented_responses(project: Project) -> None:
    """Schemathesis' own checks on the answers to invalid requests it makes from the spec: documented status, media
    type and schema, for every refusal the kit made (a run with none fails)."""
    root = _python_project(project)
    done = _run(root, PYTHON_APP + CONFORMANCE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_narrowed_text_is_left_for_the_project_to_fill() -> None:
    """An `error` that is an enum of codes (or a const, or a pattern) cannot take the kit's free text: the default
    hook leaves such a shape unfilled (501 until written) rather than scaffolding code that fails tsc."""
    doc = loader.load(DATA / "declared_errors.yaml").for_generation()
    free = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    filled = [{"name": "error", "source": "summary", "if_any": False}]
    assert kit_errors._recipe(doc, free, "application/json") == filled
    for narrowing in ({"enum": ["missing_parameter"]}, {"const": "bad"}, {"pattern": "^E[0-9]+$"}):
        narrowed = {**free, "properties": {"error": {"type": "string", **narrowing}}}
        assert kit_errors._recipe(doc, narrowed, "application/json") is None, narrowing


HEADERS_SPEC = """
openapi: 3.1.0
info: {title: Required headers, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  headers:
    RequestId: {required: true, schema: {type: string}}
    RateLimit: {required: true, schema: {type: string}}
  responses:
    Problem:
      description: Any refusal.
      headers:
        X-Request-ID: {$ref: "#/components/headers/RequestId"}
        WWW-Authenticate: {required: true, schema: {type: string}}
        RateLimit: {$ref: "#/components/headers/RateLimit"}
        Retry-After: {schema: {type: string}}
      content:
        application/problem+json:
          schema: {type: object, properties: {title: {type: string}}}
paths:
  /things:
    post:
      operationId: createThing
      security: [{bearer: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object}
      responses:
        "201": {description: Created.}
        "4XX": {$ref: "#/components/responses/Problem"}
"""


def test_generation_names_each_required_error_header_the_kit_does_not_send(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(HEADERS_SPEC, encoding="utf-8")
    with collecting() as warnings:
        kit_errors.table(parser.build(loader.load(spec).for_generation()))
    found = [(w.pointer, w.message) for w in warnings]
    # X-Request-ID is sent on every answer; WWW-Authenticate on the 401 only; RateLimit never; Retry-After is optional.
    assert found == [
        (
            "/paths/~1things/post/responses/4XX/headers/WWW-Authenticate",
            "the kit answers its 400, 405, 413, 415 with this response but has no value for its required header "
            'WWW-Authenticate: send it yourself (README, "Errors your spec declares"), or the contract run fails on '
            "response_headers_conformance",
        ),
        (
            "/paths/~1things/post/responses/4XX/headers/RateLimit",
            "the kit answers its 400, 401, 405, 413, 415 with this response but has no value for its required header "
            'RateLimit: send it yourself (README, "Errors your spec declares"), or the contract run fails on '
            "response_headers_conformance",
        ),
    ]
