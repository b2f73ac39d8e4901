"""Pure pieces: normalisation with correlation, id translation, vectors, JSON pointers, configuration errors."""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from conftest import FIXTURE_CONFIG
from rich.console import Console

from twinapi_conformance import cli, coverage, fuzz, hooks, vectors
from twinapi_conformance import config as configuration
from twinapi_conformance.auth import AuthError, bootstrap_token, configured_token
from twinapi_conformance.config import NormaliseRule
from twinapi_conformance.http import WireResponse
from twinapi_conformance.jsonpointer import MISSING, resolve
from twinapi_conformance.normalise import Normaliser, correspondence
from twinapi_conformance.spec import Spec, SpecError

ID = NormaliseRule(why="ids", placeholder="id", pattern=re.compile(r"id-[a-z]+"), pointer=None, correlate=True)
MESSAGE = NormaliseRule(
    why="texts", placeholder="message", pattern=None, pointer=("errors", "*", "message"), correlate=False
)


def test_correlated_values_are_numbered_by_first_appearance() -> None:
    normaliser = Normaliser([ID])
    assert normaliser.body({"a": "id-x", "b": ["id-y", "/things/id-x"]}) == {
        "a": "<id#1>",
        "b": ["<id#2>", "/things/<id#1>"],
    }


def test_the_same_id_twice_differs_from_two_ids() -> None:
    left, right = Normaliser([ID]), Normaliser([ID])
    assert left.body(["id-a", "id-a"]) != right.body(["id-b", "id-c"])


def test_pointer_rules_match_any_index_and_nothing_else() -> None:
    normaliser = Normaliser([MESSAGE])
    body = {"errors": [{"location": "body", "message": "x"}], "message": "kept"}
    assert normaliser.body(body) == {"errors": [{"location": "body", "message": "<message>"}], "message": "kept"}


def test_set_rules_ignore_order_and_repeats_but_not_a_different_location() -> None:
    errors = NormaliseRule(
        why="validators", placeholder="", pattern=None, pointer=("errors",), correlate=False, as_set=True
    )
    left, right = Normaliser([MESSAGE, errors]), Normaliser([MESSAGE, errors])
    a, b, c = ({"location": where, "message": why} for where, why in (("body/a", "1"), ("body/b", "2"), ("body", "3")))
    assert left.body({"errors": [a, b, a]}) == right.body({"errors": [b, a]})
    assert left.body({"errors": [a, b]}) != right.body({"errors": [a, c]})


def test_correspondence_maps_the_leaders_ids_to_the_followers() -> None:
    left, right = Normaliser([ID]), Normaliser([ID])
    left.body({"id": "id-left"})
    right.body({"id": "id-right"})
    assert correspondence(left, right) == {"id-left": "id-right"}


def test_vectors_fill_captures_and_keep_repeated_query_parameters() -> None:
    request, auth = vectors.build(
        {"method": "GET", "path": "/tasks/{{task}}", "query": [["limit", "1"], ["limit", "2"]], "auth": False},
        {"task": "abc"},
    )
    assert request.path == "/tasks/abc"
    assert request.query == [("limit", "1"), ("limit", "2")]
    assert not auth
    assert "limit=1&limit=2" in request.curl("http://127.0.0.1:1")


def test_vectors_build_oversized_bodies() -> None:
    request, _ = vectors.build(
        {"method": "POST", "path": "/", "repeat": {"text": "a", "times": 5, "prefix": "[", "suffix": "]"}}, {}
    )
    assert request.body == b"[aaaaa]"


def test_capture_names_a_missing_value() -> None:
    step = vectors.Step(request={}, capture={"id": "body:/id"})
    with pytest.raises(ValueError, match="capture id"):
        vectors.capture(step, WireResponse(status=400, headers={}, body=b"{}"))


def test_json_pointer() -> None:
    assert resolve({"a": [{"b~/": 1}]}, "/a/0/b~0~1") == 1
    assert resolve({"a": []}, "/a/0") is MISSING


def test_a_normalisation_rule_must_say_why(tmp_path: Path) -> None:
    text = (Path(__file__).parent / "fixtures" / "conformance.toml").read_text()
    text = text.replace('why = "each fixture names itself in /health"\n', "")
    broken = tmp_path / "conformance.toml"
    broken.write_text(text)
    with pytest.raises(configuration.ConfigError, match="say why"):
        configuration.load(broken)


