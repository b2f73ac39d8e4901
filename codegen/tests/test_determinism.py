"""Generated files carry no timestamp and do not depend on where or when the generator runs."""

from __future__ import annotations

from conftest import Project

from twinapi_codegen.generate import render
from twinapi_codegen.writer import MARKER


def test_two_runs_are_byte_identical(project: Project) -> None:
    first = render(project("tasks"))
    second = render(project("tasks"))
    assert first == second


def test_every_file_starts_with_the_do_not_edit_header(project: Project) -> None:
    for path, text in render(project("tasks")).items():
        first_line = text.splitlines()[0]
        assert MARKER in first_line and "make generate" in first_line, path
