"""Case folding both implementations do alike."""

from __future__ import annotations

import string

_UPPER_TO_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(text: str) -> str:
    """Only A-Z lowered: str.lower() also folds other letters (the Kelvin sign to `k`), JavaScript's differently."""
    return text.translate(_UPPER_TO_LOWER)
