import pytest

from app.store.cursor import decode_cursor, encode_cursor


def test_the_shared_encoding() -> None:
    assert encode_cursor(12) == "djE6MTI"  # the contract's example
    assert decode_cursor("djE6MTI") == 12


@pytest.mark.parametrize("seq", [1, 9, 10, 99, 12345, 2**63 - 1])
def test_round_trip(seq: int) -> None:
    assert decode_cursor(encode_cursor(seq)) == seq


@pytest.mark.parametrize(
    "cursor",
    [
        "djE6MTI=",  # padding
        "djE6MTJ",  # stray bits: decodes to v1:12 too, but is not what the server issues
        "djE6MT+",  # the standard alphabet
        "djE6MTI!",
        "v1:12",
        "",
        "é",
        encode_cursor(0),
        "djE6MDEy",  # v1:012
        "djI6MTI",  # v2:12
        "djE6LTE",  # v1:-1
        "djE6MTIg",  # v1:12 with a space
        "djE6",  # v1:
        encode_cursor(2**63),
    ],
)
def test_anything_else_is_refused(cursor: str) -> None:
    assert decode_cursor(cursor) is None
