"""Request validation exactly as the contract states it: JSON Schema with the shared formats, no coercion of bodies.

Parameters arrive as strings; they are converted by the same small rule set the Node runtime uses before the
schema sees them, so `limit=5` is an integer in both implementations and `limit=5.0` is an error in both.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jsonschema_rs

INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
SPEC_URI = "urn:twinapi:spec"
ANYTHING = jsonschema_rs.Draft202012Validator(True)
POINTER_SAFE = "/~-._!$&'()*+,;=:@"  # what a URI fragment may hold as is; the rest is percent-encoded


def _calendar_check(pattern: re.Pattern[str], kind: str | None) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        match = pattern.fullmatch(value)
        if match is None:
            return False
        if kind is None:
            return True
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
            return False
        if kind == "date-time":
            hour, minute, second = int(match[4]), int(match[5]), int(match[6])
            if hour > 23 or minute > 59 or second > 60:
                return False
            if match[7] is not None and (int(match[7]) > 23 or int(match[8]) > 59):
                return False
        return True

    return check


def format_checkers(formats: Mapping[str, tuple[str, str | None]]) -> dict[str, Callable[[str], bool]]:
    return {name: _calendar_check(re.compile(pattern), kind) for name, (pattern, kind) in formats.items()}


def _formats_used(node: Any, found: set[str]) -> set[str]:
    """Every string value of a `format` keyword, as the Node runtime collects them."""
    if isinstance(node, list):
        for item in node:
            _formats_used(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "format" and isinstance(value, str):
                found.add(value)
            else:
                _formats_used(value, found)
    return found


def _annotation(value: str) -> bool:
    return True


class Validators:
    """Compiles validators for pointers into one spec; `$ref`s resolve against the whole document.

    Formats the kit does not define are annotations, as in the Node runtime: the validator's own checks of `uri`,
    `ipv4`, `time` and the like would refuse strings Node accepts.

    Raises InvalidPattern, naming its place, for a pattern of the spec that no ECMA-262 engine compiles."""

    def __init__(self, spec: dict[str, Any], formats: Mapping[str, tuple[str, str | None]]) -> None:
        self._registry = jsonschema_rs.Registry([(SPEC_URI, ecma_patterns(spec))])
        self._formats = {name: _annotation for name in _formats_used(spec, set())} | format_checkers(formats)

    def compile(self, pointer: str) -> jsonschema_rs.Draft202012Validator:
        return jsonschema_rs.Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{quote(pointer, safe=POINTER_SAFE)}"},
            registry=self._registry,
            formats=self._formats,
            validate_formats=True,
        )


def errors_of(validator: jsonschema_rs.Draft202012Validator, value: Any, location: str) -> list[dict[str, str]]:
    if validator.is_valid(value):
        return []
    return [
        {"location": location + "".join("/" + _escape(str(p)) for p in err.instance_path), "message": err.message}
        for err in validator.iter_errors(value)
    ]


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def scalar_kind(schema: Any, resolve: Callable[[Any], Any]) -> str | None:
    """`integer`, `number` or `boolean` when a parameter's schema asks for exactly that scalar type."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return None
    types = schema.get("type")
    if isinstance(types, list):
        types = [t for t in types if t != "null"]
        types = types[0] if len(types) == 1 else None
    return types if types in ("integer", "number", "boolean") else None


def coerce(value: str, kind: str | None) -> Any:
    """A parameter string as the type its schema wants, when it is exactly that type's spelling."""
    if kind == "integer" and INTEGER.match(value):
        return int(value)
    if kind == "number" and NUMBER.match(value):
        number = float(value)
        return int(number) if INTEGER.match(value) else number
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str  # path, query, header or cookie
    required: bool
    array: bool
    explode: bool
    kind: str | None  # the scalar kind of the value, or of each item of an array
    default: Any
    has_default: bool
    validator: jsonschema_rs.Draft202012Validator
    style: str
    fields: dict[str, str | None] | None  # an object parameter's properties and their scalar kinds

    @property
    def where(self) -> str:
        return f"{self.location}/{self.name}"


