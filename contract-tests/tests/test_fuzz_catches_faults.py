"""Each deliberately broken fixture must fail the fuzz stage with the right check named."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from conftest import with_faults

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
            assert config.auth is not None
            with httpx.Client() as client:
                token = bootstrap_token(client, server.base_url, Spec(config.spec), config.auth)
            return fuzz.run(
                config,
                name="a",
                base_url=server.base_url,
                token=token,
                seed=config.budget.seed,
                max_examples=config.budget.max_examples,
            )


def test_a_correct_server_passes_every_check(fixture_config: configuration.Config) -> None:
    result = fuzz_fixture(fixture_config, "")
    assert result.ok, [(f.check, f.message) for f in result.failures] + result.errors
    assert result.operations["POST /items"].cases > 0
    assert "GET /items/{itemId}" in result.operations
    assert result.junit.exists()


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
