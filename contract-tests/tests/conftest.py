"""Fixtures: the harness configured for the fault-switch fixture server (tests/fixtures/)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from twinapi_conformance import config as configuration

FIXTURE_CONFIG = Path(__file__).parent / "fixtures" / "conformance.toml"


@pytest.fixture
def fixture_config(tmp_path: Path) -> configuration.Config:
    return replace(configuration.load(FIXTURE_CONFIG), reports=tmp_path / "reports")


def with_faults(config: configuration.Config, **faults: str) -> configuration.Config:
    """The same configuration with FIXTURE_FAULT set per implementation name."""
    impls = {
        name: replace(impl, env={**impl.env, "FIXTURE_FAULT": faults.get(name, "")})
        for name, impl in config.implementations.items()
    }
    return replace(config, implementations=impls)
