"""Errors the generator reports to its user: a file, a JSON pointer into it, and what is wrong.

A refusal (SpecError) stops generation. A warning names something the generator works around (and says how); it is
collected while generating and printed by the command line, which goes on and succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


def pointer(*parts: str | int) -> str:
    """Builds an RFC 6901 JSON pointer from path segments."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Problem:
    pointer: str
    message: str
    line: int | None = None
    warning: bool = False
    file: str | None = None  # the file the line is in, when not the one the problem is reported for (an overlay)

    def render(self, file: str) -> str:
        file = self.file or file
        where = f"{file}:{self.line}" if self.line else file
        kind = "warning: " if self.warning else ""
        return f"{where}: {self.pointer or '/'}: {kind}{self.message}"


class SpecError(Exception):
    """The document cannot be generated from; nothing was written."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


class ToolError(Exception):
    """A tool the generator runs (datamodel-code-generator, openapi-typescript) failed."""


_Collector = tuple[list[Problem], Callable[[Problem], None] | None]
_collecting: ContextVar[_Collector | None] = ContextVar("twinapi_warnings", default=None)


def warn(problem: Problem) -> None:
    """Hands a warning to whoever is collecting them (see `collecting`); each one is kept once."""
    collector = _collecting.get()
    if collector is None:
        return
    found, report = collector
    if problem not in found:
        found.append(problem)
        if report is not None:
            report(problem)


@contextmanager
def collecting(report: Callable[[Problem], None] | None = None) -> Iterator[list[Problem]]:
    """The warnings raised inside the block, in order, without repeats (a spec is read more than once); `report`
    is called with each as it comes."""
    found: list[Problem] = []
    token = _collecting.set((found, report))
    try:
        yield found
    finally:
        _collecting.reset(token)
