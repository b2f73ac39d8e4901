"""A generated model takes whatever its schema takes; when it does not, the kit is at fault, not the client."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel
from twinapi_runtime import as_model
from twinapi_runtime.problems import ProblemError


class Item(BaseModel):
    count: int
    ratio: float | None = None


class Order(BaseModel):
    items: list[Item]
    total: int | None = None


def test_whole_numbers_beyond_64_bits_are_integers() -> None:
    # `1e20` is an integer to JSON Schema; a JSON parser hands it over as a float, which pydantic refuses for `int`.
    order = as_model(Order, {"items": [{"count": 1e20, "ratio": 2.0**70}], "total": -(2.0**63)}, "body")
    assert order.items[0].count == 10**20 and isinstance(order.items[0].count, int)
    assert order.items[0].ratio == 2.0**70 and order.total == -(2**63)


def test_small_numbers_are_left_to_the_model() -> None:
    order = as_model(Order, {"items": [{"count": 3.0, "ratio": 1.5}]}, "body")
    assert order.items[0].count == 3 and order.items[0].ratio == 1.5


def test_a_refusal_after_the_schema_passed_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="twinapi.error"), pytest.raises(ProblemError) as raised:
        as_model(Order, {"items": [{"count": 1.5}]}, "body")
    assert raised.value.status == 500 and raised.value.errors is None
    record = caplog.records[-1]
    assert record.fields["model"] == "Order"  # type: ignore[attr-defined]
    assert record.fields["errors"][0]["location"] == "body/items/0/count"  # type: ignore[attr-defined]
