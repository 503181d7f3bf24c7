"""Answering from pure ASGI middleware, before or instead of the application."""

import json

from starlette.types import Send


async def send_json(send: Send, status: int, detail: str) -> None:
    """Send a complete `{"detail": ...}` JSON response."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