# ------------------------------------------------------------------------------------------- ECMA-262 patterns

# The property names ECMA-262 allows in `\p{...}` under the `u` flag (General_Category values and binary
# properties, each by every alias); `Script=` and `Script_Extensions=` values are left to the Rust engine.
_GENERAL_CATEGORIES = frozenset(
    """Cased_Letter LC Close_Punctuation Pe Connector_Punctuation Pc Control Cc cntrl Currency_Symbol Sc
    Dash_Punctuation Pd Decimal_Number Nd digit Enclosing_Mark Me Final_Punctuation Pf Format Cf
    Initial_Punctuation Pi Letter L Letter_Number Nl Line_Separator Zl Lowercase_Letter Ll Mark M Combining_Mark
    Math_Symbol Sm Modifier_Letter Lm Modifier_Symbol Sk Nonspacing_Mark Mn Number N Open_Punctuation Ps Other C
    Other_Letter Lo Other_Number No Other_Punctuation Po Other_Symbol So Paragraph_Separator Zp Private_Use Co
    Punctuation P punct Separator Z Space_Separator Zs Spacing_Mark Mc Surrogate Cs Symbol S Titlecase_Letter Lt
    Unassigned Cn Uppercase_Letter Lu""".split()
)
_BINARY_PROPERTIES = frozenset(
    """ASCII ASCII_Hex_Digit AHex Alphabetic Alpha Any Assigned Bidi_Control Bidi_C Bidi_Mirrored Bidi_M
    Case_Ignorable CI Cased Changes_When_Casefolded CWCF Changes_When_Casemapped CWCM Changes_When_Lowercased CWL
    Changes_When_NFKC_Casefolded CWKCF Changes_When_Titlecased CWT Changes_When_Uppercased CWU Dash
    Default_Ignorable_Code_Point DI Deprecated Dep Diacritic Dia Emoji Emoji_Component EComp Emoji_Modifier EMod
    Emoji_Modifier_Base EBase Emoji_Presentation EPres Extended_Pictographic ExtPict Extender Ext Grapheme_Base
    Gr_Base Grapheme_Extend Gr_Ext Hex_Digit Hex IDS_Binary_Operator IDSB IDS_Trinary_Operator IDST ID_Continue
    IDC ID_Start IDS Ideographic Ideo Join_Control Join_C Logical_Order_Exception LOE Lowercase Lower Math
    Noncharacter_Code_Point NChar Pattern_Syntax Pat_Syn Pattern_White_Space Pat_WS Quotation_Mark QMark Radical
    Regional_Indicator RI Sentence_Terminal STerm Soft_Dotted SD Terminal_Punctuation Term Unified_Ideograph UIdeo
    Uppercase Upper Variation_Selector VS White_Space space XID_Continue XIDC XID_Start XIDS""".split()
)
_SYNTAX = frozenset("^$\\.*+?()[]{}|/")
_RUST_META = frozenset("\\.+*?()|[]{}^$#&-~")
_CLASS_ESCAPES = frozenset("dDwWsS")
_CONTROLS = {"f": "\\f", "n": "\\n", "r": "\\r", "t": "\\t", "v": "\\x0B"}
_QUANTIFIER = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_GROUP = re.compile(r"\\.|\[(?:\\.|[^\]\\])*\]|\((?!\?)|\(\?<(?![=!])([^>]*)>", re.DOTALL)


class InvalidPattern(ValueError):
    """A `pattern` (or `patternProperties` name) no ECMA-262 engine compiles: the server must not start."""


def _compiles(pattern: str) -> bool:
    try:
        jsonschema_rs.Draft202012Validator({"pattern": pattern})
    except (jsonschema_rs.ValidationError, ValueError):
        return False
    return True


def _known_property(name: str) -> bool:
    key, _, value = name.partition("=")
    if not value:
        return key in _GENERAL_CATEGORIES or key in _BINARY_PROPERTIES
    if key in ("General_Category", "gc"):
        return value in _GENERAL_CATEGORIES
    return key in ("Script", "sc", "Script_Extensions", "scx") and _compiles(f"\\p{{{name}}}")


