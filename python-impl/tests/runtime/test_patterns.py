"""Patterns are ECMA-262: the validator reads each as the Node runtime's engine does (with the `u` flag, or without
it when the flag makes the pattern an error). The expected matches below are what Node 20 answers."""

from __future__ import annotations

from typing import Any

import pytest
from twinapi_runtime.server import serve_from_env
from twinapi_runtime.validation import InvalidPattern, Validators, ecma_pattern, ecma_patterns, errors_of

NODE_READS = [
    # Not valid with `u` (no property LD or Punct): `\p` is a plain `p`, the braces plain braces.
    (r"^(\p{LD}|\p{Punct}| )+$", {"p{LD}p{Punct} ": True, " ": True, "abc": False, "!": False}),
    (r"^\p{Punct}$", {"p{Punct}": True, "!": False}),
    (r"^\p{L}+$", {"héllo": True, "a1": False}),
    (r"^\p{Script=Greek}$", {"α": True, "a": False}),
    (r"^x{2,$", {"x{2,": True, "xx": False}),
    (r"^[\d-z]$", {"-": True, "z": True, "5": True, "a": False}),
    (r"^\0$", {"\0": True, "0": False}),
    (r"^\8\e$", {"8e": True}),
    (r"^\c1$", {"\\c1": True}),
    (r"^(?<n>a)\k<n>$", {"aa": True, "ab": False}),
    (r"^\u{41}$", {"A": True}),
    (r"^a]$", {"a]": True}),
    (r"^[]$", {"": False, "a": False}),
    (r"^[^]$", {"\n": True}),
    (r"^[\w\-]+$", {"a-b": True, "a b": False}),
    (r"^\d{3}$", {"123": True, "١٢٣": False}),
    (r"^\<a\>$", {"<a>": True, "a": False}),  # `\<` is a word boundary to the Rust engine
    (r"^[\w&&\d]$", {"&": True, "a": True}),  # `&&` is an intersection to it
]


@pytest.mark.parametrize(("pattern", "cases"), NODE_READS)
def test_a_pattern_matches_what_node_matches(pattern: str, cases: dict[str, bool]) -> None:
    spec = {"components": {"schemas": {"S": {"type": "string", "pattern": pattern}}}}
    validator = Validators(spec, {}).compile("/components/schemas/S")
    assert {value: not errors_of(validator, value, "v") for value in cases} == cases


def test_a_pattern_the_validator_takes_as_written_is_left_alone() -> None:
    assert ecma_pattern(r"^[a-z0-9_-]{1,64}$") == r"^[a-z0-9_-]{1,64}$"


def test_pattern_property_names_are_patterns_too() -> None:
    spec = {"components": {"schemas": {"S": {"patternProperties": {r"^\p{X}$": {"type": "integer"}}}}}}
    validator = Validators(spec, {}).compile("/components/schemas/S")
    assert not errors_of(validator, {"p{X}": 1, "other": "s"}, "v")
    assert errors_of(validator, {"p{X}": "s"}, "v")


def test_examples_and_extensions_hold_data_not_patterns() -> None:
    spec: dict[str, Any] = {
        "components": {
            "schemas": {
                "S": {
                    "type": "object",
                    "example": {"pattern": "("},
                    "x-rules": {"pattern": "("},
                    "properties": {"example": {"type": "string", "pattern": "^a{$"}},
                }
            }
        }
    }
    walked = ecma_patterns(spec)
    schema = walked["components"]["schemas"]["S"]
    assert schema["example"] == {"pattern": "("} and schema["x-rules"] == {"pattern": "("}
    assert schema["properties"]["example"]["pattern"] == r"^a\{$"


def test_a_pattern_no_engine_compiles_names_its_place() -> None:
    spec = {"components": {"schemas": {"S": {"properties": {"a/b": {"type": "string", "pattern": "(ab"}}}}}}
    with pytest.raises(InvalidPattern, match=r"^/components/schemas/S/properties/a~1b/pattern: '\(ab' is not"):
        Validators(spec, {})


def test_a_server_with_such_a_pattern_stops_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    spec = {"components": {"schemas": {"S": {"type": "string", "pattern": "[a-"}}}}

    def create_app() -> Any:
        Validators(spec, {})
        raise AssertionError("unreachable")

    assert serve_from_env(create_app, default_port=0) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: /components/schemas/S/pattern: '[a-' is not an ECMA-262 regular expression")
    assert "Traceback" not in err and err.count("\n") == 1
