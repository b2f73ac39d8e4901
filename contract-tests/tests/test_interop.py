"""The interop stage runs both fixtures on one database; a broken expectation fails it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from twinapi_conformance import config as configuration
from twinapi_conformance import interop


def test_the_fixture_scenario_passes(fixture_config: configuration.Config) -> None:
    assert interop.run(fixture_config, console=Console(quiet=True))


def test_an_unmet_expectation_fails_and_names_the_step(fixture_config: configuration.Config, tmp_path: Path) -> None:
    assert fixture_config.interop is not None
    steps = json.loads(fixture_config.interop.read_text())
    steps[-1]["expect"]["body"] = {"/name": "something else"}
    scenario = tmp_path / "interop.json"
    scenario.write_text(json.dumps(steps))
    console = Console(record=True, width=200)
    assert not interop.run(replace(fixture_config, interop=scenario), console=console)
    output = console.export_text()
    assert "FAIL 4. read it back on the first server (via a)" in output
    assert "body /name: expected 'something else', got 'shared'" in output