def test_a_server_that_exits_early_is_reported_with_its_log(tmp_path: Path) -> None:
    from twinapi_conformance.servers import ServerError, started

    impl = configuration.Implementation(
        name="broken", command=["{python}", "-c", "print('no config'); raise SystemExit(3)"], cwd=tmp_path, env={}
    )
    settings = configuration.ServerSettings(
        env={"HOST": "127.0.0.1", "PORT": "{port}"}, readiness_path="/health", startup_timeout=10, stop_timeout=5
    )
    with pytest.raises(ServerError, match=r"exited with 3[\s\S]*no config"):
        with started(impl, settings, db_path=tmp_path / "db", log_dir=tmp_path):
            pass


def test_only_loopback_is_ever_targeted(tmp_path: Path) -> None:
    from twinapi_conformance.servers import ServerError, started

    impl = configuration.Implementation(name="x", command=["{python}", "-c", "pass"], cwd=tmp_path, env={})
    settings = configuration.ServerSettings(
        env={"HOST": "0.0.0.0"}, readiness_path="/health", startup_timeout=1, stop_timeout=1
    )
    with pytest.raises(ServerError, match="HOST must be 127.0.0.1"):
        with started(impl, settings, db_path=tmp_path / "db", log_dir=tmp_path):
            pass


def _events(tmp_path: Path, answers: dict[str, list[int]]) -> Path:
    """An event log like Schemathesis writes: one finished scenario per operation, one interaction per answer."""
    lines = []
    for label, statuses in answers.items():
        method, path = label.split(" ", 1)
        recorder = {
            "label": label,
            "cases": {f"{label}-{i}": {"value": {"method": method, "path": path}} for i in range(len(statuses))},
            "checks": {},
            "interactions": {
                f"{label}-{i}": {"request": {}, "response": {"status_code": status}}
                for i, status in enumerate(statuses)
            },
        }
        lines.append(json.dumps({"ScenarioFinished": {"phase": "fuzzing", "status": "success", "recorder": recorder}}))
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


TRAVEL = {
    "openapi": "3.1.0",
    "paths": {
        "/trips": {"get": {"operationId": "getTrips", "responses": {"200": {}, "401": {}}}},
        "/stations": {"get": {"operationId": "getStations", "responses": {"200": {}}}},
        "/bookings": {"post": {"operationId": "createBooking", "responses": {"201": {}, "4XX": {}, "default": {}}}},
        "/bookings/{bookingId}": {"get": {"operationId": "getBooking", "responses": {"200": {}, "404": {}}}},
        "/bookings/mine": {"get": {"operationId": "myBookings", "responses": {"200": {}}}},
    },
}


def _judged(tmp_path: Path, answers: dict[str, list[int]]) -> fuzz.FuzzResult:
    result = fuzz.FuzzResult(implementation="python", returncode=0, seed=1, junit=tmp_path / "junit.xml")
    fuzz.read_events(_events(tmp_path, answers), result, base_url="http://127.0.0.1:1")
    config = replace(configuration.load(FIXTURE_CONFIG), path=Path.cwd() / "contract-tests" / "conformance.toml")
    fuzz.judge_reach(result, Spec(TRAVEL, tmp_path / "contract.json"), config)
    return result


def test_an_operation_answered_only_401_or_403_fails_the_run(tmp_path: Path) -> None:
    result = _judged(tmp_path, {"GET /trips": [401, 401, 403], "GET /stations": [200, 401]})
    assert list(result.unreached) == ["GET /trips"]
    assert result.errors == [
        "GET /trips (getTrips): every answer was 401 or 403 (3 requests), so no request reached the operation: "
        "configure [auth] in contract-tests/conformance.toml (the spec's operations that obtain a token) so "
        "the harness sends credentials the security handlers accept"
    ]


def test_an_operation_that_answered_501_fails_the_run_naming_it(tmp_path: Path) -> None:
    # A scaffold's unimplemented security handler answers 501 too: the fuzzer's credentials reach it.
    result = _judged(tmp_path, {"POST /bookings": [401, 501, 501], "GET /stations": [200]})
    assert list(result.unimplemented) == ["POST /bookings"]
    assert result.errors == [
        "POST /bookings (createBooking): answered 501 Not Implemented to 2 of 3 requests: implement the handler of "
        "createBooking (and any security handler it goes through that still answers 501)"
    ]
    assert not result.ok


