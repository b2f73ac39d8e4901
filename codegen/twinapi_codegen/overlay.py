"""OpenAPI Overlays (OAI Overlay Specification 1.0): corrections to a spec kept beside it, applied as it is read.

A project lists its overlays in twinapi.toml (see settings). Each is read the YAML 1.2 way, like the spec, checked
against the Overlay 1.0 object model, and its actions are applied in order, each to the result of the one before:
- `target` is an RFC 9535 JSONPath query (python-jsonpath, strict mode);
- `update` merges into each selected object (objects recursively, arrays concatenated, anything else replaced) or is
  appended to each selected array (an array update is concatenated, as Overlay 1.1 settles);
- `remove: true` removes each selected node from the object or array holding it.
Stricter than the specification, which lets a target select nothing: here that is an error, since an overlay whose
target no longer exists (the spec changed upstream) silently corrects nothing. Every problem is located in the
overlay file (line and JSON pointer of the action), and no output is written.

Locations travel with the nodes: a node an overlay wrote is located in that overlay, so that a problem the
validator finds in it later names the overlay's file and line, with the pointer into the overlaid document.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonpath import JSONPathEnvironment, JSONPathError
from jsonpath.token import TOKEN_EOF

from twinapi_codegen import yaml12
from twinapi_codegen.errors import Problem, SpecError, pointer, warn

VERSION = re.compile(r"^1\.0\.\d+(-.+)?$")
ROOT_FIELDS = frozenset({"overlay", "info", "extends", "actions"})
INFO_FIELDS = frozenset({"title", "version"})
ACTION_FIELDS = frozenset({"target", "description", "update", "remove"})
KINDS = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}
# RFC 9535 as written: no extension syntax, no whitespace around the query.
JSONPATH = JSONPathEnvironment(strict=True)


@dataclass
class _Where:
    """Where a node was written (file, line), and the same for each of its children."""

    file: str
    line: int | None
    kids: dict[str, _Where] | list[_Where] = field(default_factory=dict)


def _located(value: Any, ptr: str, lines: dict[str, int], file: str) -> _Where:
    where = _Where(file, lines.get(ptr))
    if isinstance(value, dict):
        where.kids = {k: _located(v, ptr + pointer(k), lines, file) for k, v in value.items()}
    elif isinstance(value, list):
        where.kids = [_located(v, ptr + pointer(i), lines, file) for i, v in enumerate(value)]
    return where


def _flatten(value: Any, where: _Where, ptr: str, lines: dict[str, int], files: dict[str, str], spec: str) -> None:
    if where.line is not None:
        lines[ptr] = where.line
        if where.file != spec:
            files[ptr] = where.file
    if isinstance(value, dict) and isinstance(where.kids, dict):
        for key, child in value.items():
            _flatten(child, where.kids[key], ptr + pointer(key), lines, files, spec)
    elif isinstance(value, list) and isinstance(where.kids, list):
        for i, child in enumerate(value):
            _flatten(child, where.kids[i], ptr + pointer(i), lines, files, spec)


@dataclass(frozen=True)
class Overlaid:
    """The spec with its overlays applied: its data, the line of every node, and for the nodes an overlay wrote,
    that overlay's file name (pointer -> file)."""

    data: dict[str, Any]
    lines: dict[str, int]
    files: dict[str, str]


def apply(spec: Path, data: dict[str, Any], lines: dict[str, int], overlays: Sequence[Path]) -> Overlaid:
    """Applies the overlays in order to the spec's data (in place). Raises SpecError, reported for the spec, whose
    problems are located in the overlay that has them; the first overlay with problems stops the rest."""
    spec_name = str(spec)
    where = _located(data, "", lines, spec_name)
    for path in overlays:
        problems = _Applier(spec, path, data, where).run()
        if problems:
            raise SpecError(spec_name, problems)
    out_lines: dict[str, int] = {}
    files: dict[str, str] = {}
    _flatten(data, where, "", out_lines, files, spec_name)
    return Overlaid(data, out_lines, files)


