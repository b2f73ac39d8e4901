"""A real benchmark run through the command line, for the tests that read what it wrote."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from twinapi_bench import cli


@pytest.fixture(scope="session")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], dict[str, Any]]:
    """`run` with the given arguments into a fresh folder; returns the one JSON it wrote, with `_out` its folder."""

    def go(args: list[str]) -> dict[str, Any]:
        out = tmp_path_factory.mktemp("results")
        code = cli.main(["run", *args, "--out", str(out)])
        files = sorted(out.glob("bench-*.json"))
        assert code == 0 and len(files) == 1
        data: dict[str, Any] = json.loads(files[0].read_text())
        data["_out"] = str(out)
        return data

    return go
