"""OpenAPI Overlays: listed in twinapi.toml, applied in order to the spec as read, covered by `check`; every mistake
in one is located in the overlay (file:line: /pointer:) and nothing is written."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, Project
from test_cli import _run

from twinapi_codegen import contract, errors, loader, settings
from twinapi_codegen.errors import SpecError
from twinapi_codegen.generate import render

SPEC = """\
openapi: 3.1.0
info:
  title: T
  version: "1"
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - name: a
          in: query
          schema: {type: string}
        - name: b
          in: query
          schema: {type: string}
        - name: c
          in: query
          schema: {type: string}
      responses:
        "200":
          description: The items.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Item"
components:
  schemas:
    Item:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
        tags: {type: array, items: {type: string}}
"""
HEAD = 'overlay: 1.0.0\ninfo: {title: t, version: "1"}\nactions:\n'


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "openapi.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _overlay(tmp_path: Path, actions: str, name: str = "fix.overlay.yaml", head: str = HEAD) -> Path:
    path = tmp_path / name
    path.write_text(head + actions, encoding="utf-8")
    return path


def _refused(spec: Path, *overlays: Path) -> list[str]:
    with pytest.raises(SpecError) as refused:
        loader.load(spec, overlays)
    assert refused.value.file == str(spec)
    return [p.render(refused.value.file) for p in refused.value.problems]


def _item(doc: loader.Document) -> Any:
    return doc.data["components"]["schemas"]["Item"]


def test_update_merges_objects_recursively_concatenates_arrays_and_replaces_the_rest(spec: Path) -> None:
    fix = _overlay(
        spec.parent,
        """\
  - target: $.components.schemas.Item
    update:
      required: [tags]
      description: An item.
      properties:
        name: {type: [string, "null"], maxLength: 80}
""",
    )
    item = _item(loader.load(spec, [fix]))
    assert item["required"] == ["id", "name", "tags"]
    assert item["description"] == "An item."
    assert item["properties"]["name"] == {"type": ["string", "null"], "maxLength": 80}
    assert item["properties"]["id"] == {"type": "integer"}  # untouched


def test_an_update_of_an_array_appends_to_it(spec: Path) -> None:
    fix = _overlay(
        spec.parent,
        """\
  - target: $.paths['/items'].get.parameters
    update: {name: d, in: query, schema: {type: string}}
  - target: $.paths['/items'].get.parameters
    update:
      - {name: e, in: query, schema: {type: string}}
""",
    )
    params = loader.load(spec, [fix]).data["paths"]["/items"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["a", "b", "c", "d", "e"]


def test_remove_takes_every_selected_node_out_of_its_container(spec: Path) -> None:
    fix = _overlay(
        spec.parent,
        """\
  - target: $.paths['/items'].get.parameters[?@.name != 'b']
    remove: true
  - target: $.components.schemas.Item.required[?@ == 'name']
    remove: true
""",
    )
    doc = loader.load(spec, [fix])
    assert [p["name"] for p in doc.data["paths"]["/items"]["get"]["parameters"]] == ["b"]
    assert _item(doc)["required"] == ["id"]


def test_actions_and_overlays_apply_in_order_each_to_the_result_of_the_one_before(spec: Path) -> None:
    first = _overlay(
        spec.parent,
        """\
  - target: $.components.schemas.Item.properties.tags
    remove: true
  - target: $.components.schemas.Item.properties
    update:
      tags: {type: array, items: {type: integer}}
