"""Identifiers for generated code: stable, valid in Python and TypeScript, never a keyword."""

from __future__ import annotations

import keyword
import re

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

TS_RESERVED = frozenset(
    "break case catch class const continue debugger default delete do else enum export extends false finally for "
    "function if import in instanceof new null return super switch this throw true try typeof var void while with "
    "as implements interface let package private protected public static yield any boolean constructor declare get "
    "module require number set string symbol type from of await async".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.replace("'", ""))


def snake(text: str) -> str:
    name = "_".join(w.lower() for w in words(text)) or "_"
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


def pascal(text: str) -> str:
    name = "".join(w[:1].upper() + w[1:] for w in words(text)) or "X"
    return "_" + name if name[0].isdigit() else name


def camel(text: str) -> str:
    name = pascal(text)
    name = name[:1].lower() + name[1:]
    if name in TS_RESERVED:
        name += "_"
    return name


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name2`, `name3`... whichever is free; records the choice."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}{n}"
    taken.add(candidate)
    return candidate
