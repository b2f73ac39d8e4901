"""Pre- and post-processing around datamodel-code-generator."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from conftest import DATA, Project
from pydantic import ValidationError
from twinapi_runtime import as_model
from twinapi_runtime.validation import Validators, errors_of

from twinapi_codegen.generate import render
from twinapi_codegen.python_models import _open_kind, _overrides_note, _without_null_defaults, generate


def test_a_null_default_on_a_type_without_null_is_dropped_and_kept_elsewhere() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "default": None},
            "b": {"type": "string", "nullable": True, "default": None},
            "c": {"type": ["string", "null"], "default": None},
            "d": {"type": "string", "default": "x"},
            "e": {"type": "integer", "nullable": False},
        },
    }
    out = _without_null_defaults(schema)["properties"]
    assert out["e"] == {"type": "integer"}
    assert "default" not in out["a"]
    assert out["b"]["default"] is None and out["c"]["default"] is None and out["d"]["default"] == "x"


def test_mypy_is_told_only_when_a_model_redeclares_a_field_of_its_base() -> None:
    base = "# header\nclass A(BaseModel):\n    data: list[Any] | None = None\n"
    plain = base + "\n\nclass B(A):\n    other: int\n"
    narrowed = base + "\n\nclass B(A):\n    data: list[int] | None = None\n"
    assert _overrides_note(plain) == plain
    assert _overrides_note(narrowed).splitlines()[1] == '# mypy: disable-error-code="assignment"'


def _models(case: str, project: Project) -> ModuleType:
    """The generated models module of a fixture spec, imported."""
    targets = project(case)
    assert targets.python_dir is not None
    return _load(render(targets)[targets.python_dir / "models.py"], targets.root / f"models_{case}.py")


def _load(source: str, path: Path) -> ModuleType:
    """A generated models module, imported under a name of its own."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Every value the request schema (UserDocument: allOf of two schemas with properties but no type) accepts.
ACCEPTED = ["text", 5, 2.5, True, None, [1, "x"], {"version": "1", "user": "not an object either"}]


@pytest.mark.parametrize("value", ACCEPTED)
def test_a_schema_without_type_takes_every_value_it_accepts(value: Any, project: Project) -> None:
    models = _models("open_schemas", project)
    spec = yaml.safe_load((DATA / "open_schemas.yaml").read_text(encoding="utf-8"))
    assert not errors_of(Validators(spec, {}).compile("/components/schemas/UserDocument"), value, "body")
    document = as_model(models.UserDocument, value, "body")
    assert document.model_dump(mode="json", by_alias=True, exclude_unset=True) == value


def test_an_object_reading_keeps_its_class_and_base(project: Project) -> None:
    models = _models("open_schemas", project)
    document = as_model(models.UserDocument, {"version": "1", "user": {"name": "a"}}, "body").root
    assert isinstance(document, models.UserDocumentObject) and isinstance(document, models.DocumentObject)
    assert isinstance(document.user, models.UserObject)


def test_a_typed_allof_member_keeps_the_object_reading_only(project: Project) -> None:
    models = _models("open_schemas", project)
    with pytest.raises(ValidationError):
        models.Holder.model_validate({"typed": "text"})
    assert models.Holder.model_validate({"tags": 3, "inline": "x"}).tags == 3


def test_open_kinds() -> None:
    models = {"A": {"properties": {}}, "B": {"allOf": [{"$ref": "#/components/schemas/A"}, {"required": ["x"]}]}}
    assert _open_kind(models["B"], models) == "object"
    assert _open_kind({"allOf": [{"$ref": "#/components/schemas/A"}, {"type": "object"}]}, models) == "pinned"
    assert _open_kind({"items": {}}, models) == "array"
    assert _open_kind({"minLength": 1}, models) is None
    assert _open_kind({"properties": {}, "items": {}}, models) == "pinned"


def test_pattern_properties_do_not_make_a_model_refuse_a_key(tmp_path: Path) -> None:
    # The schema lets `x-a` through (it matches the pattern) and, without additionalProperties: false, `other` too;
    # the generator would forbid the first and make a dict whose keys must match `^x-` for the second.
    schemas = {
        "Closed": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}},
            "patternProperties": {"^x-": {"type": "integer"}},
        },
        "Map": {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}},
        "Named": {"type": "object", "properties": {"patternProperties": {"type": "object"}}},
    }
    models = _load(generate(schemas, "3.1.0", "header", ["Closed", "Map", "Named"]), tmp_path / "pattern_models.py")
    assert models.Closed.model_validate({"name": "a", "x-a": 1}).name == "a"
    assert models.Map.model_validate({"x-a": 1, "other": "s"}) is not None
    assert "pattern_properties" in models.Named.model_fields  # a property of that name is not the keyword


def test_formats_the_kit_does_not_define_take_every_value(tmp_path: Path) -> None:
    # Both runtimes take such formats as annotations; pydantic's AnyUrl, IPv4Address, time, timedelta, Base64Str,
    # versioned UUIDs and hostname pattern would refuse these strings, and datetime a number beyond its range.
    formats = ["uri", "ipv4", "ipv6", "hostname", "time", "duration", "byte", "uuid4", "idn-email", "ulid", "decimal"]
    properties: dict[str, Any] = {f"s{i}": {"type": "string", "format": name} for i, name in enumerate(formats)}
    properties |= {"n": {"type": "number", "format": "date-time"}, "i": {"type": "integer", "format": "date-time"}}
    source = generate({"Formats": {"type": "object", "properties": properties}}, "3.1.0", "header", ["Formats"])
    models = _load(source, tmp_path / "format_models.py")
    value = {f"s{i}": "-not valid!" for i in range(len(formats))} | {"n": 1e300, "i": 10**30}
    assert models.Formats.model_validate(value).model_dump() == value


def test_a_password_in_a_response_is_sent_as_it_is(tmp_path: Path) -> None:
    schemas = {"Credentials": {"type": "object", "properties": {"password": {"type": "string", "format": "password"}}}}
    models = _load(generate(schemas, "3.1.0", "header", ["Credentials"]), tmp_path / "password_models.py")
    assert models.Credentials(password="hunter2").model_dump_json() == '{"password":"hunter2"}'


def test_a_default_of_a_format_read_as_a_class_stays_its_json_type(tmp_path: Path) -> None:
    properties = {
        "id": {"type": "string", "format": "uuid", "default": "123e4567-e89b-12d3-a456-426614174000"},
        "ref": {"type": "string", "format": "uuid"},
        "amount": {"type": "number", "format": "decimal", "default": 1.5},
    }
    source = generate({"Defaults": {"type": "object", "properties": properties}}, "3.1.0", "header", ["Defaults"])
    assert (
        "    id: str = " in source and "    ref: UUID | None = None" in source and "    amount: float = 1.5" in source
    )
    assert _load(source, tmp_path / "default_models.py").Defaults().id == "123e4567-e89b-12d3-a456-426614174000"


def test_a_model_keeps_the_keys_its_schema_allows_and_refuses_none(tmp_path: Path) -> None:
    open_schema = {"type": "object", "properties": {"x": {"type": "string"}}}
    closed = {**open_schema, "additionalProperties": False}
    module = _load(generate({"Open": open_schema, "Closed": closed}, "3.1.0", "header"), tmp_path / "extra.py")
    assert module.Open.model_validate({"x": "a", "more": 1}).model_dump() == {"x": "a", "more": 1}
    with pytest.raises(ValidationError):
        module.Closed.model_validate({"x": "a", "more": 1})
