"""Which documented statuses each implementation was seen to answer, per operation, and by which stage.

Every stage records what it saw: the fuzz stage every answer in Schemathesis' event log, the diff stage every answer
of either implementation to the vectors, generated cases and sequences, the interop stage every step's answer.
A documented status is observed when some answer matches it: an exact code ("404") by that code; a range ("4XX") by
a code of the range the operation does not document on its own; "default" by a code the operation documents in no
other way. A status that no stage observed was never checked against its documented schema and headers, so the run
says so, per implementation, and fails `ci` when the configuration requires every status (`[coverage]`), except
those it declares unobservable, each with its reason.

The count is the harness's own: TraceCov (PyPI `tracecov`) reports documented responses on top of Schemathesis, but
sees only Schemathesis' requests, not the diff and interop stages', and its community licence allows internal use
only, with its output kept from third parties, which a project's CI reports cannot promise.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from twinapi_conformance.config import CoverageSettings
from twinapi_conformance.spec import Spec

RANGE = re.compile(r"^[1-5]XX$")
JUNIT_SUITE = "twinapi-conformance"


class Observations:
    """Per implementation, per operation label, each status answered and the stages that saw it."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, dict[int, set[str]]]] = defaultdict(lambda: defaultdict(dict))

    def add(self, implementation: str, label: str, status: int, stage: str) -> None:
        self.seen[implementation][label].setdefault(status, set()).add(stage)

    def statuses(self, implementation: str, label: str) -> dict[int, set[str]]:
        return self.seen.get(implementation, {}).get(label, {})


def matches(documented: str, status: int, keys: list[str]) -> bool:
    """Whether an answered `status` counts as the documented response key `documented`, among the operation's `keys`."""
    if documented == str(status):
        return True
    explicit = str(status) in keys
    if RANGE.match(documented.upper()):
        return not explicit and documented[0] == str(status)[0]
    if documented == "default":
        return not explicit and f"{str(status)[0]}XX" not in {key.upper() for key in keys}
    return False


@dataclass
class OperationCoverage:
    label: str
    operation_id: str
    documented: list[str]
    # documented key -> the stages that observed it (absent: never observed)
    observed: dict[str, set[str]] = field(default_factory=dict)
    # documented key -> why it is declared unobservable
    excused: dict[str, str] = field(default_factory=dict)

    @property
    def unobserved(self) -> list[str]:
        return [key for key in self.documented if key not in self.observed and key not in self.excused]


@dataclass
class Coverage:
    implementation: str
    required: bool
    operations: dict[str, OperationCoverage]
    # The stages whose answers count, in the order they ran.
    stages: tuple[str, ...]
    # Exclusions whose status was observed after all: the reason no longer holds.
    stale: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """The stages counted, as a sentence says them: "fuzz, diff or interop"."""
        *first, last = self.stages or ("no stage",)
        return f"{', '.join(first)} or {last}" if first else last

    @property
    def missing(self) -> int:
        return sum(len(op.unobserved) for op in self.operations.values())

    @property
    def ok(self) -> bool:
        return not self.required or self.missing == 0


def measure(
    spec: Spec,
    settings: CoverageSettings,
    observations: Observations,
    implementation: str,
    *,
    stages: tuple[str, ...],
    judged: bool,
) -> Coverage:
    """What `implementation` was seen to answer, in `stages`, of what each operation documents. `judged`: whether
    this run is the one the requirement applies to (`ci`, which runs every stage), not one stage on its own."""
    documented = spec.documented_statuses()
    excused = {(rule.operation, rule.status): rule.why for rule in settings.unobservable}
    operations = {}
    stale = []
    for op in spec.operations.values():
        keys = documented[op.label]
        cover = OperationCoverage(label=op.label, operation_id=op.id, documented=keys)
        for status, seen_by in observations.statuses(implementation, op.label).items():
            for key in keys:
                if matches(key, status, keys):
                    cover.observed.setdefault(key, set()).update(seen_by)
        for key in keys:
            why = excused.get((op.id, key))
            if why is None:
                continue
            if key in cover.observed:
                stale.append(f"{op.id} {key}: declared unobservable ({why}), yet observed: remove the exclusion")
            else:
                cover.excused[key] = why
        operations[op.label] = cover
    return Coverage(
        implementation=implementation,
        required=judged and settings.require_every_status,
        operations=operations,
        stages=stages,
        stale=stale,
    )


def check_exclusions(spec: Spec, settings: CoverageSettings) -> list[str]:
    """Exclusions that name no operation or no status it documents: a typo would hide nothing and mean nothing."""
    documented = spec.documented_statuses()
    problems = []
    for rule in settings.unobservable:
        if rule.operation not in spec.operations:
            problems.append(f"coverage.unobservable: {spec.path} has no operation {rule.operation!r}")
        elif rule.status not in documented[spec.operations[rule.operation].label]:
            problems.append(f"coverage.unobservable: {rule.operation} documents no status {rule.status!r}")
    return problems


def add_to_junit(path: Path, suite_cases: list[tuple[str, str | None, str]]) -> None:
    """Append the harness's own verdicts to an implementation's JUnit report (Schemathesis wrote the rest):
    one test case per (name, failure message or None, details)."""
    if path.exists():
        root = ElementTree.parse(path).getroot()
    else:
        root = ElementTree.Element("testsuites")
    if root.tag == "testsuite":  # a lone suite: wrap it so ours can sit beside it
        wrapper = ElementTree.Element("testsuites")
        wrapper.append(root)
        root = wrapper
    for old in root.findall(f"testsuite[@name='{JUNIT_SUITE}']"):
        root.remove(old)
    failures = sum(1 for _, failure, _ in suite_cases if failure is not None)
    suite = ElementTree.SubElement(
        root, "testsuite", name=JUNIT_SUITE, tests=str(len(suite_cases)), failures=str(failures), errors="0"
    )
    for name, failure, details in suite_cases:
        case = ElementTree.SubElement(suite, "testcase", name=name, classname=JUNIT_SUITE)
        if failure is not None:
            element = ElementTree.SubElement(case, "failure", message=failure)
            element.text = details
        elif details:
            ElementTree.SubElement(case, "system-out").text = details
    ElementTree.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