""",
        "1.yaml",
    )
    second = _overlay(
        spec.parent,
        "  - target: $.components.schemas.Item.properties.tags\n    update: {maxItems: 3}\n",
        "2.yaml",
    )
    tags = _item(loader.load(spec, [first, second]))["properties"]["tags"]
    assert tags == {"type": "array", "items": {"type": "integer"}, "maxItems": 3}
    # The other way round, `first` replaces what `second` added to the spec's own `tags`.
    tags = _item(loader.load(spec, [second, first]))["properties"]["tags"]
    assert tags == {"type": "array", "items": {"type": "integer"}}


def test_a_target_that_selects_nothing_is_located_in_the_overlay(spec: Path) -> None:
    fix = _overlay(spec.parent, "  - target: $.components.schemas.Itme\n    update: {description: x}\n")
    [message] = _refused(spec, fix)
    assert message.startswith(f"{fix}:4: /actions/0/target: ")
    assert "`$.components.schemas.Itme` selects nothing in openapi.yaml" in message
    assert "out of date with the spec" in message


def test_a_bad_jsonpath_is_located_and_explained(spec: Path) -> None:
    fix = _overlay(
        spec.parent,
        "  - target: $.paths[?@.get\n    update: {x-a: 1}\n  - target: paths.items\n    update: {x-b: 1}\n",
    )
    first, second = _refused(spec, fix)
    assert first.startswith(f"{fix}:4: /actions/0/target: `$.paths[?@.get` is not an RFC 9535 JSONPath query: ")
    assert first.endswith("(at its end: something is not closed)")
    assert second == (
        f"{fix}:6: /actions/1/target: `paths.items` is not an RFC 9535 JSONPath query: "
        "it must start with `$`, the document's root"
    )


@pytest.mark.parametrize(
    ("text", "pointer", "said"),
    [
        ("actions: []\n", "/actions", "`actions` is required: a list of one action or more"),
        ("overlay: 1.1.0\n", "/overlay", "Overlay 1.1.0 is not supported: this generator applies Overlay 1.0.x"),
        ("overlay: 1.0\n", "/overlay", '`overlay` must be a string such as "1.0.0"'),
        ("info: {title: t}\n", "/info", "`info.version` is required, a string"),
        ("actions:\n  - {target: $.info, copy: $.x}\n", "/actions/0/copy", "unknown field `copy`"),
        ("actions:\n  - {target: $.info, update: {}, remove: true}\n", "/actions/0", "both `update` and `remove"),
        ("actions:\n  - {target: $.info}\n", "/actions/0", "the action does nothing"),
        ("actions:\n  - {update: {}}\n", "/actions/0", "`target` is required"),
        ("actions:\n  - {target: $.info, remove: yes}\n", "/actions/0/remove", "must be true or false"),
        ("extras: 1\n", "/extras", "unknown field `extras`"),
    ],
)
def test_an_invalid_overlay_document_is_refused_located(spec: Path, text: str, pointer: str, said: str) -> None:
    base = {"overlay": "overlay: 1.0.0\n", "info": 'info: {title: t, version: "1"}\n'}
    base["actions"] = "actions:\n  - {target: $.info, update: {x-a: 1}}\n"
    key = text.split(":", 1)[0]
    base[key] = text
    fix = _overlay(spec.parent, "".join(base.values()), head="")
    messages = _refused(spec, fix)
    assert any(f": {pointer}: " in m and said in m for m in messages), messages
    assert all(m.startswith(f"{fix}:") for m in messages)


def test_an_overlay_that_is_no_yaml_or_no_mapping_is_refused(spec: Path) -> None:
    broken = _overlay(spec.parent, "  - target: [\n", "broken.yaml")
    [message] = _refused(spec, broken)
    assert message.startswith(f"{broken}:") and "not valid YAML" in message
    listed = _overlay(spec.parent, "", "list.yaml", head="- 1\n")
    assert "an overlay must be a mapping" in _refused(spec, listed)[0]


def test_an_update_of_a_primitive_or_the_root_removed_is_refused(spec: Path) -> None:
    fix = _overlay(
        spec.parent,
        "  - target: $.info.title\n    update: New\n  - target: $\n    remove: true\n"
        "  - target: $.info\n    update: [1]\n",
    )
    title, root, info = _refused(spec, fix)
    assert "/actions/0/target: the target selects a string at /info/title" in title
    assert "select the object that holds the value" in title
    assert "/actions/1/target: the target selects the document's root" in root
    assert "/actions/2/update: the target selects an object (/info)" in info


def test_a_problem_in_what_an_overlay_wrote_is_located_in_the_overlay(spec: Path) -> None:
    fix = _overlay(
        spec.parent,
        """\
  - target: $.components.schemas.Item.properties.name
    update:
      description: The name.
      minLength: eight
