"""A local stand-in for the Have I Been Pwned range API: real HTTP on a loopback port.

It answers `GET /range/{PREFIX}` as the real service does with `Add-Padding: true`:
the breached hashes of the range with their counts, plus padding lines with a
count of 0. It records every request it gets (path, headers, body), and can be
switched to answer slowly, with a 5xx, or with a page that is not a range. The
hashing here is written again from the API's documentation, not imported from
the service, so the two are checked against each other.
"""

import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest

Mode = Literal["normal", "slow", "failing", "garbage"]
# Padding lines added to every answer, as the real service pads to 800-1000 lines.
PADDING_LINES = 20
# A slow answer waits this long at most (far beyond any client timeout in the tests).
SLOW_SECONDS = 10.0
# How often the serving loop looks for `shutdown()`: every test stops its server, and
# with the standard library's 0.5 s each stop waited a quarter of a second on average.
POLL_SECONDS = 0.02


def sha1_hex(password: str) -> str:
    """The upper-case SHA-1 of a password, as the API lists it."""
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class RangeServer:
    """The fake API; `breach`, `pad` and `mode` shape its answers."""

    def __init__(self) -> None:
        self.mode: Mode = "normal"
        self.requests: list[RecordedRequest] = []
        self._counts: dict[str, int] = {}
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_SECONDS,), daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, for `BREACHED_PASSWORD_API_URL`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Service settings that point the check at this server."""
        return {
            "breached_password_check": True,
            "breached_password_api_url": self.url,
            "breached_password_on_error": "accept",
            "breached_password_timeout_seconds": 0.5,
            **overrides,
        }

    def breach(self, password: str, count: int = 42) -> None:
        """List `password` as seen `count` times in breaches."""
        self._counts[sha1_hex(password)] = count

    def pad(self, password: str) -> None:
        """List `password`'s hash as a padding line (count 0): not a breach."""
        self._counts[sha1_hex(password)] = 0

    def range_paths(self) -> list[str]:
        """The paths of the requests received, in order."""
        return [request.path for request in self.requests]

    def answer(self, prefix: str) -> str:
        """The body for a range: its listed hashes plus fresh padding."""
        lines = [
            f"{full[5:]}:{count}" for full, count in self._counts.items() if full[:5] == prefix
        ]
        lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(PADDING_LINES)]
        return "\r\n".join(sorted(lines))

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Release slow answers and stop serving."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(
                    RecordedRequest(
                        method="GET",
                        path=self.path,
                        headers={name.lower(): value for name, value in self.headers.items()},
                        body=self.rfile.read(length) if length else b"",
                    )
                )
                prefix = self.path.removeprefix("/range/")
                if not self.path.startswith("/range/") or len(prefix) != 5:
                    self._reply(404, "Not found")
                elif server.mode == "failing":
                    self._reply(503, "Service unavailable")
                elif server.mode == "garbage":
                    self._reply(200, "<html>Sign in to the hotel Wi-Fi</html>")
                else:
                    if server.mode == "slow":
                        server._release.wait(SLOW_SECONDS)
                    self._reply(200, server.answer(prefix.upper()))

            def _reply(self, status: int, body: str) -> None:
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                pass  # quiet: pytest shows failures, not every request

        return Handler


@pytest.fixture
def range_server() -> Iterator[RangeServer]:
    """A fresh fake range API for one test."""
    server = RangeServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
