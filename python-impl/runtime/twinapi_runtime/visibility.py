"""readOnly and writeOnly: what leaves a request body before the handler sees it and a response before it is sent.

The generator plans it (the contract document's `visibility`, see twinapi-codegen's visibility.py): a readOnly
property a client sends anyway is validated like any other, then removed, so that a client echoing a GET body into
a PUT is served; a writeOnly property (a password) is removed from every response, whatever the handler returned.
The Node kit walks the same plans the same way (visibility.ts).
"""

from __future__ import annotations

from typing import Any

from twinapi_runtime.binding import is_json


class ContractShapeError(ValueError):
    """The contract document's `visibility` is not what the generator writes."""


class Plan:
    """What to remove at one place of a body, and the plans of the places inside it."""

    __slots__ = ("additional", "declared", "drop", "items", "prefix_items", "properties")

    def __init__(self) -> None:
        self.drop: tuple[str, ...] = ()
        self.properties: dict[str, Plan] = {}
        self.items: Plan | None = None
        self.prefix_items: tuple[Plan | None, ...] = ()
        self.additional: Plan | None = None
        self.declared: frozenset[str] = frozenset()

    def apply(self, value: Any) -> Any:
        """The value without what the plan removes; parsed JSON, changed in place."""
        if isinstance(value, dict):
            for name in self.drop:
                value.pop(name, None)
            for name, inner in self.properties.items():
                if name in value:
                    value[name] = inner.apply(value[name])
            if self.additional is not None:
                for name in [n for n in value if n not in self.declared]:
                    value[name] = self.additional.apply(value[name])
        elif isinstance(value, list):
            width = len(self.prefix_items)
            for i, item in enumerate(value):
                positional = self.prefix_items[i] if i < width else self.items
                if positional is not None:
                    value[i] = positional.apply(item)
        return value


def _linked(plans: list[Plan], index: Any) -> Plan:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(plans):
        raise ContractShapeError(f"{index!r} names no plan")
    return plans[index]


def _plans(raw: Any) -> list[Plan]:
    if not isinstance(raw, list):
        raise ContractShapeError("`plans` must be a list")
    plans = [Plan() for _ in raw]

    def linked(index: Any) -> Plan:
        return _linked(plans, index)

    for plan, entry in zip(plans, raw, strict=True):
        if not isinstance(entry, dict):
            raise ContractShapeError("a plan must be an object")
        plan.drop = tuple(str(name) for name in entry.get("drop", []))
        plan.properties = {str(name): linked(index) for name, index in (entry.get("properties") or {}).items()}
        plan.items = linked(entry["items"]) if "items" in entry else None
        plan.prefix_items = tuple(None if i is None else linked(i) for i in entry.get("prefixItems", []))
        plan.additional = linked(entry["additionalProperties"]) if "additionalProperties" in entry else None
        plan.declared = frozenset(str(name) for name in entry.get("declared", []))
    return plans


def _base(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


class ResponsePlans:
    """An operation's response plans by documented status (`200`, `2XX`, `default`) and media type."""

    def __init__(self, by_status: dict[str, dict[str, Plan]]) -> None:
        self.by_status = by_status

    def find(self, status: int, media_type: str | None) -> Plan | None:
        """The plan of a response: its status as documented (exact, then its class, then `default`), then its media
        type; a JSON response of a media type the status does not document takes the status's first JSON plan."""
        code = str(status)
        plans = self.by_status.get(code) or self.by_status.get(code[0] + "XX") or self.by_status.get("default")
        if not plans:
            return None
        base = _base(media_type or "application/json")
        found = plans.get(base)
        if found is None and is_json(base):
            found = next((plan for media, plan in plans.items() if is_json(media)), None)
        return found


class Visibility:
    """The contract document's `visibility`, by operation (the spec's path template and lower-case method)."""

    def __init__(self, section: Any) -> None:
        if section is None:
            section = {"requests": {}, "responses": {}, "plans": []}
        if not isinstance(section, dict):
            raise ContractShapeError("`visibility` must be an object")
        plans = _plans(section.get("plans", []))
        try:
            self._requests = {
                (path, method): {media: _linked(plans, index) for media, index in by_media.items()}
                for path, by_method in (section.get("requests") or {}).items()
                for method, by_media in by_method.items()
            }
            self._responses = {
                (path, method): ResponsePlans(
                    {
                        status: {media: _linked(plans, index) for media, index in by_media.items()}
                        for status, by_media in by_status.items()
                    }
                )
                for path, by_method in (section.get("responses") or {}).items()
                for method, by_status in by_method.items()
            }
        except (AttributeError, TypeError) as exc:
            raise ContractShapeError(f"`visibility` is malformed ({exc})") from None

    def request(self, path: str, method: str, media_type: str) -> Plan | None:
        """What to remove from a request body of this media type (lower case, no parameters)."""
        return self._requests.get((path, method.lower()), {}).get(media_type)

    def responses(self, path: str, method: str) -> ResponsePlans | None:
        return self._responses.get((path, method.lower()))
