"""The differential stage agrees on identical servers and names the disagreement of two that differ."""

from __future__ import annotations

from conftest import with_faults
from rich.console import Console

from twinapi_conformance import config as configuration
from twinapi_conformance import differential


def test_identical_implementations_agree(fixture_config: configuration.Config) -> None:
    report = differential.run(fixture_config, seed=1, examples=3, console=Console(quiet=True))
    assert report.ok, [(d.source, d.fields) for d in report.disagreements] + report.errors
    assert report.exchanges > 10


def test_a_different_answer_is_reported_side_by_side(fixture_config: configuration.Config) -> None:
    console = Console(record=True, width=200)
    report = differential.run(with_faults(fixture_config, b="disagree"), seed=1, examples=3, console=console)
    assert not report.ok
    missing = next(d for d in report.disagreements if d.source == "read a missing item")
    assert missing.fields == ["body"]
    assert missing.left["body"]["detail"] == "No item with this id."
    assert missing.right["body"]["detail"] == "No such item here."
    assert missing.curl_left.startswith("curl -i -X GET ")
    output = console.export_text()
    assert "DISAGREE read a missing item: body" in output
    assert "No such item here." in output


def test_a_body_field_the_rules_do_not_cover_is_compared(fixture_config: configuration.Config) -> None:
    # /health names the implementation; without its rule the two fixtures ("a", "b") disagree.
    config = configuration.Config(
        **{
            **fixture_config.__dict__,
            "diff": configuration.DiffSettings(
                extra_headers=[], rules=[], vectors=fixture_config.diff.vectors, max_reported=1
            ),
        }
    )
    report = differential.run(config, seed=1, examples=1, console=Console(quiet=True))
    assert any(d.source == "positive case for GET /health" for d in report.disagreements)
