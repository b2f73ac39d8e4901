"""The Schemathesis hooks every fuzz run loads (`SCHEMATHESIS_HOOKS`, set by `fuzz.run`).

Both runtimes refuse a JSON body holding a `__proto__` key, or a `constructor` object holding `prototype`, at any
depth, whatever the schema allows (Fastify's prototype-poisoning guard, mirrored in Python; the kit's README). A spec
whose objects allow additional properties (RealWorld's Conduit, most specs written by hand) lets the fuzzer generate
such keys as valid data, and positive_data_acceptance would report the kit's deliberate refusal as a defect of the
implementation. That one failure is dropped; every other check still judges the same case and its answer.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.core.hooks import load_from_path
from schemathesis.openapi.checks import RejectedPositiveData

# The project's own hooks module, if it set SCHEMATHESIS_HOOKS itself: fuzz.run moves it here, and it is loaded too.
PROJECT_HOOKS_ENV = "TWINAPI_CONFORMANCE_PROJECT_HOOKS"


def poisoned(value: Any) -> bool:
    """Whether a JSON value holds what both runtimes refuse as prototype poisoning."""
    if isinstance(value, list):
        return any(poisoned(item) for item in value)
    if not isinstance(value, dict):
        return False
    constructor = value.get("constructor")
    if "__proto__" in value or (isinstance(constructor, dict) and "prototype" in constructor):
        return True
    return any(poisoned(item) for item in value.values())


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keeps every failure but a schema-valid body's refusal when that body holds a prototype-poisoning key."""
    return not (isinstance(failure, RejectedPositiveData) and poisoned(case.body))


if os.environ.get(PROJECT_HOOKS_ENV):
    load_from_path(os.environ[PROJECT_HOOKS_ENV])
