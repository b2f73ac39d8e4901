"""The list cursor: base64url (no padding) of ASCII `v1:<seq>`, byte-identical in both implementations."""

import base64
import binascii
import re

_SEQ = re.compile(r"v1:([1-9][0-9]*)")
_MAX_SEQ = 2**63 - 1  # SQLite's INTEGER range; beyond it no row can exist


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int | None:
    """The seq the cursor points after, or None when this server could not have issued it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        text = raw.decode("ascii")
    except (binascii.Error, ValueError):
        return None
    match = _SEQ.fullmatch(text)
    # Strict: only the exact string encode_cursor makes (no padding, no stray bits, no other alphabet).
    if match is None or encode_cursor(seq := int(match[1])) != cursor or seq > _MAX_SEQ:
        return None
    return seq