def test_requests_are_attributed_to_the_operation_they_reach() -> None:
    spec = Spec(TRAVEL, Path("contract.json"))
    assert spec.label_of("get", "/bookings/mine") == "GET /bookings/mine"
    assert spec.label_of("GET", "/bookings/b-1?expand=1") == "GET /bookings/{bookingId}"
    assert spec.label_of("GET", "/bookings/b-1/extra") is None
    assert spec.label_of("DELETE", "/bookings/b-1") is None


def test_a_documented_status_counts_as_observed_by_code_range_or_default() -> None:
    keys = ["201", "400", "4XX", "default"]
    assert coverage.matches("400", 400, keys)
    assert coverage.matches("4XX", 404, keys) and not coverage.matches("4XX", 400, keys)
    assert coverage.matches("default", 500, keys)
    assert not coverage.matches("default", 404, keys) and not coverage.matches("default", 201, keys)


def _settings(*unobservable: configuration.Unobservable, required: bool = True) -> configuration.CoverageSettings:
    return configuration.CoverageSettings(require_every_status=required, unobservable=list(unobservable))


def test_unobserved_statuses_are_reported_per_implementation_and_operation() -> None:
    spec = Spec(TRAVEL, Path("contract.json"))
    seen = coverage.Observations()
    seen.add("python", "POST /bookings", 201, "fuzz")
    seen.add("python", "POST /bookings", 422, "diff")
    seen.add("node", "POST /bookings", 201, "fuzz")
    python = coverage.measure(spec, _settings(), seen, "python", stages=("fuzz", "diff"), judged=True)
    node = coverage.measure(spec, _settings(), seen, "node", stages=("fuzz", "diff"), judged=True)
    assert python.operations["POST /bookings"].observed == {"201": {"fuzz"}, "4XX": {"diff"}}
    assert python.operations["POST /bookings"].unobserved == ["default"]
    assert node.operations["POST /bookings"].unobserved == ["4XX", "default"]
    assert python.operations["GET /trips"].unobserved == ["200", "401"]
    assert not python.ok and python.missing == 7
    assert python.stages == ("fuzz", "diff")
    # One stage on its own reports, and only the run of every stage (ci) is judged.
    alone = coverage.measure(spec, _settings(), seen, "python", stages=("fuzz",), judged=False)
    assert alone.missing == 7 and alone.ok


def test_a_declared_unobservable_status_is_excused_with_its_reason_and_flagged_once_observed() -> None:
    spec = Spec(TRAVEL, Path("contract.json"))
    seen = coverage.Observations()
    seen.add("python", "GET /stations", 200, "interop")
    rules = (
        configuration.Unobservable("getTrips", "401", "no stage sends a bad token"),
        configuration.Unobservable("getStations", "200", "never answered"),
    )
    measured = coverage.measure(spec, _settings(*rules), seen, "python", stages=("interop",), judged=True)
    assert measured.operations["GET /trips"].excused == {"401": "no stage sends a bad token"}
    assert measured.operations["GET /trips"].unobserved == ["200"]
    assert measured.stale == [
        "getStations 200: declared unobservable (never answered), yet observed: remove the exclusion"
    ]


def test_an_exclusion_must_name_a_documented_status_of_a_real_operation() -> None:
    spec = Spec(TRAVEL, Path("contract.json"))
    rules = (
        configuration.Unobservable("getTrip", "401", "typo"),
        configuration.Unobservable("getTrips", "404", "not documented"),
    )
    assert coverage.check_exclusions(spec, _settings(*rules)) == [
        "coverage.unobservable: contract.json has no operation 'getTrip'",
        "coverage.unobservable: getTrips documents no status '404'",
    ]


def test_an_exclusion_must_say_why(tmp_path: Path) -> None:
    text = FIXTURE_CONFIG.read_text() + '\n[[coverage.unobservable]]\noperation = "getItem"\nstatus = "404"\n'
    broken = tmp_path / "conformance.toml"
    broken.write_text(text)
    with pytest.raises(configuration.ConfigError, match="say why"):
        configuration.load(broken)


def test_a_configuration_that_names_the_yaml_spec_says_what_to_write_instead(tmp_path: Path) -> None:
    text = FIXTURE_CONFIG.read_text().replace('contract = "contract.json"', 'spec = "mini-openapi.yaml"')
    old = tmp_path / "conformance.toml"
    old.write_text(text)
    with pytest.raises(configuration.ConfigError, match=r"replace `spec = \.\.\.` with `contract = "):
        configuration.load(old)


