"""The runtime reads only the generated contract document, and refuses to start on one it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from twinapi_runtime import ContractError, load_contract

from app.generated.routes import CONTRACT_PATH


def test_the_generated_document_holds_the_spec_and_the_served_form() -> None:
    loaded = load_contract(CONTRACT_PATH)
    assert loaded.spec["openapi"] == "3.1.0" and loaded.served["paths"].keys() == loaded.spec["paths"].keys()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the contract document"),
        ("openapi: 3.1.0\n", "cannot read the contract document"),
        (json.dumps({"openapi": "3.1.0"}), "is not a contract document of format 1"),
        (json.dumps({"twinapi-contract": 2, "spec": {}, "served": {}}), "is not a contract document of format 1"),
        (json.dumps({"twinapi-contract": 1, "spec": {}}), "lacks its spec"),
    ],
)
def test_a_missing_or_foreign_document_stops_the_start_naming_the_fix(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "contract.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ContractError, match=message) as refused:
        load_contract(path)
    assert "make generate" in str(refused.value)
