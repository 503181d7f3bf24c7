"""Security headers on every HTTP response, errors included (a pure ASGI middleware)."""

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Only the Swagger UI page gets this one: its scripts and styles are served by this
# process; Swagger UI sets inline styles, and "Try it out" calls the API itself.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "ambient-light-sensor", "autoplay", "battery", "camera",
        "cross-origin-isolated", "display-capture", "document-domain", "encrypted-media",
        "execution-while-not-rendered", "execution-while-out-of-viewport", "fullscreen",
        "geolocation", "gyroscope", "keyboard-map", "magnetometer", "microphone", "midi",
        "navigation-override", "payment", "picture-in-picture", "publickey-credentials-get",
        "screen-wake-lock", "sync-xhr", "usb", "web-share", "xr-spatial-tracking",
    )
)  # fmt: skip
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": STRICT_CSP,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Headers that only tell an attacker what runs here.
FINGERPRINT_HEADERS = ("server", "x-powered-by")


class SecurityHeadersMiddleware:
    """Sets the baseline headers on every response and drops fingerprinting ones."""

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope["path"] in self.docs_paths

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name in FINGERPRINT_HEADERS:
                    del headers[name]
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if is_docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)