""",
    )
    # The overlay's value: its own file and line, with the pointer into the overlaid document.
    [message] = _refused(spec, fix)
    assert message.startswith(f"{fix}:7: /components/schemas/Item/properties/name/minLength: not a valid JSON Schema")


def test_a_node_of_the_spec_that_an_overlay_moved_keeps_its_line(spec: Path) -> None:
    fix = _overlay(spec.parent, "  - target: $.paths['/items'].get.parameters[0]\n    remove: true\n")
    spec.write_text(SPEC.replace("- name: c\n          in: query", "- name: c\n          in: body"), encoding="utf-8")
    messages = _refused(spec, fix)
    # parameters[2] of the file is parameters[1] once [0] is removed; it is still found on its own lines.
    located = re.compile(rf"{re.escape(str(spec))}:1[67]: /paths/~1items/get/parameters/1")
    assert messages and all(located.match(m) for m in messages), messages


def test_the_golden_overlays_correct_what_the_spec_says(project: Project) -> None:
    targets = project("overlaid")
    assert len(targets.overlays) == 2
    outputs = render(targets)
    assert targets.python_dir is not None
    document = json.loads(outputs[targets.python_dir / contract.FILE_NAME])
    # /openapi.json serves the corrected spec: the contract the servers enforce, and the one clients are made from.
    spec = document["spec"]
    assert spec["paths"]["/articles/{slug}"]["get"]["security"] == [{"Token": []}, {}]
    follow = spec["paths"]["/profiles/{username}/follow"]["post"]
    assert follow["requestBody"]["required"] is False and "description" in follow["requestBody"]
    assert sorted(follow["responses"]) == ["200", "403", "404"]
    assert "/internal/reindex" not in spec["paths"]
    profile = spec["components"]["schemas"]["Profile"]
    assert profile["required"] == ["username", "image"] and profile["properties"]["image"]["type"] == ["string", "null"]
    assert document["x-generated"].endswith(
        "from openapi.yaml with overlays/01-docs.overlay.yaml, overlays/02-local.overlay.yaml"
    )


# The command line and twinapi.toml.


def _project(tmp_path: Path, overlays: list[str]) -> None:
    shutil.copy(DATA / "overlaid.yaml", tmp_path / "openapi.yaml")
    for source in sorted((DATA / "overlays" / "overlaid").glob("*.yaml")):
        (tmp_path / "overlays").mkdir(exist_ok=True)
        shutil.copy(source, tmp_path / "overlays" / source.name)
    (tmp_path / settings.FILE_NAME).write_text(settings.render(overlays), encoding="utf-8")


def test_check_covers_the_overlays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, ["overlays/01-docs.overlay.yaml", "overlays/02-local.overlay.yaml"])
    assert _run(tmp_path, "generate") == 0
    assert _run(tmp_path, "check") == 0
    contract_file = tmp_path / "ts" / contract.FILE_NAME
    assert "/internal/reindex" not in json.loads(contract_file.read_text(encoding="utf-8"))["spec"]["paths"]
    local = tmp_path / "overlays" / "02-local.overlay.yaml"
    local.write_text(local.read_text().replace("cannot follow themselves", "may not follow themselves"))
    capsys.readouterr()
    assert _run(tmp_path, "check") == 1
    err = capsys.readouterr().err
    assert f"out of date: {contract_file}" in err and "run `make generate`" in err
    # Dropping an overlay from twinapi.toml makes the outputs stale too.
    assert _run(tmp_path, "generate") == 0
    (tmp_path / settings.FILE_NAME).write_text(settings.render(["overlays/01-docs.overlay.yaml"]), encoding="utf-8")
    assert _run(tmp_path, "check") == 1


def test_a_bad_overlay_stops_generate_located_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, ["overlays/01-docs.overlay.yaml"])
    docs = tmp_path / "overlays" / "01-docs.overlay.yaml"
    docs.write_text(docs.read_text().replace("$.components.schemas.Profile.properties.image", "$.components.Profile"))
    assert _run(tmp_path, "generate") == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'openapi.yaml'} cannot be generated from; nothing was written." in err
    assert "overlays/01-docs.overlay.yaml:21: /actions/2/target: `$.components.Profile` selects nothing" in err
    assert "Traceback" not in err
    assert not (tmp_path / "py").exists() and not (tmp_path / "ts").exists()


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('[spec]\noverlay = ["x.yaml"]\n', "unknown setting `spec.overlay`; [spec] has `overlays`"),
        ('overlays = ["x.yaml"]\n', "unknown setting `overlays`"),
        ('[spec]\noverlays = "x.yaml"\n', "`spec.overlays` must be a list of overlay file paths"),
        ('[spec]\noverlays = ["missing.yaml"]\n', "`spec.overlays` names no such file"),
        ("[spec\n", "not valid TOML"),
    ],
)
def test_a_bad_twinapi_toml_is_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, said: str
) -> None:
    _project(tmp_path, [])
    (tmp_path / settings.FILE_NAME).write_text(toml, encoding="utf-8")
    assert _run(tmp_path, "generate") == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / settings.FILE_NAME}: " in err and said in err and "nothing was written" in err
    assert not (tmp_path / "py").exists()


def test_an_extends_that_names_another_document_is_a_located_warning(spec: Path) -> None:
    head = HEAD.replace("actions:\n", "extends: ./other.yaml\nactions:\n")
    fix = _overlay(spec.parent, "  - target: $.info\n    update: {x-checked: true}\n", head=head)
    with errors.collecting() as warnings:
        doc = loader.load(spec, [fix])
    assert doc.data["info"]["x-checked"] is True  # applied all the same
    [warning] = warnings
    assert warning.render(str(spec)) == (
        f"{fix}:3: /extends: warning: `extends` names ./other.yaml, but the overlay is applied to {spec}"
    )
    same = _overlay(
        spec.parent,
        "  - target: $.info\n    update: {x-checked: true}\n",
        "same.yaml",
        head.replace("other", "openapi"),
    )
    with errors.collecting() as warnings:
        loader.load(spec, [same])
    assert warnings == []
