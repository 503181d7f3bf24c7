"""Pages for the e-mailed links (`/verify-email`, `/reset-password`, `/confirm-email`).

The links carry a one-time token in the query string. Each page is static HTML under
a CSP of its own (`LINK_PAGE_CSP`: scripts from this origin only, no inline script,
calls to this origin only) with one script, `static/link-pages.js`. That script first
takes the token out of the address bar (`history.replaceState`, so it stays out of
the history, bookmarks and screen shares), then POSTs it in a JSON body to the API and
shows the outcome. Nothing about the token reaches the server's logs: the access log
writes the path without the query string.

A page is one `LinkPage` entry; `FRONTEND_URL` points the mailed links at an
application of the project's own instead, and these pages then go unused.
"""

from dataclasses import dataclass
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

STATIC_DIRECTORY = Path(__file__).resolve().parent.parent / "static"
SCRIPT_NAME = "link-pages.js"
SCRIPT_PATH = f"/{SCRIPT_NAME}"


@dataclass(frozen=True)
class LinkPage:
    """A page that a mailed link opens; its token goes to `endpoint` (under the API prefix)."""

    path: str
    title: str
    endpoint: str
    success: str
    asks_new_password: bool = False


LINK_PAGES = (
    LinkPage(
        path="/verify-email",
        title="Verify your e-mail address",
        endpoint="/auth/verify-email",
        success="Your e-mail address is verified. You can now sign in.",
    ),
    LinkPage(
        path="/reset-password",
        title="Choose a new password",
        endpoint="/auth/password/reset",
        success="Your password has been changed and every session has ended. "
        "Sign in with the new password.",
        asks_new_password=True,
    ),
    LinkPage(
        path="/confirm-email",
        title="Confirm your new e-mail address",
        endpoint="/auth/email/confirm",
        success="Your new e-mail address is confirmed: sign in with it from now on. "
        "Your other sessions have ended.",
    ),
)
LINK_PAGE_PATHS = tuple(page.path for page in LINK_PAGES)

# Shown by reset pages only; the script reveals it once it holds the token.
RESET_FORM = """\
<form id="new-password-form" hidden>
<label for="new-password">New password</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password"
 required>
<button type="submit">Set the new password</button>
</form>
"""


def render_page(page: LinkPage, *, root_path: str, api_prefix: str) -> str:
    """The page's HTML: what the script needs is in `data-` attributes, never in code."""
    form = RESET_FORM if page.asks_new_password else ""
    endpoint = escape(root_path + api_prefix + page.endpoint)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(page.title)}</title>
<link rel="icon" href="data:,">
<script src="{escape(root_path + SCRIPT_PATH)}" defer></script>
</head>
<body data-endpoint="{endpoint}" data-success="{escape(page.success)}">
<main>
<h1>{escape(page.title)}</h1>
{form}<p id="result" role="status" aria-live="polite">Working…</p>
<noscript><p>This page needs JavaScript to finish the step the e-mail asked for.</p></noscript>
</main>
</body>
</html>
"""


def build_pages_router(*, api_prefix: str) -> APIRouter:
    """The link pages and their script (left out of the OpenAPI schema)."""
    router = APIRouter(include_in_schema=False)

    def add_page(page: LinkPage) -> None:
        async def serve_page(request: Request) -> HTMLResponse:
            root_path = request.scope.get("root_path", "").rstrip("/")
            return HTMLResponse(render_page(page, root_path=root_path, api_prefix=api_prefix))

        router.add_api_route(page.path, serve_page, methods=["GET"], name=page.path)

    for page in LINK_PAGES:
        add_page(page)

    @router.get(SCRIPT_PATH)
    async def script() -> FileResponse:
        return FileResponse(STATIC_DIRECTORY / SCRIPT_NAME, media_type="text/javascript")

    return router
