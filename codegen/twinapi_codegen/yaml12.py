"""Reads a spec the way YAML 1.2's core schema does, into JSON data, with the source line of every node.

OpenAPI documents are JSON data, and OpenAPI recommends YAML 1.2 for them. PyYAML reads YAML 1.1, where `on`, `off`,
`yes` and `no` are booleans, `2026-01-01` is a date, `010` is 8 and `1:20` is 80; ruamel.yaml reads 1.2 but still
turns unquoted dates and times into datetime objects, and its round-trip types are no plain JSON either. So this is
PyYAML's parser and composer (the C one where available) with the core schema's resolver in place of 1.1's, and the
node tree turned into JSON values here, in one pass that also records lines. What follows the core schema as the
`yaml` package (Node) reads it by default: `true`/`false` in any of its three spellings are the only booleans, `null`,
`~` and nothing are null, `010` is 10, `0o10` is 8, `0x1F` is 31, and `1:20`, `1_000`, `0b11` and every date or time
are strings. Where JSON has no value for what YAML writes, the document is refused, located, instead of guessed:
`.inf`, `.nan` and numbers beyond a double, explicitly tagged values (`!!binary`, `!!timestamp`, `!!set`, `!custom`),
mapping keys that are not scalars, and the same key twice. Keys are the text written, as OpenAPI requires ("keys ...
MUST be limited to a scalar string, as defined by the YAML Failsafe schema"): `200:` is "200" and `010:` is "010".
Merge keys (`<<: *base`), YAML 1.1's but read by most OpenAPI tools, are merged: keys written beside them win.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from twinapi_codegen.errors import Problem, pointer

# The C parser where PyYAML was built with libyaml (many times faster on large specs); the resolver is ours either way.
_Base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TAG = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (TAG + name for name in ("null", "bool", "int", "float", "str"))
MAP, SEQ, MERGE = TAG + "map", TAG + "seq", TAG + "merge"
# A spec expanding to more nodes than this is an alias bomb, not an API description.
MAX_NODES = 2_000_000

# The core schema's tags for plain scalars (YAML 1.2.2, 10.3.2), and the first characters each may start with.
_CORE: list[tuple[str, str, str]] = [
    (NULL, r"^(?:~|null|Null|NULL|)$", "~nN"),
    (BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (FLOAT, r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$", "-+.0123456789"),
    (FLOAT, r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+."),
    (MERGE, r"^<<$", "<"),  # only as a mapping key: a `<<` value is read as a string below
]


class _Loader(_Base):  # type: ignore[misc]
    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _pattern, _first in _CORE:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
# The empty plain scalar (`key:` with nothing after it) is null; the resolver looks it up under None.
_Loader.yaml_implicit_resolvers.setdefault(None, []).append((NULL, re.compile(r"^$")))


class YamlProblems(Exception):
    """The text is no YAML, or YAML that is no JSON data; each problem located."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.message for p in problems))


def read(text: str) -> tuple[Any, dict[str, int]]:
    """The document's JSON value and the line (1-based) of each of its nodes by JSON pointer.

    Raises YamlProblems for text that is no YAML or holds what JSON cannot (all such problems at once)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlProblems([Problem("", f"not valid YAML or JSON: {exc}", mark.line + 1 if mark else None)]) from None
    if node is None:
        return None, {}
    builder = _Builder()
    value = builder.value(node, "")
    if builder.problems:
        raise YamlProblems(builder.problems)
    return value, builder.lines


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.count = 0
        self.open: set[int] = set()  # the nodes being built: meeting one again is a recursive alias

    def fail(self, node: yaml.Node, ptr: str, message: str) -> None:
        self.problems.append(Problem(ptr, message, node.start_mark.line + 1))

    def value(self, node: yaml.Node, ptr: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self.fail(node, ptr, f"the document expands to more than {MAX_NODES:,} values (aliases of aliases)")
            return None
        self.lines.setdefault(ptr, node.start_mark.line + 1)
        if id(node) in self.open:
            self.fail(node, ptr, "an alias refers to a node that contains it: JSON data cannot be recursive")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, ptr)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode) and node.tag == SEQ:
                return [self.value(item, ptr + pointer(i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode) and node.tag == MAP:
                return self.mapping(node, ptr)
        finally:
            self.open.discard(id(node))
        self.fail(node, ptr, _untyped(node.tag))
        return None

    def mapping(self, node: yaml.MappingNode, ptr: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, ptr, "a mapping key must be a string; this one is a mapping or a list")
            elif key_node.tag == MERGE:
                merges.append(value_node)
            elif (key := str(key_node.value)) in out:
                self.fail(key_node, ptr + pointer(key), f"the key {key!r} appears twice in one mapping")
            else:
                out[key] = self.value(value_node, ptr + pointer(key))
        # After the keys written here, which win and whose lines are the ones to point at.
        for merged in merges:
            for source in self.merge(merged, ptr):
                for key, value in source.items():
                    out.setdefault(key, value)
        return out

    def merge(self, node: yaml.Node, ptr: str) -> list[dict[str, Any]]:
        """What a `<<` key merges: one mapping or a list of them (the first one listed wins)."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        found = []
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.fail(source, ptr, "a merge key (`<<`) takes a mapping or a list of mappings")
                continue
            found.append(self.value(source, ptr))
        return found

    def scalar(self, node: yaml.ScalarNode, ptr: str) -> Any:
        text, tag = node.value, node.tag
        if tag in (STR, MERGE):
            return text
        if tag == NULL:
            return None
        if tag == BOOL:
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
        elif tag == INT:
            try:
                return _integer(text)
            except ValueError:
                pass
        elif tag == FLOAT:
            if re.fullmatch(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", text):
                self.fail(node, ptr, f"{text} is no JSON number (JSON has no infinity or NaN); quote it for a string")
                return None
            try:
                number = float(text)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
                self.fail(node, ptr, f"{text} is beyond the range of a JSON number (a double)")
                return None
        else:
            self.fail(node, ptr, _untyped(tag))
            return None
        self.fail(node, ptr, f"{text!r} is not a value of its tag {_short(tag)}")
        return None


def _integer(text: str) -> int:
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if not digits.isdigit():
        raise ValueError(text)
    return sign * int(digits, 10)  # `010` is ten: YAML 1.2 has no octal without `0o`


def _short(tag: str) -> str:
    return "!!" + tag[len(TAG) :] if tag.startswith(TAG) else tag


def _untyped(tag: str) -> str:
    return (
        f"the tag {_short(tag)} has no JSON value (an OpenAPI document is JSON data); remove the tag, or quote the "
        "value to keep it as text"
    )
