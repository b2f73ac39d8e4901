"""The spec is read the YAML 1.2 core-schema way, into JSON data; what JSON cannot hold is refused, located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA

from twinapi_codegen import loader, yaml12
from twinapi_codegen.errors import SpecError


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("on", "on"),
        ("off", "off"),
        ("yes", "yes"),
        ("No", "No"),
        ("y", "y"),
        ("true", True),
        ("FALSE", False),
        ("2026-01-01", "2026-01-01"),
        ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z"),
        ("2026-01-01 10:00:00", "2026-01-01 10:00:00"),
        ("10:30", "10:30"),
        ("1:20", "1:20"),
        ("1:20.5", "1:20.5"),
        ("010", 10),
        ("0o10", 8),
        ("0x1F", 31),
        ("-0o7", "-0o7"),  # the core schema's octal has no sign
        ("0b11", "0b11"),
        ("1_000", "1_000"),
        ("+12", 12),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("~", None),
        ("Null", None),
        ("", None),
        ("!!str 010", "010"),
        ('"on"', "on"),
    ],
)
def test_scalars_are_read_as_the_core_schema_and_the_yaml_package_read_them(written: str, value: object) -> None:
    data, _ = yaml12.read(f"v: {written}\n")
    assert data == {"v": value} and type(data["v"]) is type(value)


def test_keys_are_the_text_written() -> None:
    data, lines = yaml12.read("responses:\n  200: {}\n  010: {}\n  on: {}\n  1.50: {}\n")
    assert list(data["responses"]) == ["200", "010", "on", "1.50"]
    assert lines["/responses/010"] == 3


@pytest.mark.parametrize(
    ("text", "line", "ptr", "message"),
    [
        ("a: 1\nb: .inf\n", 2, "/b", "no JSON number"),
        ("a: -.Inf\n", 1, "/a", "no JSON number"),
        ("a:\n  - .nan\n", 2, "/a/0", "no JSON number"),
        ("a: 1e400\n", 1, "/a", "beyond the range of a JSON number"),
        ("a: !!binary aGVsbG8=\n", 1, "/a", "the tag !!binary has no JSON value"),
        ("a: !!timestamp 2026-01-01\n", 1, "/a", "the tag !!timestamp has no JSON value"),
        ("a: !!set {x, y}\n", 1, "/a", "the tag !!set has no JSON value"),
        ("a: !!omap [{x: 1}]\n", 1, "/a", "the tag !!omap has no JSON value"),
        ("a: !custom x\n", 1, "/a", "the tag !custom has no JSON value"),
        ("a: !!int twelve\n", 1, "/a", "'twelve' is not a value of its tag !!int"),
        ("a: 1\nb:\n  c: 1\n  c: 2\n", 4, "/b/c", "the key 'c' appears twice"),
        ("a:\n  ? [x, y]\n  : 1\n", 2, "/a", "a mapping key must be a string"),
        ("a: &x\n  b: *x\n", 1, "/a/b", "an alias refers to a node that contains it"),  # line of the node
        ("a: [1, 2\n", 2, "", "not valid YAML or JSON"),
    ],
)
def test_what_json_cannot_hold_is_refused_where_it_is(text: str, line: int, ptr: str, message: str) -> None:
    with pytest.raises(yaml12.YamlProblems) as refused:
        yaml12.read(text)
    [problem] = refused.value.problems
    assert (problem.line, problem.pointer) == (line, ptr)
    assert message in problem.message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(yaml12.YamlProblems) as refused:
        yaml12.read("a: .inf\nb: !!binary eA==\nc: ok\n")
    assert [(p.line, p.pointer) for p in refused.value.problems] == [(1, "/a"), (2, "/b")]


def test_merge_keys_merge_and_keys_written_beside_them_win() -> None:
    data, lines = yaml12.read("base: &b {x: 1, y: 2}\nmore: &m {y: 5, z: 3}\nc:\n  <<: [*b, *m]\n  y: 9\n")
    assert data["c"] == {"y": 9, "x": 1, "z": 3}
    assert lines["/c/y"] == 5
    assert yaml12.read('c: {"<<": 1}\n')[0] == {"c": {"<<": 1}}  # quoted, it is a key like any other


def test_aliases_are_copies_not_shared_objects() -> None:
    data, _ = yaml12.read("a: &x {b: 1}\nc: *x\n")
    assert data["a"] == data["c"] and data["a"] is not data["c"]


def test_an_alias_bomb_is_refused_not_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml12, "MAX_NODES", 1000)
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    with pytest.raises(yaml12.YamlProblems) as refused:
        yaml12.read("\n".join(levels) + "\n")
    assert "expands to more than 1,000 values" in refused.value.problems[0].message


def test_the_spec_of_the_issue_generates_with_its_date_unquoted(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    S:\n"
        "      properties:\n        state:\n          enum: [on, off]\n        when:\n          type: string\n"
        "          default: 2026-01-01\n",
        encoding="utf-8",
    )
    properties = loader.load(spec).data["components"]["schemas"]["S"]["properties"]
    assert properties == {"state": {"enum": ["on", "off"]}, "when": {"type": "string", "default": "2026-01-01"}}


def test_a_spec_with_a_value_json_lacks_is_refused_with_file_line_and_pointer(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\nx-limit: .inf\n", encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        loader.load(spec)
    assert [p.render(str(spec)) for p in refused.value.problems] == [
        f"{spec}:3: /x-limit: .inf is no JSON number (JSON has no infinity or NaN); quote it for a string"
    ]


def test_the_fixture_reads_as_its_json_copy_would() -> None:
    data = loader.load(DATA / "yaml12.yaml").data
    settings = data["components"]["schemas"]["Settings"]["properties"]
    assert settings["state"]["enum"] == ["on", "off"]
    assert settings["slot"]["enum"] == ["1:20", 10] and settings["mask"]["enum"] == [15, 31]
    assert settings["200"]["default"] == 10
    assert list(data["paths"]["/settings"]["post"]["responses"]) == ["200", "404"]
    assert data["info"]["version"] == "2026-01-01"
    json.dumps(data, allow_nan=False)  # nothing JSON lacks
