"""The security headers of every HTTP response: the baseline and the few pages' own CSPs.

`api/middleware/security_headers.py` sets them on every response, errors included.
"""

from collections.abc import Collection

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