def test_the_junit_report_gets_the_harness_verdicts_beside_schemathesis_suite(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text('<?xml version="1.0"?><testsuites><testsuite name="schemathesis" tests="1"/></testsuites>')
    cases = [
        ("GET /a: implemented (no 501)", "answered 501", ""),
        ("GET /a: every documented status observed", None, ""),
    ]
    coverage.add_to_junit(junit, cases)
    coverage.add_to_junit(junit, cases)  # a second run replaces its suite rather than adding another
    root = ElementTree.parse(junit).getroot()
    assert [suite.get("name") for suite in root] == ["schemathesis", "twinapi-conformance"]
    ours = root[1]
    assert (ours.get("tests"), ours.get("failures")) == ("2", "1")
    assert ours[0].find("failure").get("message") == "answered 501"
    assert ours[1].find("failure") is None


def test_the_contract_spec_is_read_as_the_servers_read_it(fixture_contract: Path) -> None:
    """YAML 1.2's values in the contract document, and so in what Schemathesis is given: `010` is 10, `1:20`, `on`,
    `off` and unquoted dates are strings."""
    spec = Spec.load(fixture_contract)
    fields = spec.raw["components"]["schemas"]["NewItem"]["properties"]
    assert fields["count"]["maximum"] == 10
    assert fields["slot"]["enum"] == ["1:20", "2:40"]
    assert fields["mode"]["enum"] == ["on", "off"]
    assert fields["since"]["default"] == "2026-01-01"
    assert json.loads(spec.write_json(fixture_contract.parent / "written.json").read_text()) == spec.raw


def test_a_missing_or_foreign_contract_document_says_to_generate(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="run `make generate`"):
        Spec.load(tmp_path / "contract.json")
    (tmp_path / "contract.json").write_text('{"openapi": "3.1.0"}')
    with pytest.raises(SpecError, match="not a contract document of format 1"):
        Spec.load(tmp_path / "contract.json")


def test_without_auth_oauth2_schemes_get_a_placeholder_so_requests_reach_their_handlers(tmp_path: Path) -> None:
    schemes = {
        "oauth": {"type": "oauth2", "flows": {}},
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://example.com"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},  # Schemathesis makes up its own values
    }
    spec = Spec({**TRAVEL, "components": {"securitySchemes": schemes}}, tmp_path / "contract.json")
    config = replace(configuration.load(FIXTURE_CONFIG), auth=None, reports=tmp_path)
    path, names = fuzz._schemathesis_config(config, spec)
    assert names == ["oauth", "oidc"]
    written = tomllib.loads(path.read_text())
    placeholders = {name: {"bearer": fuzz.PLACEHOLDER_BEARER} for name in names}
    # The project's own settings stay.
    assert written["auth"]["openapi"] == {"bearerAuth": {"bearer": "${FIXTURE_TOKEN}"}, **placeholders}
    assert written["cache"] == {"enabled": False}
    # With [auth], the project's configuration is used as it is.
    assert fuzz._schemathesis_config(replace(config, auth=configuration.load(FIXTURE_CONFIG).auth), spec) == (
        config.schemathesis_config,
        [],
    )


def test_ci_judges_the_statuses_every_stage_observed_in_the_matrix_and_the_junit_report(
    fixture_config: configuration.Config, tmp_path: Path
) -> None:
    config = replace(fixture_config, coverage=_settings(required=True))
    spec = Spec.load(config.contract)
    args = argparse.Namespace(seed=None, max_examples=None, only="a", deep=False)
    result = fuzz.FuzzResult(implementation="a", returncode=0, seed=1, junit=tmp_path / "junit-a.xml")
    seen = coverage.Observations()
    for label, keys in spec.documented_statuses().items():
        for key in keys:
            if (label, key) != ("GET /items/{itemId}", "404"):
                seen.add("a", label, int(key), "fuzz" if key != "415" else "diff")
    console = Console(record=True, width=200)
    assert cli._judge(console, config, args, [result], seen) == 1
    output = console.export_text()
    assert "never observed: 404" in output
    assert (
        "UNOBSERVED a GET /items/{itemId} (getItem): documented 404, never answered in fuzz, diff or interop" in output
    )
    suite = ElementTree.parse(result.junit).getroot().find("testsuite[@name='twinapi-conformance']")
    assert suite is not None and suite.get("failures") == "1"
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == ["GET /items/{itemId}: every documented status observed"]
    # Observed by the diff stage: it counts.
    seen.add("a", "GET /items/{itemId}", 404, "diff")
    assert cli._judge(Console(quiet=True), config, args, [result], seen) == 0


def _auth_config(tmp_path: Path, auth: str) -> Path:
    """The fixture's configuration with its [auth] table replaced by `auth`."""
    head, tail = FIXTURE_CONFIG.read_text().split("[auth]\n", 1)
    rest = tail[tail.index("[diff]") :]
    path = tmp_path / "conformance.toml"
    path.write_text(f"{head}{auth}\n{rest}")
    return path


@pytest.mark.parametrize(
    ("table", "token"),
    [
        ('[auth]\nscheme = "oauth"\ntoken = "static-token"\n', "static-token"),
        ('[auth]\nscheme = "oauth"\ntoken_from_env = "TRAVEL_ACCESS_TOKEN"\n', "from-the-environment"),
    ],
)
def test_auth_takes_a_static_token_or_one_from_the_environment_without_login_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, token: str
) -> None:
    monkeypatch.setenv("TRAVEL_ACCESS_TOKEN", " from-the-environment\n")
    auth = configuration.load(_auth_config(tmp_path, table)).auth
    assert auth is not None and auth.steps == []
    assert (auth.token_env, auth.header, auth.header_value) == (
        "TWINAPI_CONFORMANCE_TOKEN",
        "Authorization",
        "Bearer {token}",
    )
    # No request is made: a client that cannot connect anywhere is enough.
    with httpx.Client(transport=httpx.MockTransport(lambda request: pytest.fail(f"sent {request}"))) as client:
        assert bootstrap_token(client, "http://127.0.0.1:9", Spec(TRAVEL, tmp_path / "c.json"), auth) == token