def _literal(char: str) -> str:
    """One character, spelled so that the Rust engine reads it literally (where `\\<` would be a word boundary)."""
    if not char.isprintable():
        return f"\\x{{{ord(char):X}}}"
    return "\\" + char if char in _RUST_META else char


def _hex(text: str, size: int) -> bool:
    return len(text) == size and all(c in "0123456789abcdefABCDEF" for c in text)


def _escape_at(pattern: str, i: int, unicode: bool, in_class: bool, names: list[str]) -> tuple[str, int] | None:
    """The escape at pattern[i] (a backslash) in the Rust engine's spelling and where it ends; None if invalid.

    `names` are the capturing groups in order, "" for an unnamed one.
    """
    if i + 1 >= len(pattern):
        return None
    e, i = pattern[i + 1], i + 2
    groups = len(names)
    if e == "k" and any(names):  # a named back reference, which the Rust engine knows by number only
        name = re.match(r"<([^>]*)>", pattern[i:])
        if name is None or name[1] not in names:
            return None
        return f"\\{names.index(name[1]) + 1}", i + name.end()
    if e in _CLASS_ESCAPES or (e in "bB" and not in_class):
        return "\\" + e, i
    if e == "b":
        return "\\x08", i
    if e in _CONTROLS:
        return _CONTROLS[e], i
    if e == "c" and pattern[i : i + 1].isascii() and pattern[i : i + 1].isalpha():
        return f"\\x{{{ord(pattern[i]) % 32:X}}}", i + 1
    if e == "x" and _hex(pattern[i : i + 2], 2):
        return f"\\x{{{pattern[i : i + 2]}}}", i + 2
    if e == "u" and _hex(pattern[i : i + 4], 4):
        return f"\\x{{{pattern[i : i + 4]}}}", i + 4
    if unicode:
        braced = re.match(r"\{([^}]*)\}", pattern[i:])
        if e == "u" and braced and braced[1] and _hex(braced[1], len(braced[1])) and int(braced[1], 16) <= 0x10FFFF:
            return f"\\x{{{braced[1]}}}", i + braced.end()
        if e in "pP":
            return (f"\\{e}{{{braced[1]}}}", i + braced.end()) if braced and _known_property(braced[1]) else None
        if e == "0" and not pattern[i : i + 1].isdigit():
            return "\\x{0}", i
        if e.isdigit() and e != "0" and not in_class:
            digits = re.match(r"[0-9]*", pattern[i:])
            number = int(e + (digits[0] if digits else ""))
            return (f"\\{number}", i + len(digits[0] if digits else "")) if number <= groups else None
        return ("\\" + e, i) if e in _SYNTAX or (e == "-" and in_class) else None
    # Annex B: legacy octal escapes, back references only to groups that exist, every other escape an identity.
    if e.isdigit():
        digits = re.match(r"[0-9]*", pattern[i:])
        number = int(e + (digits[0] if digits else ""))
        if e != "0" and not in_class and number <= groups:
            return f"\\{number}", i + len(digits[0] if digits else "")
        octal = re.match(r"[0-7]{1,3}", pattern[i - 1 :])
        if octal and int(octal[0], 8) < 256:
            return f"\\x{{{int(octal[0], 8):X}}}", i - 1 + len(octal[0])
        if octal:
            return f"\\x{{{int(octal[0][:2], 8):X}}}", i + 1
    if e == "c":
        return "\\\\c", i
    return _literal(e), i


