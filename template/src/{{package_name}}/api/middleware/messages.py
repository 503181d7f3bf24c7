"""ASGI response messages: answering from middleware, and editing a response's headers."""

import json
from collections.abc import Iterable, Mapping

from starlette.types import Message, Send

RawHeaders = list[tuple[bytes, bytes]]


def raw_headers(headers: Mapping[str, str]) -> dict[bytes, bytes]:
    """`headers` as an ASGI message carries them: lower-case names, latin-1 bytes."""
    return {
        name.lower().encode("latin-1"): value.encode("latin-1") for name, value in headers.items()
    }


def set_headers(
    message: Message, values: Mapping[bytes, bytes], *, drop: Iterable[bytes] = ()
) -> None:
    """Set `values` on a `http.response.start` message and remove the `drop` names.

    A header already present keeps its place and gets the new value (later copies go),
    the others follow in the order given: what `MutableHeaders` item assignment does,
    in one pass over the list instead of one per header.
    """
    dropped = frozenset(drop)
    placed: set[bytes] = set()
    headers: RawHeaders = []
    for name, value in message.get("headers", ()):
        if name in dropped or name in placed:
            continue
        if name in values:
            placed.add(name)
            headers.append((name, values[name]))
        else:
            headers.append((name, value))
    headers.extend((name, value) for name, value in values.items() if name not in placed)
    message["headers"] = headers


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
