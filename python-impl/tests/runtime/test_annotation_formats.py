"""Formats the kit does not define are annotations in both runtimes; the kit's own are checked."""

from __future__ import annotations

import pytest
from twinapi_runtime.validation import Validators, errors_of

from app.generated.formats import FORMATS


@pytest.mark.parametrize("name", ["uri", "ipv4", "ipv6", "hostname", "time", "duration", "regex", "made-up"])
def test_a_format_the_kit_does_not_define_is_an_annotation(name: str) -> None:
    spec = {"components": {"schemas": {"S": {"type": "string", "format": name}}}}
    assert not errors_of(Validators(spec, FORMATS).compile("/components/schemas/S"), "(not one", "v")


@pytest.mark.parametrize(("name", "value"), [("email", "x"), ("uuid", "x"), ("date", "2021-02-29")])
def test_the_kit_s_formats_are_checked(name: str, value: str) -> None:
    spec = {"components": {"schemas": {"S": {"type": "string", "format": name}}}}
    assert errors_of(Validators(spec, FORMATS).compile("/components/schemas/S"), value, "v")
