"""What a person does in a browser, in headless Chromium against the rendered service.

One variant per token style: the service is started for real (uvicorn in a subprocess,
mail written to files), and Debian's Chromium, driven by Playwright, opens the mailed
links and Swagger UI. Every test fails on a console error or a failed request.

Chromium is `/usr/bin/chromium` (`apt-get install chromium`, which `.ci/run` does) or
`CHROMIUM_PATH`; Playwright's own browser downloads are never used. Without Chromium
or Playwright the tests skip, except on CI, where they fail.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import template_support as support
from template_support import Rendered
from variant_marks import variant_params

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, Response

# Debian's package; `CHROMIUM_PATH` names another system build (GitHub's Ubuntu runners
# have Google Chrome at /usr/bin/google-chrome and no Chromium outside a snap).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# One variant per token style; both MFA choices and the cookie style's pre-session step.
BROWSER_VARIANTS = [
    {"database": "sql", "token_style": "jwt", "mfa": "totp"},
    {"database": "sql", "token_style": "opaque", "mfa": "none"},
    {"database": "sql", "token_style": "cookie", "mfa": "totp"},
]
by_token_style = pytest.mark.parametrize("variant", variant_params(BROWSER_VARIANTS))
PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "a brand new passphrase for the browser test"
TIMEOUT_MS = 15_000
# Chromium reports an unrecognised Permissions-Policy feature as a warning: both count.
PROBLEM_LEVELS = frozenset({"error", "warning"})
STARTUP_SECONDS = 60


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@dataclass
class Service:
    """The rendered service running on loopback, and where its mail lands."""

    variant: dict[str, Any]
    port: int
    mail_dir: Path
    seen_mail: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        """The address the README and `serve` print (PUBLIC_URL says `localhost`)."""
        return f"http://127.0.0.1:{self.port}"

    def new_link(self, page_path: str) -> str:
        """The link to `page_path` in the newest unread mail (waits for it)."""
        pattern = re.compile(rf"http://\S+{re.escape(page_path)}\?token=[\w.~%-]+")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for path in sorted(self.mail_dir.glob("*.eml"), key=lambda item: item.stat().st_mtime):
                if path.name in self.seen_mail:
                    continue
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                body = message.get_body(preferencelist=("plain",))
                found = pattern.search(body.get_content() if body is not None else "")
                if found:
                    self.seen_mail.add(path.name)
                    return found.group(0)
            time.sleep(0.1)
        raise AssertionError(f"no mail with a {page_path} link in {self.mail_dir}")

    def api(self) -> httpx.Client:
        """An HTTP client for the API (not a browser: no cookies, no CSRF dance)."""
        return httpx.Client(base_url=f"{self.url}/api/v1", timeout=10)

    def verified_account(self, address: str) -> None:
        """Register `address` and confirm it through the API with the mailed token."""
        with self.api() as client:
            reply = client.post("/auth/register", json={"email": address, "password": PASSWORD})
            assert reply.status_code == 202, reply.text
            token = self.new_link("/verify-email").partition("token=")[2]
            reply = client.post("/auth/verify-email", json={"token": token})
            assert reply.status_code == 200, reply.text

    def reset_link(self, address: str) -> str:
        """A verified account at `address`, and the link of its password-reset mail."""
        self.verified_account(address)
        with self.api() as client:
            reply = client.post("/auth/password/forgot", json={"email": address})
            assert reply.status_code == 202, reply.text
        return self.new_link("/reset-password")


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with httpx.Client(timeout=2) as client:
                if client.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the service did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)


@pytest.fixture(scope="session")
def start_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Rendered], Service]]:
    """Start a rendered project's service once per session and variant (stopped at the end)."""
    started: dict[str, Service] = {}
    processes: list[subprocess.Popen[bytes]] = []

    def start(rendered: Rendered) -> Service:
        if rendered.id in started:
            return started[rendered.id]
        scratch = tmp_path_factory.mktemp(f"browser-{rendered.id}")
        port = support.free_port()
        service = Service(rendered.variant, port, scratch / "mail")
        service.mail_dir.mkdir()
        environment = support.clean_environment(
            PYTHONPATH=str(rendered.path / "src"),
            ENVIRONMENT="development",
            SECRET_KEY="browser-test-" + "5f3c9a0e7b1d4c2a" * 4,
            PUBLIC_URL=f"http://localhost:{port}",
            DATABASE_URL=f"sqlite+aiosqlite:///{scratch / 'service.db'}",
            EMAIL_BACKEND="file",
            EMAIL_FILE_DIR=str(service.mail_dir),
            # The tests sign in and register more often than a person would.
            RATE_LIMIT_ENABLED="false",
        )
        log = scratch / "service.log"
        package = rendered.answers["package_name"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", f"{package}.main:app",
                 "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                cwd=scratch,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        processes.append(process)
        _wait_until_listening(process, port, log)
        started[rendered.id] = service
        return service

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched once per session."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _in_ci():
            raise
        pytest.skip("playwright is not installed (requirements-test.txt)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page, and every console error and failed request it has had."""

    page: Page
    problems: list[str]

    def assert_clean(self, *, refused: tuple[int, str] | None = None) -> None:
        """No console error, no failed request, no uncaught exception.

        `refused` (status, path) is one refusal the test provoked on purpose: Chromium
        reports the answer as a failed resource, and nothing else may show up with it.
        """
        unexpected = [
            problem
            for problem in self.problems
            if refused is None or not (str(refused[0]) in problem and refused[1] in problem)
        ]
        assert unexpected == [], "\n".join(self.problems)
        if refused is not None:
            assert self.problems, f"no refusal {refused} was seen"
        self.problems.clear()


@pytest.fixture
def watched_page(browser: Browser) -> Iterator[Watched]:
    """A page in a fresh browser context that records what went wrong on it."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in PROBLEM_LEVELS:
            problems.append(f"console {message.type}: {message.text} ({message.location})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def on_failed(request: Request) -> None:
        problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    # Chromium reports problems of its own (a bad header, a blocked resource) in its
    # log, not through the console API that Playwright's "console" event follows.
    browser_log = context.new_cdp_session(page)
    browser_log.on(
        "Log.entryAdded",
        lambda event: (
            problems.append(f"browser log: {event['entry']}")
            if event["entry"]["level"] in PROBLEM_LEVELS
            else None
        ),
    )
    browser_log.send("Log.enable")
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    watched = Watched(page, problems)
    yield watched
    context.close()


@pytest.fixture
def service(
    variant: dict[str, Any],
    render_variant: Callable[[dict[str, Any]], Rendered],
    start_service: Callable[[Rendered], Service],
) -> Service:
    """The variant's service, running."""
    return start_service(render_variant(variant))


def _address(request: pytest.FixtureRequest, what: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return f"{what}-{name}@example.com"


def _submit_new_password(page: Page, password: str) -> None:
    page.get_by_label("New password").fill(password)
    page.get_by_role("button", name="Set the new password").click()


def _outcome(page: Page) -> tuple[str, str]:
    result = page.locator("#result:not([data-outcome='pending']):not([data-outcome='ready'])")
    result.wait_for()
    return result.get_attribute("data-outcome") or "", result.inner_text()


@by_token_style
def test_mailed_verification_link_verifies_the_address(
    service: Service, watched_page: Watched, request: pytest.FixtureRequest
) -> None:
    """Register, open the mailed link: the page says verified and the token left the URL."""
    address = _address(request, "verify")
    with service.api() as client:
        reply = client.post("/auth/register", json={"email": address, "password": PASSWORD})
        assert reply.status_code == 202, reply.text
    link = service.new_link("/verify-email")
    page = watched_page.page
    page.goto(link)
    outcome, text = _outcome(page)
    assert (outcome, text) == ("success", "Your e-mail address is verified. You can now sign in.")
    assert page.evaluate("window.location.search") == ""
    assert "token" not in page.url
    watched_page.assert_clean()


@by_token_style
def test_mailed_reset_link_sets_a_new_password_that_signs_in(
    service: Service, watched_page: Watched, request: pytest.FixtureRequest
) -> None:
    """Forgot password, open the mailed link, type a new password, then sign in with it."""
    address = _address(request, "reset")
    link = service.reset_link(address)
    page = watched_page.page
    page.goto(link)
    assert page.evaluate("window.location.search") == ""
    _submit_new_password(page, NEW_PASSWORD)
    outcome, text = _outcome(page)
    assert outcome == "success", text
    assert "password has been changed" in text
    watched_page.assert_clean()
    me = _sign_in_from_docs(watched_page, service, address, NEW_PASSWORD)
    assert me["email"] == address
    watched_page.assert_clean()


@by_token_style
def test_docs_sign_in_and_call_users_me(
    service: Service, watched_page: Watched, request: pytest.FixtureRequest
) -> None:
    """Swagger UI at /docs: sign in ("Authorize", or the cookie flow) and call /users/me."""
    address = _address(request, "docs")
    service.verified_account(address)
    me = _sign_in_from_docs(watched_page, service, address, PASSWORD)
    assert me["email"] == address
    assert me["email_verified"] is True
    watched_page.assert_clean()


@pytest.mark.parametrize("variant", variant_params(BROWSER_VARIANTS[-1:]))
def test_link_pages_say_what_went_wrong(
    service: Service, watched_page: Watched, request: pytest.FixtureRequest
) -> None:
    """A weak new password shows the policy's reason and keeps the form; a used link says so."""
    address = _address(request, "refused")
    link = service.reset_link(address)
    reset_endpoint = "/api/v1/auth/password/reset"
    page = watched_page.page
    page.goto(link)
    _submit_new_password(page, "short")
    outcome, text = _outcome(page)
    assert outcome == "error"
    assert "at least 15" in text, text
    watched_page.assert_clean(refused=(422, reset_endpoint))
    _submit_new_password(page, NEW_PASSWORD)
    page.locator("#result[data-outcome='success']").wait_for()
    watched_page.assert_clean()
    page.goto(link)  # the same link again
    _submit_new_password(page, NEW_PASSWORD + " again")
    outcome, text = _outcome(page)
    assert outcome == "error"
    assert "already been used or has expired" in text, text
    assert page.locator("#new-password-form").is_hidden()
    watched_page.assert_clean(refused=(400, reset_endpoint))


# ------------------------------------------------------------------- Swagger UI


def _operation(page: Page, method: str, path: str) -> Locator:
    """The Swagger UI block of one operation, expanded, with "Try it out" pressed."""
    block = page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    block.locator(".opblock-summary").first.click()
    block.locator(".try-out__btn").click()
    return block


def _execute(block: Locator) -> tuple[int, str]:
    block.locator(".execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    body = block.locator(".live-responses-table .microlight").first
    return int(status.inner_text().strip()), body.inner_text()


def _sign_in_from_docs(
    watched: Watched, service: Service, address: str, password: str
) -> dict[str, Any]:
    """Sign in on /docs as a person would, call `GET /users/me`, return its JSON."""
    import json

    page = watched.page
    page.goto(f"{service.url}/docs")
    page.locator(".opblock").first.wait_for()
    if service.variant["token_style"] == "cookie":
        # The pre-session step, then the login form; the docs page echoes the CSRF cookie.
        status, body = _execute(_operation(page, "GET", "/api/v1/auth/csrf"))
        assert status == 200, body
        login = _operation(page, "POST", "/api/v1/auth/login")
        login.locator('input[placeholder="username"]').fill(address)
        login.locator('input[placeholder="password"]').fill(password)
        status, body = _execute(login)
        assert status == 200, body
    else:
        page.locator(".auth-wrapper .authorize").click()
        page.locator("#oauth_username").fill(address)
        page.locator("#oauth_password").fill(password)
        buttons = page.locator(".auth-btn-wrapper")
        # Swagger UI posts the password form to the login route and keeps the token. (The
        # dialog also offers the personal-access-token scheme, with a button of its own.)
        with page.expect_response(f"{service.url}/api/v1/auth/login") as token_reply:
            page.get_by_role("button", name="Apply given OAuth2 credentials").click()
        assert token_reply.value.status == 200, token_reply.value.text()
        page.locator(".auth-container").get_by_text("Authorized", exact=True).wait_for()
        buttons.locator(".btn-done").first.click()  # one Close per scheme; any closes it
    status, body = _execute(_operation(page, "GET", "/api/v1/users/me"))
    assert status == 200, body
    result: dict[str, Any] = json.loads(body)
    return result


def test_browser_variants_cover_every_token_style() -> None:
    """A new token style gets a browser test (the list above is kept in step)."""
    styles = support.matrix_questions()["token_style"]
    assert sorted(variant["token_style"] for variant in BROWSER_VARIANTS) == sorted(styles)


# --------------------------------------------------------------------- passkeys

# Every token style with passkeys (they come with `mfa=totp`).
PASSKEY_VARIANTS = [
    {"database": "sql", "token_style": style, "mfa": "totp"}
    for style in ("jwt", "opaque", "cookie")
]
# What a site's own script does with the server's WebAuthn Level 3 JSON: sign in with
# the password, register a passkey, forget every credential, then sign in with the
# passkey alone and read `/users/me`. The cookie style echoes its CSRF cookie.
PASSKEY_FLOW = """
async ({address, password, cookieStyle}) => {
  const csrfCookie = () => (document.cookie.split("; ")
    .find((pair) => pair.startsWith("__Host-csrf=")) || "").slice("__Host-csrf=".length);
  let credentialHeaders = {};
  async function call(method, path, body, form) {
    const headers = {...credentialHeaders};
    if (cookieStyle && method !== "GET") headers["X-CSRF-Token"] = csrfCookie();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const reply = await fetch("/api/v1" + path, {
      method, headers, body: form || (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await reply.text();
    if (!reply.ok) throw new Error(`${method} ${path}: ${reply.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  async function signedIn(answer) {
    if (!cookieStyle) credentialHeaders = {Authorization: "Bearer " + answer.access_token};
  }
  if (cookieStyle) await call("GET", "/auth/csrf");
  await signedIn(await call("POST", "/auth/login", undefined,
                            new URLSearchParams({username: address, password})));
  const creation = await call("POST", "/auth/passkeys/register/options", {password});
  const created = await navigator.credentials.create(
    {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(creation)});
  const registered = await call("POST", "/auth/passkeys/register",
                                {name: "this browser", credential: created.toJSON()});
  await call("POST", "/auth/logout");
  credentialHeaders = {};
  if (cookieStyle) await call("GET", "/auth/csrf");
  const request = await call("POST", "/auth/passkeys/login/options");
  const asserted = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(request)});
  await signedIn(await call("POST", "/auth/passkeys/login", {credential: asserted.toJSON()}));
  const me = await call("GET", "/users/me");
  return {passkey: registered.name, email: me.email};
}
"""


@pytest.mark.parametrize("variant", variant_params(PASSKEY_VARIANTS))
def test_passkey_registers_and_signs_in_without_a_password(
    service: Service, watched_page: Watched, request: pytest.FixtureRequest
) -> None:
    """Chromium's virtual authenticator (CTAP2, resident keys, user verification) makes a
    passkey through the server's options, and signs in with it alone."""
    address = _address(request, "passkey")
    service.verified_account(address)
    page = watched_page.page
    authenticator = page.context.new_cdp_session(page)
    authenticator.send("WebAuthn.enable")
    added = authenticator.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    # The relying party is `localhost`, from PUBLIC_URL: the page must be that origin.
    page.goto(f"http://localhost:{service.port}/docs")
    outcome = page.evaluate(
        PASSKEY_FLOW,
        {
            "address": address,
            "password": PASSWORD,
            "cookieStyle": service.variant["token_style"] == "cookie",
        },
    )
    assert outcome == {"passkey": "this browser", "email": address}
    stored = authenticator.send(
        "WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]}
    )["credentials"]
    assert [credential["isResidentCredential"] for credential in stored] == [True]
    watched_page.assert_clean()