def test_a_token_from_an_unset_variable_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAVEL_ACCESS_TOKEN", raising=False)
    auth = configuration.load(
        _auth_config(tmp_path, '[auth]\nscheme = "oauth"\ntoken_from_env = "TRAVEL_ACCESS_TOKEN"')
    ).auth
    assert auth is not None
    with pytest.raises(AuthError, match=r"token_from_env names TRAVEL_ACCESS_TOKEN, which is not set or empty"):
        configured_token(auth)


@pytest.mark.parametrize(
    "table",
    [
        '[auth]\nscheme = "oauth"\n',
        '[auth]\nscheme = "oauth"\ntoken = "a"\ntoken_from_env = "B"\n',
        '[auth]\nscheme = "oauth"\ntoken = "a"\n[[auth.steps]]\noperation = "loginUser"\nexpect_status = 200\n'
        'token_pointer = "/accessToken"\n',
    ],
)
def test_auth_needs_exactly_one_source_of_its_token(tmp_path: Path, table: str) -> None:
    with pytest.raises(configuration.ConfigError, match="exactly one source of its token"):
        configuration.load(_auth_config(tmp_path, table))


def test_with_auth_its_scheme_gets_the_token_unless_schemathesis_toml_configures_it(tmp_path: Path) -> None:
    schemes = {
        "oauth": {"type": "oauth2", "flows": {}},
        "key": {"type": "apiKey", "in": "header", "name": "Authorization"},
    }
    spec = Spec({**TRAVEL, "components": {"securitySchemes": schemes}}, tmp_path / "contract.json")
    plain = tmp_path / "plain.toml"
    plain.write_text("[cache]\nenabled = false\n")
    auth = configuration.AuthSettings(
        scheme="oauth", token_env="TRAVEL_TOKEN", header="Authorization", header_value="Bearer {token}", steps=[],
        token="t",
    )  # fmt: skip
    config = replace(configuration.load(FIXTURE_CONFIG), auth=auth, schemathesis_config=plain, reports=tmp_path)
    path, names = fuzz._schemathesis_config(config, spec)
    assert names == []  # no placeholder: the token is a real one
    assert tomllib.loads(path.read_text())["auth"]["openapi"] == {"oauth": {"bearer": "${TRAVEL_TOKEN}"}}
    # An API key in the Authorization header with a prefix: the whole value.
    keyed = replace(config, auth=replace(auth, scheme="key", header_value="Token {token}"))
    path, _ = fuzz._schemathesis_config(keyed, spec)
    assert tomllib.loads(path.read_text())["auth"]["openapi"] == {"key": {"api_key": "Token ${TRAVEL_TOKEN}"}}
    # The project's own setting for the scheme wins.
    own = tmp_path / "own.toml"
    own.write_text('[auth.openapi.oauth]\nbearer = "${ELSEWHERE}"\n')
    assert fuzz._schemathesis_config(replace(config, schemathesis_config=own), spec) == (own, [])


