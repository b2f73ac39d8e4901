"""The command line refuses a selection that would measure nothing, before or after starting servers."""

from pathlib import Path

import pytest

from twinapi_bench import cli


def test_an_unknown_only_name_is_refused_with_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--quick", "--only", "update-task", "fastapi-tasks", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--only: unknown fastapi-tasks;" in err
    assert "fastapi-tasks/uvicorn" in err and "update-task" in err and "haproxy" in err
    assert list(tmp_path.iterdir()) == []


def test_a_selection_with_no_run_writes_no_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # /health is no database workload, and the PostgreSQL mode runs only those.
    code = cli.main(
        ["run", "--quick", "--no-build", "--mode", "postgresql", "--only", "health", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "nothing was measured" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
