"""Pure pieces: normalisation with correlation, id translation, vectors, JSON pointers, configuration errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from twinapi_conformance import config as configuration
from twinapi_conformance import fuzz, vectors
from twinapi_conformance.config import NormaliseRule
from twinapi_conformance.http import WireResponse
from twinapi_conformance.jsonpointer import MISSING, resolve
from twinapi_conformance.normalise import Normaliser, correspondence

ID = NormaliseRule(why="ids", placeholder="id", pattern=re.compile(r"id-[a-z]+"), pointer=None, correlate=True)
MESSAGE = NormaliseRule(
    why="texts", placeholder="message", pattern=None, pointer=("errors", "*", "message"), correlate=False
)


def test_correlated_values_are_numbered_by_first_appearance() -> None:
    normaliser = Normaliser([ID])
    assert normaliser.body({"a": "id-x", "b": ["id-y", "/things/id-x"]}) == {
        "a": "<id#1>",
        "b": ["<id#2>", "/things/<id#1>"],
    }


def test_the_same_id_twice_differs_from_two_ids() -> None:
    left, right = Normaliser([ID]), Normaliser([ID])
    assert left.body(["id-a", "id-a"]) != right.body(["id-b", "id-c"])


def test_pointer_rules_match_any_index_and_nothing_else() -> None:
    normaliser = Normaliser([MESSAGE])
    body = {"errors": [{"location": "body", "message": "x"}], "message": "kept"}
    assert normaliser.body(body) == {"errors": [{"location": "body", "message": "<message>"}], "message": "kept"}


def test_set_rules_ignore_order_and_repeats_but_not_a_different_location() -> None:
    errors = NormaliseRule(
        why="validators", placeholder="", pattern=None, pointer=("errors",), correlate=False, as_set=True
    )
    left, right = Normaliser([MESSAGE, errors]), Normaliser([MESSAGE, errors])
    a, b, c = ({"location": where, "message": why} for where, why in (("body/a", "1"), ("body/b", "2"), ("body", "3")))
    assert left.body({"errors": [a, b, a]}) == right.body({"errors": [b, a]})
    assert left.body({"errors": [a, b]}) != right.body({"errors": [a, c]})


def test_correspondence_maps_the_leaders_ids_to_the_followers() -> None:
    left, right = Normaliser([ID]), Normaliser([ID])
    left.body({"id": "id-left"})
    right.body({"id": "id-right"})
    assert correspondence(left, right) == {"id-left": "id-right"}


def test_vectors_fill_captures_and_keep_repeated_query_parameters() -> None:
    request, auth = vectors.build(
        {"method": "GET", "path": "/tasks/{{task}}", "query": [["limit", "1"], ["limit", "2"]], "auth": False},
        {"task": "abc"},
    )
    assert request.path == "/tasks/abc"
    assert request.query == [("limit", "1"), ("limit", "2")]
    assert not auth
    assert "limit=1&limit=2" in request.curl("http://127.0.0.1:1")


def test_vectors_build_oversized_bodies() -> None:
    request, _ = vectors.build(
        {"method": "POST", "path": "/", "repeat": {"text": "a", "times": 5, "prefix": "[", "suffix": "]"}}, {}
    )
    assert request.body == b"[aaaaa]"


def test_capture_names_a_missing_value() -> None:
    step = vectors.Step(request={}, capture={"id": "body:/id"})
    with pytest.raises(ValueError, match="capture id"):
        vectors.capture(step, WireResponse(status=400, headers={}, body=b"{}"))


def test_json_pointer() -> None:
    assert resolve({"a": [{"b~/": 1}]}, "/a/0/b~0~1") == 1
    assert resolve({"a": []}, "/a/0") is MISSING


def test_a_normalisation_rule_must_say_why(tmp_path: Path) -> None:
    text = (Path(__file__).parent / "fixtures" / "conformance.toml").read_text()
    text = text.replace('why = "each fixture names itself in /health"\n', "")
    broken = tmp_path / "conformance.toml"
    broken.write_text(text)
    with pytest.raises(configuration.ConfigError, match="say why"):
        configuration.load(broken)


def test_a_server_that_exits_early_is_reported_with_its_log(tmp_path: Path) -> None:
    from twinapi_conformance.servers import ServerError, started

    impl = configuration.Implementation(
        name="broken", command=["{python}", "-c", "print('no config'); raise SystemExit(3)"], cwd=tmp_path, env={}
    )
    settings = configuration.ServerSettings(
        env={"HOST": "127.0.0.1", "PORT": "{port}"}, readiness_path="/health", startup_timeout=10, stop_timeout=5
    )
    with pytest.raises(ServerError, match=r"exited with 3[\s\S]*no config"):
        with started(impl, settings, db_path=tmp_path / "db", log_dir=tmp_path):
            pass


def test_only_loopback_is_ever_targeted(tmp_path: Path) -> None:
    from twinapi_conformance.servers import ServerError, started

    impl = configuration.Implementation(name="x", command=["{python}", "-c", "pass"], cwd=tmp_path, env={})
    settings = configuration.ServerSettings(
        env={"HOST": "0.0.0.0"}, readiness_path="/health", startup_timeout=1, stop_timeout=1
    )
    with pytest.raises(ServerError, match="HOST must be 127.0.0.1"):
        with started(impl, settings, db_path=tmp_path / "db", log_dir=tmp_path):
            pass


def _events(tmp_path: Path, answers: dict[str, list[int]]) -> Path:
    """An event log like Schemathesis writes: one finished scenario per operation, one interaction per answer."""
    lines = []
    for label, statuses in answers.items():
        method, path = label.split(" ", 1)
        recorder = {
            "label": label,
            "cases": {f"{label}-{i}": {"value": {"method": method, "path": path}} for i in range(len(statuses))},
            "checks": {},
            "interactions": {
                f"{label}-{i}": {"request": {}, "response": {"status_code": status}}
                for i, status in enumerate(statuses)
            },
        }
        lines.append(json.dumps({"ScenarioFinished": {"phase": "fuzzing", "status": "success", "recorder": recorder}}))
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_operation_answered_only_401_or_403_fails_the_run(tmp_path: Path) -> None:
    result = fuzz.FuzzResult(implementation="python", returncode=0, seed=1, junit=tmp_path / "junit.xml")
    answers = {"GET /trips": [401, 401, 403], "GET /stations": [200, 401], "POST /bookings": [401, 501]}
    fuzz.read_events(_events(tmp_path, answers), result, base_url="http://127.0.0.1:1")
    assert fuzz.unreached(result) == [
        "GET /trips: every response was 401 or 403, so no request reached the operation; give the harness "
        "credentials ([auth] in conformance.toml)"
    ]
