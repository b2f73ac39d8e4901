"""Each deliberately broken fixture must fail the fuzz stage with the right check named."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from conftest import FIXTURE_CONFIG, FIXTURES, with_faults

from twinapi_conformance import config as configuration
from twinapi_conformance import fuzz
from twinapi_conformance.auth import bootstrap_token
from twinapi_conformance.servers import started
from twinapi_conformance.spec import Spec


def fuzz_fixture(config: configuration.Config, fault: str) -> fuzz.FuzzResult:
    config = with_faults(config, a=fault)
    impl = config.implementations["a"]
    with tempfile.TemporaryDirectory() as work:
        with started(impl, config.server, db_path=Path(work) / "a.db", log_dir=config.reports) as server:
            spec = Spec.load(config.contract)
            token = None
            if config.auth is not None:
                with httpx.Client() as client:
                    token = bootstrap_token(client, server.base_url, spec, config.auth)
            return fuzz.run(
                config,
                spec,
                name="a",
                base_url=server.base_url,
                token=token,
                seed=config.budget.seed,
                max_examples=config.budget.max_examples,
            )


def test_a_correct_server_passes_every_check(fixture_config: configuration.Config) -> None:
    # The fixture spec's `maximum: 010`, `enum: [1:20, 2:40]`, `enum: [on, off]` and unquoted dates are fuzzed as the
    # server reads them (YAML 1.2). Handed openapi.yaml, Schemathesis reads 8 and 80, and fails the run for it:
    # 9 sent as invalid and accepted (negative_data_rejection).
    result = fuzz_fixture(fixture_config, "")
    assert result.ok, [(f.check, f.message) for f in result.failures] + result.errors
    assert result.operations["POST /items"].cases > 0
    assert result.statuses["POST /items"][201] > 0
    assert "GET /items/{itemId}" in result.operations
    assert result.junit.exists()
    assert not result.unreached and not result.unimplemented


def test_an_operation_that_answers_501_fails_naming_it_and_what_to_do(fixture_config: configuration.Config) -> None:
    result = fuzz_fixture(fixture_config, "unimplemented")
    assert not result.ok
    assert list(result.unimplemented) == ["POST /items"]
    message = result.unimplemented["POST /items"]
    assert message.startswith("POST /items (createItem): answered 501 Not Implemented to ")
    assert "implement the handler of createItem" in message
    assert message in result.errors


def test_operations_that_only_answer_401_fail_naming_the_auth_settings(fixture_config: configuration.Config) -> None:
    result = fuzz_fixture(fixture_config, "refuse_every_token")
    assert not result.ok
    assert set(result.unreached) == {"POST /items", "GET /items/{itemId}"}
    message = result.unreached["GET /items/{itemId}"]
    assert message.startswith("GET /items/{itemId} (getItem): every answer was 401 or 403 (")
    assert "configure [auth] in " in message and "fixtures/conformance.toml (" in message
    # Public operations answered something else and are not blamed.
    assert "POST /users" not in result.unreached


def test_without_credentials_the_fuzzer_still_reaches_unimplemented_security_handlers(
    fixture_config: configuration.Config, tmp_path: Path
) -> None:
    # A new project: no [auth] yet, and security handlers that answer 501. Schemathesis' made-up bearer tokens reach
    # them, so the run lists the operations to implement instead of stopping at 401.
    plain = tmp_path / "schemathesis.toml"
    plain.write_text("[cache]\nenabled = false\n")
    config = replace(fixture_config, auth=None, schemathesis_config=plain)
    result = fuzz_fixture(config, "unimplemented_security")
    assert set(result.unimplemented) == {"POST /items", "GET /items/{itemId}"}
    assert not result.unreached


def test_a_token_from_the_environment_reaches_every_operation_without_login_steps(
    fixture_config: configuration.Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An OAuth 2 API: the token is issued outside the API, so no operation of the spec can obtain it. `[auth]` names
    # the variable; the project's schemathesis.toml says nothing about the scheme, and the harness completes it.
    plain = tmp_path / "schemathesis.toml"
    plain.write_text("[cache]\nenabled = false\n")
    monkeypatch.setenv("FIXTURE_ISSUED_TOKEN", "issued-by-the-authorization-server")
    auth = configuration.AuthSettings(
        scheme="bearerAuth", token_env="TWINAPI_CONFORMANCE_TOKEN", header="Authorization",
        header_value="Bearer {token}", steps=[], token_from_env="FIXTURE_ISSUED_TOKEN",
    )  # fmt: skip
    impls = {
        name: replace(impl, env={**impl.env, "FIXTURE_ACCESS_TOKEN": "issued-by-the-authorization-server"})
        for name, impl in fixture_config.implementations.items()
    }
    config = replace(fixture_config, auth=auth, schemathesis_config=plain, implementations=impls)
    result = fuzz_fixture(config, "")
    assert result.ok, [(f.check, f.message) for f in result.failures] + result.errors
    assert not result.unreached
    assert result.statuses["POST /items"][201] > 0


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("undocumented_status", "status_code_conformance"),
        ("missing_location", "response_headers_conformance"),
        ("extra_field", "response_schema_conformance"),
        ("server_error", "not_a_server_error"),
        ("accept_invalid", "negative_data_rejection"),
        ("reject_valid", "positive_data_acceptance"),
        ("wrong_content_type", "content_type_conformance"),
    ],
)
def test_a_broken_server_fails_the_right_check(fixture_config: configuration.Config, fault: str, check: str) -> None:
    result = fuzz_fixture(fixture_config, fault)
    assert not result.ok
    failing = {failure.check for failure in result.failures}
    assert check in failing
    failure = next(failure for failure in result.failures if failure.check == check)
    assert failure.curl.startswith("curl -i -X ")
    assert failure.message
    assert any(tally.failures[check] for tally in result.operations.values())
    assert "<failure" in result.junit.read_text()


@pytest.mark.parametrize("command", ["fuzz", "ci"])
def test_a_server_that_does_not_start_is_reported_and_the_other_is_still_fuzzed(
    fixture_contract: Path, tmp_path: Path, command: str
) -> None:
    # The fixture's configuration with every path made absolute, the contract and the reports the test's own.
    places = {
        "contract": fixture_contract,
        "reports": tmp_path / "reports",
        "schemathesis_config": FIXTURES / "schemathesis.toml",
        "interop": FIXTURES / "interop.json",
        "vectors": FIXTURES / "vectors.json",
        "cwd": FIXTURES,
    }
    text = FIXTURE_CONFIG.read_text(encoding="utf-8")
    for key, path in places.items():
        text = re.sub(rf'^{key} = "[^"]*"', f'{key} = "{path}"', text, flags=re.M)
    # b exits at start, as a server whose build or settings are broken does.
    text = text.replace('FIXTURE_NAME = "b", FIXTURE_FAULT = ""', 'FIXTURE_NAME = "b", FIXTURE_FAULT = "no such fault"')
    config = tmp_path / "conformance.toml"
    config.write_text(text, encoding="utf-8")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/junit-b.xml").write_text("<testsuites/>")  # an earlier run's report must not stand
    done = subprocess.run(
        [sys.executable, "-m", "twinapi_conformance", "--config", str(config), command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    # b's start failure, with its log's last lines.
    assert "ERROR b: did not start, so nothing was fuzzed: b exited with 1 before it was ready" in output
    assert "FIXTURE_FAULT: unknown fault 'no such fault'" in output
    # a was fuzzed and judged all the same.
    assert re.search(r"^a: passed; JUnit report ", output, re.M), output[-4000:]
    assert "b: 1 errors" in output
    events = fuzz.FuzzResult(implementation="a", returncode=0, seed=0, junit=Path())
    fuzz.read_events(tmp_path / "reports/events-a.ndjson", events, base_url="")
    assert events.statuses["POST /items"][201] > 0
    junit = ElementTree.parse(tmp_path / "reports/junit-b.xml").getroot()
    failed = {case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None}
    assert "POST /items: fuzzed" in failed
    assert [suite.get("name") for suite in junit] == ["twinapi-conformance"]
