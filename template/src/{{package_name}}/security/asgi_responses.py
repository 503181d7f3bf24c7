"""Answering from pure ASGI middleware, before or instead of the application."""

import json
from collections.abc import Mapping

from starlette.types import Send


async def send_json(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    """Send a complete `{"detail": ...}` JSON response, with any extra `headers`."""
    body = json.dumps({"detail": detail}).encode()
    extra = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
