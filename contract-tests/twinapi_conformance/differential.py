"""Send the same requests, in the same order, to both implementations started fresh, and compare the answers.

Requests come from the hand-written edge vectors, from Schemathesis-generated cases (valid and invalid data) for
every operation, and from Schemathesis-generated sequences that follow the spec's links. The first implementation
leads: ids it returns are mapped to the second implementation's ids before a request is sent there.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode

from twinapi_conformance import compare, vectors
from twinapi_conformance.auth import auth_header, bootstrap_token
from twinapi_conformance.config import Config
from twinapi_conformance.coverage import Observations
from twinapi_conformance.http import WireRequest, WireResponse, send
from twinapi_conformance.normalise import Normaliser, correspondence
from twinapi_conformance.servers import RunningServer, started_each
from twinapi_conformance.spec import Spec

# Stand-in base URL for serialising generated cases; the real one is added when sending.
NOWHERE = "http://conformance.invalid"
STEPS_PER_SEQUENCE = 6
REQUEST_KWARGS = ("method", "url", "headers", "params", "data", "json", "cookies", "files")


@dataclass
class DiffReport:
    exchanges: int = 0
    unsendable: int = 0
    sequence_steps: int = 0
    notes: list[str] = field(default_factory=list)
    disagreements: list[compare.Disagreement] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.errors


class Pair:
    """Both running implementations, each with its own token and normaliser."""

    def __init__(
        self,
        config: Config,
        spec: Spec,
        servers: list[RunningServer],
        client: httpx.Client,
        observations: Observations | None = None,
    ) -> None:
        self.config, self.spec, self.servers, self.client = config, spec, servers, client
        self.observations = observations if observations is not None else Observations()
        self.normalisers = [Normaliser(config.diff.rules), Normaliser(config.diff.rules)]
        self.compared_headers = spec.documented_headers() | set(config.diff.extra_headers)
        self.tokens = [self._token(server) for server in servers]
        self.report = DiffReport()

    def _token(self, server: RunningServer) -> str | None:
        if self.config.auth is None:
            return None
        return bootstrap_token(self.client, server.base_url, self.spec, self.config.auth)

    def translate(self, request: WireRequest) -> WireRequest:
        """The leader's request with the leader's ids replaced by the follower's."""
        mapping = correspondence(*self.normalisers)

        def swap(text: str) -> str:
            for left, right in mapping.items():
                text = text.replace(left, right)
            return text

        body = request.body
        if body is not None and mapping:
            body = swap(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        return replace(
            request,
            path=swap(request.path),
            query=[(name, swap(value)) for name, value in request.query],
            headers=[(name, swap(value)) for name, value in request.headers],
            body=body,
        )

    def exchange(
        self, source: str, requests_: tuple[WireRequest, WireRequest], *, auth: bool
    ) -> tuple[WireResponse, WireResponse]:
        sent = [
            self._with_auth(request, token) if auth else request
            for request, token in zip(requests_, self.tokens, strict=True)
        ]
        responses = (
            send(self.client, self.servers[0].base_url, sent[0]),
            send(self.client, self.servers[1].base_url, sent[1]),
        )
        views = [compare.view(r, n, self.compared_headers) for r, n in zip(responses, self.normalisers, strict=True)]
        self.report.exchanges += 1
        label = self.spec.label_of(sent[0].method, sent[0].path)
        if label is not None:
            for server, response in zip(self.servers, responses, strict=True):
                self.observations.add(server.name, label, response.status, "diff")
        fields = compare.differing_fields(*views)
        if fields:
            self.report.disagreements.append(
                compare.Disagreement(
                    source=source,
                    request=sent[0],
                    curl_left=sent[0].curl(self.servers[0].base_url),
                    curl_right=sent[1].curl(self.servers[1].base_url),
                    left=views[0],
                    right=views[1],
                    fields=fields,
                )
            )
        return responses

    def _with_auth(self, request: WireRequest, token: str | None) -> WireRequest:
        if self.config.auth is None or token is None or request.has_header(self.config.auth.header):
            return request
        return request.with_header(*auth_header(self.config.auth, token))


def run(
    config: Config, *, seed: int, examples: int, console: Console, observations: Observations | None = None
) -> DiffReport:
    """`observations`, when given, gets every status each implementation answered, per operation."""
    spec = Spec.load(config.contract)
    impls = list(config.implementations.values())
    names = (impls[0].name, impls[1].name)
    with tempfile.TemporaryDirectory(prefix="conformance-diff-") as work:
        with started_each(
            impls, config.server, work_dir=Path(work), log_dir=config.reports, shared_db=False
        ) as servers:
            with httpx.Client(timeout=config.budget.request_timeout) as client:
                pair = Pair(config, spec, servers, client, observations)
                # The spec as both servers read it (the contract document), not as Schemathesis' YAML loader would.
                schema = schemathesis.openapi.from_dict(copy.deepcopy(spec.raw), config=SchemathesisConfig())
                with Progress(console=console, transient=True) as progress:
                    _vectors(pair, vectors.load(config.diff.vectors), progress)
                    _generated(pair, schema, seed, examples, progress)
                    _sequences(pair, schema, seed, config.budget.diff_sequences, progress)
    report = pair.report
    for disagreement in report.disagreements[: config.diff.max_reported]:
        compare.render(console, names, disagreement)
    hidden = len(report.disagreements) - config.diff.max_reported
    if hidden > 0:
        console.print(f"... and {hidden} more disagreements")
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    for error in report.errors:
        console.print(f"[red]ERROR[/] {escape(error)}")
    verdict = "[green]agree[/]" if report.ok else f"[red]{len(report.disagreements)} disagreements[/]"
    console.print(
        f"diff: {report.exchanges} exchanges, {report.sequence_steps} of them in linked sequences "
        f"({report.unsendable} generated requests HTTP cannot carry), "
        f"{names[0]} and {names[1]} {verdict}"
    )
    return report


def _vectors(pair: Pair, loaded: list[vectors.Vector], progress: Progress) -> None:
    for vector in progress.track(loaded, description="edge vectors"):
        values: list[dict[str, str]] = [{}, {}]
        try:
            for step in vector.setup:
                built = [vectors.build(step.request, side_values) for side_values in values]
                answers = pair.exchange(f"{vector.description} (setup)", (built[0][0], built[1][0]), auth=built[0][1])
                for side_values, answer in zip(values, answers, strict=True):
                    side_values.update(vectors.capture(step, answer))
            built = [vectors.build(vector.request, side_values) for side_values in values]
            pair.exchange(vector.description, (built[0][0], built[1][0]), auth=built[0][1])
        except (ValueError, KeyError, httpx.HTTPError) as exc:
            pair.report.errors.append(f"vector {vector.description!r}: {exc}")


def _generated(pair: Pair, schema: Any, seed: int, examples: int, progress: Progress) -> None:
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    task = progress.add_task("generated cases", total=len(operations) * 2)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for case in _draw(operation.as_strategy(generation_mode=mode), seed, examples):
                _exchange_case(pair, case, f"{mode.value} case for {operation.label}")
            progress.advance(task)


def _draw(strategy: Any, seed: int, examples: int) -> list[Any]:
    """Up to `examples` values of `strategy`, the same for the same seed; drawn before anything is sent."""
    drawn: list[Any] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    try:
        collect()
    except hypothesis.errors.Unsatisfiable:
        # e.g. invalid data for an operation that takes no input at all
        pass
    return drawn


def _exchange_case(pair: Pair, case: Any, source: str) -> WireResponse | None:
    request, _ = _wire(case)
    auth = pair.spec.requires_auth(case.operation.definition.raw.get("operationId"))
    try:
        return pair.exchange(source, (request, pair.translate(request)), auth=auth)[0]
    except httpx.LocalProtocolError:
        # HTTP itself cannot carry it (e.g. a header value ending in a space); no server ever sees it.
        pair.report.unsendable += 1
    except httpx.HTTPError as exc:
        pair.report.errors.append(f"{source}: {exc!r}\n  {request.curl(pair.servers[0].base_url)}")
    return None


def _wire(case: Any) -> tuple[WireRequest, requests.PreparedRequest]:
    kwargs = case.as_transport_kwargs(base_url=NOWHERE)
    prepared = requests.Request(**{key: kwargs[key] for key in REQUEST_KWARGS if key in kwargs}).prepare()
    url = urlsplit(str(prepared.url))
    raw = prepared.body
    body = raw.encode() if isinstance(raw, str) else raw if isinstance(raw, bytes) else None
    request = WireRequest(
        method=prepared.method or case.method,
        path=url.path,
        query=parse_qsl(url.query, keep_blank_values=True),
        headers=[(name, str(value)) for name, value in prepared.headers.items() if name.lower() != "content-length"],
        body=body,
    )
    return request, prepared


def _sequences(pair: Pair, schema: Any, seed: int, sequences: int, progress: Progress) -> None:
    """Schemathesis' state machine picks the chained calls (links); each call goes to both implementations."""
    task = progress.add_task("generated sequences", total=None)

    class Differential(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Response:
            progress.advance(task)
            pair.report.sequence_steps += 1
            answer = _exchange_case(pair, case, f"sequence step {case.operation.label}")
            if answer is None:
                hypothesis.reject()
            _, prepared = _wire(case)
            headers = {name: [value] for name, value in answer.headers.items()}
            return Response(answer.status, headers, answer.body, prepared, elapsed=0.0, verify=True)

        def validate_response(self, *args: Any, **kwargs: Any) -> None:
            """Conformance is the fuzz stage's job; here only agreement counts."""

    hypothesis.seed(seed)(Differential)
    try:
        Differential.run(
            settings=hypothesis.settings(
                max_examples=sequences,
                stateful_step_count=STEPS_PER_SEQUENCE,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    except hypothesis.errors.FlakyStrategyDefinition:
        # Live servers are external state: Hypothesis may see a replayed sequence take another turn and stop.
        # The steps already sent were compared; the stop is reported, not hidden.
        pair.report.notes.append("generated sequences stopped early: Hypothesis saw the servers' state differ")
