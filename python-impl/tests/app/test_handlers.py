import pytest

from app.handlers import etag, expected_versions


def test_etag_is_the_quoted_version() -> None:
    assert etag(1) == '"1"' and etag(42) == '"42"'


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        (None, None),
        ("*", None),
        (" * ", None),
        ('"1"', {1}),
        ('"1", "3"', {1, 3}),
        ('"1",,\t"3" ,', {1, 3}),  # empty list elements are allowed
        ('W/"1", "2"', {2}),  # a weak tag never matches
        ('"a,b", "2"', {2}),  # a comma inside a tag belongs to the tag
        ('"x"', set()),  # a tag we never issue
        ('"01"', set()),
        ('"1234567890123456789"', set()),  # beyond any stored version
        ("1", set()),
        ('"1" "2"', set()),
        ('"1", *', set()),
        ('"1', set()),
        (",", set()),
    ],
)
def test_expected_versions(header: str | None, versions: set[int] | None) -> None:
    assert expected_versions(header) == (None if versions is None else frozenset(versions))
