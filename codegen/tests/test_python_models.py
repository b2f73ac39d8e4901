"""Pre- and post-processing around datamodel-code-generator."""

from __future__ import annotations

from twinapi_codegen.python_models import _overrides_note, _without_null_defaults


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
