"""What the tests share besides fixtures."""

from __future__ import annotations

from typing import Any


def auth(user: dict[str, Any]) -> dict[str, str]:
    """The Authorization header of a registered user."""
    return {"Authorization": f"Token {user['token']}"}
