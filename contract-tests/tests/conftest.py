"""Fixtures: the harness configured for the fault-switch fixture server (tests/fixtures/)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from twinapi_codegen import contract, loader

from twinapi_conformance import config as configuration

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CONFIG = FIXTURES / "conformance.toml"
FIXTURE_SPEC = FIXTURES / "mini-openapi.yaml"


@pytest.fixture(scope="session")
def fixture_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The contract document the generator writes for the fixture spec, as a project's `make generate` would."""
    path = tmp_path_factory.mktemp("contract") / contract.FILE_NAME
    document = contract.document(loader.load(FIXTURE_SPEC), "DO NOT EDIT: written by the harness's tests")
    path.write_text(contract.render(document), encoding="utf-8")
    return path


@pytest.fixture
def fixture_config(tmp_path: Path, fixture_contract: Path) -> configuration.Config:
    return replace(configuration.load(FIXTURE_CONFIG), contract=fixture_contract, reports=tmp_path / "reports")


def with_faults(config: configuration.Config, **faults: str) -> configuration.Config:
    """The same configuration with FIXTURE_FAULT set per implementation name."""
    impls = {
        name: replace(impl, env={**impl.env, "FIXTURE_FAULT": faults.get(name, "")})
        for name, impl in config.implementations.items()
    }
    return replace(config, implementations=impls)