def _translated(pattern: str, unicode: bool) -> str | None:
    """An ECMA-262 pattern, with or without the `u` flag, in the Rust engine's terms; None if it is invalid so."""
    names = [m[1] or "" for m in _GROUP.finditer(pattern) if m[0].startswith("(")]
    out: list[str] = []
    i, in_class, after_set = 0, False, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            escaped = _escape_at(pattern, i, unicode, in_class, names)
            if escaped is None:
                return None
            if in_class and escaped[0][:2] in {"\\" + s for s in _CLASS_ESCAPES} | {"\\p", "\\P"}:
                if out[-1:] == ["-"]:
                    if unicode:
                        return None
                    out[-1] = "\\-"
                after_set = True
            else:
                after_set = False
            out.append(escaped[0])
            i = escaped[1]
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "-" and after_set and pattern[i + 1 : i + 2] != "]":
                if unicode:
                    return None
                c = "\\-"
            elif c in "[&~":
                c = "\\" + c  # set operations for the Rust engine, plain characters here
            out.append(c)
            after_set = False
            i += 1
            continue
        if c == "[":
            negated = pattern[i + 1 : i + 2] == "^"
            start = i + 1 + negated
            if pattern[start : start + 1] == "]":  # `[]` matches nothing, `[^]` any character
                out.append("[\\s\\S]" if negated else "[^\\s\\S]")
                i = start + 1
                continue
            out.append("[^" if negated else "[")
            in_class, after_set, i = True, False, start
            continue
        if c == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            if quantifier and out and out[-1] not in ("(", "|"):
                out.append(quantifier[0])
                i = quantifier.end()
                continue
            if unicode:
                return None
            c = "\\{"
        elif c in "}]":
            if unicode:
                return None
            c = "\\" + c
        out.append(c)
        i += 1
    return None if in_class else "".join(out)


def ecma_pattern(pattern: str) -> str:
    """A pattern as the validator must compile it to read it as the Node runtime does.

    ECMA-262 engines compile it with the `u` flag, or without it (Annex B) when the `u` flag makes it an error,
    where `\\p` is a plain `p` and a lone `{` a brace. A pattern valid with the `u` flag stays as written when the
    Rust engine accepts it that way (the validator reads ECMA-262 classes such as `\\d` itself).
    """
    unicode = _translated(pattern, True)
    candidates = [pattern, unicode] if unicode is not None else [_translated(pattern, False)]
    for candidate in candidates:
        if candidate is not None and _compiles(candidate):
            return candidate
    raise InvalidPattern(f"{pattern!r} is not an ECMA-262 regular expression the validator can compile")


# Keys whose values are data or annotations, not schemas: patterns inside them are not regexes.
_NOT_SCHEMAS = frozenset({"example", "examples", "default", "enum", "const", "description", "title"})
_NAMES = frozenset(
    {
        "properties",
        "$defs",
        "definitions",
        "dependentSchemas",
        "schemas",
        "paths",
        "responses",
        "parameters",
        "headers",
        "content",
        "requestBodies",
        "callbacks",
        "links",
        "securitySchemes",
        "pathItems",
        "encoding",
        "mapping",
        "variables",
        "webhooks",
    }
)


def ecma_patterns(spec: dict[str, Any]) -> dict[str, Any]:
    """The document with every `pattern` and `patternProperties` name in the validator's terms.

    Raises InvalidPattern naming the pointer of a pattern that cannot be compiled at all.
    """
    cache: dict[str, str] = {}

    def read(pattern: str, pointer: str) -> str:
        if pattern not in cache:
            try:
                cache[pattern] = ecma_pattern(pattern)
            except InvalidPattern as exc:
                raise InvalidPattern(f"{pointer or '/'}: {exc}") from None
        return cache[pattern]

    def walk(node: Any, pointer: str, names: bool) -> Any:
        if isinstance(node, list):
            return [walk(item, f"{pointer}/{i}", False) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = f"{pointer}/{_escape(key)}"
            if names:
                out[key] = walk(value, here, False)
            elif key in _NOT_SCHEMAS or key.startswith("x-"):
                out[key] = value
            elif key == "pattern" and isinstance(value, str):
                out[key] = read(value, here)
            elif key == "patternProperties" and isinstance(value, dict):
                out[key] = {
                    read(name, f"{here}/{_escape(name)}"): walk(v, f"{here}/{_escape(name)}", False)
                    for name, v in value.items()
                }
            else:
                out[key] = walk(value, here, key in _NAMES)
        return out

    walked: dict[str, Any] = walk(spec, "", False)
    return walked
