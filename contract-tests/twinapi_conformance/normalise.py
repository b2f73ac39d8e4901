"""Apply the declared normalisation rules to one side's responses, remembering what each placeholder stood for."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from twinapi_conformance.config import NormaliseRule


class Normaliser:
    """One per implementation: numbering of correlated values is per side, in order of first appearance."""

    def __init__(self, rules: list[NormaliseRule]) -> None:
        self.rules = rules
        # placeholder -> original value -> number
        self.numbers: dict[str, dict[str, int]] = {}

    def body(self, value: Any, path: tuple[str, ...] = ()) -> Any:
        if isinstance(value, dict):
            return {key: self.body(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            items = [self.body(item, (*path, str(index))) for index, item in enumerate(value)]
            if any(rule.as_set and rule.pointer is not None and _matches(rule.pointer, path) for rule in self.rules):
                unique = {json.dumps(item, sort_keys=True): item for item in items}
                return [unique[key] for key in sorted(unique)]
            return items
        for rule in self.rules:
            if rule.pointer is not None and not rule.as_set and _matches(rule.pointer, path):
                return self._placeholder(rule, value)
        return self.text(value) if isinstance(value, str) else value

    def text(self, value: str) -> str:
        for rule in self.rules:
            if rule.pattern is not None:
                value = rule.pattern.sub(self._replacer(rule), value)
        return value

    def _replacer(self, rule: NormaliseRule) -> Callable[[re.Match[str]], str]:
        return lambda match: self._placeholder(rule, match.group(0))

    def _placeholder(self, rule: NormaliseRule, value: Any) -> str:
        if not rule.correlate:
            return f"<{rule.placeholder}>"
        numbers = self.numbers.setdefault(rule.placeholder, {})
        number = numbers.setdefault(str(value), len(numbers) + 1)
        return f"<{rule.placeholder}#{number}>"


def correspondence(left: Normaliser, right: Normaliser) -> dict[str, str]:
    """Left value -> right value for every correlated value both sides numbered alike."""
    mapping = {}
    for placeholder, numbers in left.numbers.items():
        by_number = {number: value for value, number in right.numbers.get(placeholder, {}).items()}
        for value, number in numbers.items():
            if number in by_number and value != by_number[number]:
                mapping[value] = by_number[number]
    return mapping


def _matches(pointer: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(pointer) == len(path) and all(want in ("*", got) for want, got in zip(pointer, path, strict=True))
