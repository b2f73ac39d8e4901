"""The raw ASGI ceiling: no framework, one pre-serialised body."""

import json
from typing import Any

from twinapi_bench.refs import BODY

_PAYLOAD = json.dumps(BODY, separators=(",", ":")).encode()
_HEADERS = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(_PAYLOAD)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    found = scope["path"] == "/health" and scope["method"] == "GET"
    await send({"type": "http.response.start", "status": 200 if found else 404, "headers": _HEADERS if found else []})
    await send({"type": "http.response.body", "body": _PAYLOAD if found else b""})