class _Applier:
    def __init__(self, spec: Path, path: Path, data: dict[str, Any], where: _Where) -> None:
        self.spec, self.path, self.name = spec, path, str(path)
        self.data, self.where = data, where
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []

    def fail(self, ptr: str, message: str) -> None:
        line = None
        at = ptr
        while line is None:
            line = self.lines.get(at)
            if not at:
                break
            at = at.rsplit("/", 1)[0]
        self.problems.append(Problem(ptr, message, line, file=self.name))

    def run(self) -> list[Problem]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return [Problem("", f"cannot read the overlay: {exc}", file=self.name)]
        try:
            overlay, self.lines = yaml12.read(text)
        except yaml12.YamlProblems as exc:
            return [Problem(p.pointer, p.message, p.line, file=self.name) for p in exc.problems]
        self.check(overlay)
        if self.problems:
            return self.problems
        self.check_extends(overlay)
        for i, action in enumerate(overlay["actions"]):
            self.act(action, f"/actions/{i}")
        return self.problems

    def check(self, overlay: Any) -> None:
        """The Overlay 1.0 object model: what a JSON Schema of it says, in words that say what to write."""
        if not isinstance(overlay, dict):
            self.fail("", "an overlay must be a mapping with `overlay`, `info` and `actions`")
            return
        self.unknown(overlay, "", ROOT_FIELDS, "an Overlay 1.0 document has overlay, info, extends and actions")
        version = overlay.get("overlay")
        if "overlay" not in overlay:
            self.fail("", "`overlay` is required: the Overlay Specification version, `overlay: 1.0.0`")
        elif not isinstance(version, str):
            self.fail("/overlay", f'`overlay` must be a string such as "1.0.0" (quote it), not {version!r}')
        elif not VERSION.match(version):
            self.fail("/overlay", f"Overlay {version} is not supported: this generator applies Overlay 1.0.x")
        info = overlay.get("info")
        if not isinstance(info, dict):
            self.fail("/info" if "info" in overlay else "", "`info` is required: a mapping with `title` and `version`")
        else:
            self.unknown(info, "/info", INFO_FIELDS, "an overlay's info has title and version")
            for name in sorted(INFO_FIELDS):
                if not isinstance(info.get(name), str):
                    self.fail(f"/info/{name}" if name in info else "/info", f"`info.{name}` is required, a string")
        if "extends" in overlay and not isinstance(overlay["extends"], str):
            self.fail("/extends", "`extends` must be a string: a URI reference to the document it applies to")
        actions = overlay.get("actions")
        if not isinstance(actions, list) or not actions:
            self.fail("/actions" if "actions" in overlay else "", "`actions` is required: a list of one action or more")
            return
        for i, action in enumerate(actions):
            at = f"/actions/{i}"
            if not isinstance(action, dict):
                self.fail(at, "an action must be a mapping with `target` and `update` or `remove`")
                continue
            self.unknown(action, at, ACTION_FIELDS, "an Overlay 1.0 action has target, description, update, remove")
            if not isinstance(action.get("target"), str):
                where = at + "/target" if "target" in action else at
                self.fail(where, "`target` is required: a JSONPath query (RFC 9535) such as $.paths['/items'].get")
            if "description" in action and not isinstance(action["description"], str):
                self.fail(at + "/description", "`description` must be a string")
            remove = action.get("remove", False)
            if not isinstance(remove, bool):
                self.fail(at + "/remove", f"`remove` must be true or false, not {remove!r}")
            elif remove and "update" in action:
                self.fail(at, "an action either updates or removes: it has both `update` and `remove: true`")
            elif not remove and "update" not in action:
                self.fail(at, "the action does nothing: give it `update`, or `remove: true`")

    def unknown(self, node: dict[str, Any], at: str, known: frozenset[str], which: str) -> None:
        for key in node:
            if key not in known and not key.startswith("x-"):
                self.fail(at + pointer(key), f"unknown field `{key}`: {which}, and x- extensions")

    def check_extends(self, overlay: dict[str, Any]) -> None:
        """A relative `extends` that names another file than the spec is a mistake worth a word, not a refusal."""
        extends = overlay.get("extends")
        if not isinstance(extends, str) or urlsplit(extends).scheme or not urlsplit(extends).path:
            return
        named = (self.path.parent / unquote(urlsplit(extends).path)).resolve()
        if named != self.spec.resolve():
            where = self.lines.get("/extends")
            warn(
                Problem(
                    "/extends",
                    f"`extends` names {extends}, but the overlay is applied to {self.spec}",
                    where,
                    warning=True,
                    file=self.name,
                )
            )

    def act(self, action: dict[str, Any], at: str) -> None:
        target: str = action["target"]
        try:
            matches = list(JSONPATH.finditer(target, self.data))
        except JSONPathError as exc:
            if not target.startswith("$"):
                why = "it must start with `$`, the document's root"
            elif exc.token is None:
                why = str(exc.message)
            elif exc.token.kind == TOKEN_EOF:
                why = f"{exc.message} (at its end: something is not closed)"
            else:
                why = f"{exc.message} (at character {exc.token.index + 1})"
            self.fail(at + "/target", f"`{target}` is not an RFC 9535 JSONPath query: {why}")
            return
        found: dict[tuple[str | int, ...], Any] = {}
        for match in matches:
            parts = tuple(p for p in match.parts if isinstance(p, str | int))
            found.setdefault(parts, match.obj)
        if not found:
            self.fail(
                at + "/target",
                f"`{target}` selects nothing in {self.spec.name} (as the actions before it left it): the overlay is "
                "out of date with the spec",
            )
            return
        if action.get("remove", False):
            self.remove(sorted(found, reverse=True), at)
        else:
            self.update(found, action["update"], at)

    def node(self, parts: tuple[str | int, ...]) -> tuple[Any, _Where]:
        value: Any = self.data
        where = self.where
        for part in parts:
            value = value[part]
            where = where.kids[part]  # type: ignore[index]
        return value, where

    def remove(self, targets: list[tuple[str | int, ...]], at: str) -> None:
        # Deepest and last first, so that removing one node moves none of the others.
        for parts in targets:
            if not parts:
                self.fail(at + "/target", "the target selects the document's root, which cannot be removed")
                continue
            parent, where = self.node(parts[:-1])
            del parent[parts[-1]]
            del where.kids[parts[-1]]  # type: ignore[arg-type]

    def update(self, found: dict[tuple[str | int, ...], Any], update: Any, at: str) -> None:
        source = _located(update, at + "/update", self.lines, self.name)
        # Every selected node first: an update cannot move the nodes the next one is applied to.
        targets = [(parts, *self.node(parts)) for parts in found]
        for parts, value, where in targets:
            if isinstance(value, dict):
                if not isinstance(update, dict):
                    self.fail(
                        at + "/update",
                        f"the target selects an object ({pointer(*parts) or '/'}): `update` must be an object of "
                        "the properties to merge into it",
                    )
                    return
                _merge(value, where, update, source)
            elif isinstance(value, list):
                _append(value, where, update, source)
            else:
                kind = KINDS.get(type(value), "null")
                self.fail(
                    at + "/target",
                    f"the target selects {kind} at {pointer(*parts)}: an update's target must select objects or "
                    "arrays; select the object that holds the value and update the property",
                )
                return


def _merge(target: dict[str, Any], where: _Where, update: dict[str, Any], source: _Where) -> None:
    assert isinstance(where.kids, dict) and isinstance(source.kids, dict)
    for key, value in update.items():
        current = target.get(key)
        if key in target and isinstance(current, dict) and isinstance(value, dict):
            _merge(current, where.kids[key], value, source.kids[key])
        elif key in target and isinstance(current, list) and isinstance(value, list):
            _append(current, where.kids[key], value, source.kids[key])
        else:
            target[key] = copy.deepcopy(value)
            where.kids[key] = copy.deepcopy(source.kids[key])


def _append(target: list[Any], where: _Where, update: Any, source: _Where) -> None:
    assert isinstance(where.kids, list)
    if isinstance(update, list):
        assert isinstance(source.kids, list)
        target.extend(copy.deepcopy(update))
        where.kids.extend(copy.deepcopy(source.kids))
    else:
        target.append(copy.deepcopy(update))
        where.kids.append(copy.deepcopy(source))
