"""Errors the generator reports to its user: a file, a JSON pointer into it, and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


def pointer(*parts: str | int) -> str:
    """Builds an RFC 6901 JSON pointer from path segments."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Problem:
    pointer: str
    message: str
    line: int | None = None

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.pointer or '/'}: {self.message}"


class SpecError(Exception):
    """The document cannot be generated from; nothing was written."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


class ToolError(Exception):
    """A tool the generator runs (datamodel-code-generator, openapi-typescript) failed."""
