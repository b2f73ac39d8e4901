"""Starting with a handler class that lacks operations names every missing one."""

from __future__ import annotations

import pytest
from conftest import Tokens
from twinapi_runtime import MissingOperations

from app.errors import Problems
from app.generated import operations as ops
from app.generated.routes import bind


class Partial(ops.Operations[str]):
    pass


def test_missing_operations_are_named() -> None:
    with pytest.raises(MissingOperations) as caught:
        bind(Partial(), Tokens(), Problems())  # type: ignore[abstract]
    message = str(caught.value)
    for operation_id in ("getHealth", "createTask", "deleteTask"):
        assert operation_id in message