def test_the_new_project_settings_show_auth_examples_that_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each commented `[auth]` example of a new project's conformance.toml, uncommented, is a valid setting."""
    from twinapi_codegen.project import PROJECT_TEMPLATES

    template = (PROJECT_TEMPLATES / "conformance.toml").read_text(encoding="utf-8")
    examples: list[list[str]] = []
    inside = False
    for line in template.splitlines():
        if line == "#   [auth]":
            examples.append([])
            inside = True
        elif not (inside and line.startswith("#   ")):
            inside = False
            continue
        if not line.startswith("#   #"):  # the defaults, shown commented out
            examples[-1].append(line.removeprefix("#   "))
    assert len(examples) == 2
    monkeypatch.setenv("API_ACCESS_TOKEN", "issued-elsewhere")
    loaded = []
    for number, example in enumerate(examples):
        path = tmp_path / f"conformance-{number}.toml"
        path.write_text(template + "\n" + "\n".join(example) + "\n", encoding="utf-8")
        auth = configuration.load(path).auth
        assert auth is not None
        loaded.append((auth.scheme, configured_token(auth), [step.operation for step in auth.steps]))
    assert loaded == [("OAuth2", "issued-elsewhere", []), ("bearerAuth", None, ["signUp", "signIn"])]


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ({"user": {"name": "x"}}, False),
        ({"constructor": "a string", "prototype": {}}, False),
        ([{"a": [{"b": 1}]}], False),
        ("__proto__", False),
        ({"__proto__": True}, True),
        ({"a": [{"b": {"__proto__": {}}}]}, True),
        ({"comment": {"constructor": {"prototype": 1}}}, True),
    ],
)
def test_poisoned_bodies_are_those_both_runtimes_refuse(body: object, refused: bool) -> None:
    assert hooks.poisoned(body) is refused


def test_the_harness_drops_only_the_refusal_of_a_valid_but_poisoned_body() -> None:
    from types import SimpleNamespace

    from schemathesis.core.failures import AcceptedNegativeData
    from schemathesis.openapi.checks import RejectedPositiveData

    rejected = RejectedPositiveData(operation="POST /a", message="m", status_code=422, allowed_statuses=["2xx"])
    accepted = AcceptedNegativeData(operation="POST /a", message="m", status_code=200, expected_statuses=["4xx"])
    poisoned, clean = SimpleNamespace(body={"a": {"__proto__": 1}}), SimpleNamespace(body={"a": 1})
    assert hooks.filter_failure(None, rejected, poisoned, None) is False
    assert hooks.filter_failure(None, rejected, clean, None) is True
    assert hooks.filter_failure(None, accepted, poisoned, None) is True


def test_schemathesis_runs_with_the_harness_hooks_and_the_projects_own() -> None:
    config = configuration.load(FIXTURE_CONFIG)
    env = fuzz.schemathesis_environment(config, "tok", {"PATH": "/bin"})
    assert env["SCHEMATHESIS_HOOKS"] == "twinapi_conformance.hooks"
    assert hooks.PROJECT_HOOKS_ENV not in env
    env = fuzz.schemathesis_environment(config, "tok", {"SCHEMATHESIS_HOOKS": "project_hooks"})
    assert (env["SCHEMATHESIS_HOOKS"], env[hooks.PROJECT_HOOKS_ENV]) == ("twinapi_conformance.hooks", "project_hooks")
    if config.auth is not None:
        assert env[config.auth.token_env] == "tok"


def test_a_reproduction_names_the_token_in_the_configured_form() -> None:
    auth = configuration.AuthSettings(
        scheme="Token", token_env="T", header="Authorization", header_value="Token {token}", steps=[]
    )
    interaction = {
        "request": {"method": "GET", "uri": "http://127.0.0.1:1/user", "headers": {"Authorization": ["[Filtered]"]}}
    }
    assert "'Authorization: Token $TOKEN'" in fuzz._curl(interaction, "http://127.0.0.1:1", auth)
    assert "'Authorization: Bearer $TOKEN'" in fuzz._curl(interaction, "http://127.0.0.1:1")


def test_the_postgresql_pass_reports_beside_the_sqlite_pass_not_over_it() -> None:
    config = configuration.load(FIXTURE_CONFIG)
    assert cli.for_database(config, "sqlite").reports == config.reports
    on_postgres = cli.for_database(config, "postgresql")
    assert on_postgres.reports == config.reports / "postgresql"
    assert replace(on_postgres, reports=config.reports) == config  # nothing else differs
