"""Security headers on every HTTP response, errors included (a pure ASGI middleware)."""

from collections.abc import Collection, Mapping

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
# The pages that e-mailed links open: their one script and its calls to the API come
# from this origin; the icon is an empty `data:` one (no request for /favicon.ico).
LINK_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Every feature listed is one Chromium recognises: an unknown name is a console
# warning on every page ("Unrecognized feature"), which the Bastion template's browser
# tests catch. Chromium 156 dropped or never shipped ambient-light-sensor,
# battery, document-domain, execution-while-*, navigation-override and web-share.
POLICY_FEATURES = (
    "accelerometer", "autoplay", "camera", "cross-origin-isolated", "display-capture",
    "encrypted-media", "fullscreen", "geolocation", "gyroscope", "keyboard-map",
    "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
    "publickey-credentials-get", "screen-wake-lock", "sync-xhr", "usb",
    "xr-spatial-tracking",
)  # fmt: skip


def permissions_policy(*, same_origin: Collection[str] = ()) -> str:
    """Every feature off, except those in `same_origin`: on for this origin's own pages
    and still off for any frame of another origin (passkeys need `publickey-credentials-get`).
    """
    unknown = set(same_origin) - set(POLICY_FEATURES)
    if unknown:
        raise ValueError(f"not a listed feature: {sorted(unknown)}")
    return ", ".join(
        f"{feature}=(self)" if feature in same_origin else f"{feature}=()"
        for feature in POLICY_FEATURES
    )


PERMISSIONS_POLICY = permissions_policy()
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
    """Sets the baseline headers on every response and drops fingerprinting ones.

    `page_policies` gives the few HTML pages (by exact path) a CSP of their own in
    place of `STRICT_CSP`; `permissions` replaces the default `PERMISSIONS_POLICY`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        page_policies: Mapping[str, str] | None = None,
        permissions: str = PERMISSIONS_POLICY,
    ) -> None:
        self.app = app
        self.page_policies = dict(page_policies or {})
        self.headers = {**SECURITY_HEADERS, "Permissions-Policy": permissions}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page_policy = self.page_policies.get(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name in FINGERPRINT_HEADERS:
                    del headers[name]
                for name, value in self.headers.items():
                    headers[name] = value
                if page_policy is not None:
                    headers["Content-Security-Policy"] = page_policy
            await send(message)

        await self.app(scope, receive, send_with_headers)
