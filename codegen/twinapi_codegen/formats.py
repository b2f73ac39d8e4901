"""The one definition of the string formats both implementations check.

Each regex is written in the common subset of ECMAScript (unicode mode) and Python `re`, so Ajv and the Python
runtime accept exactly the same strings. `calendar` asks the runtimes to also check that the date (and time)
really exists, which a regex cannot do for leap years.
"""

from __future__ import annotations

from typing import TypedDict


class Format(TypedDict):
    name: str
    pattern: str
    calendar: str | None


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

FORMATS: list[Format] = [
    {"name": "email", "pattern": rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)*{_LABEL}$", "calendar": None},
    {
        "name": "uuid",
        "pattern": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        "calendar": None,
    },
    {"name": "date", "pattern": r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", "calendar": "date"},
    {
        "name": "date-time",
        "pattern": r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
        r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))$",
        "calendar": "date-time",
    },
]
