"""Changing the e-mail address: a link to the new address, a notice to the old one.

Nothing changes until the link is used; the link works once, expires, and dies
when a newer change is asked for, the password changes or the account goes.
"""

from email.message import EmailMessage

import httpx
from fastapi import FastAPI

from tests.auth_flow import forget_credentials, login, presenting, sign_in
from tests.conftest import PUBLIC_URL, FakeClock
from tests.helpers import (
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    body_of,
    link_token,
    mails_to,
    register_verified,
)

EMAIL = "mover@example.com"
NEW_EMAIL = "mover@new.example"
TTL = 1800  # EMAIL_CHANGE_TTL_SECONDS
CAP = 3  # MAILS_PER_RECIPIENT_PER_HOUR


async def request_change(
    client: httpx.AsyncClient, new_email: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    """Ask, signed in, to move the account to `new_email`."""
    return await client.post(
        "/api/v1/auth/email/change", json={"new_email": new_email, "password": password}
    )


async def confirm(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Use the link mailed to the new address."""
    return await client.post("/api/v1/auth/email/confirm", json={"token": token})


def change_link(outbox: list[EmailMessage], address: str = NEW_EMAIL) -> str:
    """The token of the newest confirmation link mailed to `address`."""
    return link_token(mails_to(outbox, address)[-1], "confirm-email")


async def signed_in_mover(client: httpx.AsyncClient, outbox: list[EmailMessage]) -> None:
    """Register and verify `EMAIL` and sign the client in as it."""
    await register_verified(client, outbox, EMAIL)
    await sign_in(client, EMAIL)


async def current_address(client: httpx.AsyncClient) -> str:
    """The address of the signed-in account."""
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 200, response.text
    address = response.json()["email"]
    assert isinstance(address, str)
    return address


async def test_confirmed_change_moves_the_login_and_ends_other_sessions(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """The link makes the new address the login; this session stays, the other ends."""
    await register_verified(client, outbox, EMAIL)
    other = await sign_in(client, EMAIL)
    forget_credentials(client)
    await sign_in(client, EMAIL)

    response = await request_change(client, NEW_EMAIL)
    assert response.status_code == 202, response.text
    assert await current_address(client) == EMAIL  # nothing changes before the link is used
    response = await confirm(client, change_link(outbox))
    assert response.status_code == 200, response.text

    assert await current_address(client) == NEW_EMAIL
    assert (await client.get("/api/v1/users/me", headers=presenting(other))).status_code == 401
    assert (await login(client, NEW_EMAIL)).status_code == 200
    assert (await login(client, EMAIL)).status_code == 401


async def test_old_address_is_told_without_a_link(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """The current address hears of the request and of the change, with nothing to click."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    await confirm(client, change_link(outbox))
    requested, changed = mails_to(outbox, EMAIL)[-2:]
    assert "change of your e-mail address was requested" in requested["Subject"]
    assert "your e-mail address was changed" in changed["Subject"]
    for notice in (requested, changed):
        assert NEW_EMAIL in body_of(notice)
        assert "token=" not in body_of(notice)
        assert STRONG_PASSWORD not in body_of(notice)


async def test_link_names_the_service_and_its_lifetime(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """The link points at PUBLIC_URL's confirmation page and says when it expires."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    (message,) = mails_to(outbox, NEW_EMAIL)
    assert "https://bastion.test/confirm-email?token=" in body_of(message)
    assert "expires in 30 minutes" in body_of(message)


async def test_new_address_is_normalised_as_at_registration(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """A differently written address is mailed, and stored, in its one normal form."""
    await signed_in_mover(client, outbox)
    response = await request_change(client, "  Mover@NEW.example ")
    assert response.status_code == 202, response.text
    assert (await confirm(client, change_link(outbox, NEW_EMAIL))).status_code == 200
    assert await current_address(client) == NEW_EMAIL


async def test_wrong_password_is_refused_and_mails_nothing(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """A wrong current password answers 400; no link goes out and nothing changes."""
    await signed_in_mover(client, outbox)
    response = await request_change(client, NEW_EMAIL, "not-my-current-password")
    assert response.status_code == 400, response.text
    assert mails_to(outbox, NEW_EMAIL) == []
    assert await current_address(client) == EMAIL


async def test_wrong_passwords_are_throttled_like_every_reauthentication(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """After LOGIN_FAILURES_BEFORE_THROTTLE (5) wrong passwords, even the right one waits."""
    await signed_in_mover(client, outbox)
    for _ in range(5):
        response = await request_change(client, NEW_EMAIL, "not-my-current-password")
        assert response.status_code == 400, response.text
    response = await request_change(client, NEW_EMAIL)
    assert response.status_code == 429, response.text
    assert mails_to(outbox, NEW_EMAIL) == []


async def test_change_needs_a_session(client: httpx.AsyncClient) -> None:
    """Anonymous: 401."""
    response = await request_change(client, NEW_EMAIL)
    assert response.status_code == 401, response.text


async def test_link_works_once(client: httpx.AsyncClient, outbox: list[EmailMessage]) -> None:
    """A used link answers 400 the second time."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    token = change_link(outbox)
    assert (await confirm(client, token)).status_code == 200
    response = await confirm(client, token)
    assert response.status_code == 400, response.text


async def test_expired_link_is_refused(
    client: httpx.AsyncClient, outbox: list[EmailMessage], clock: FakeClock
) -> None:
    """After EMAIL_CHANGE_TTL_SECONDS the link answers 400 and the address stays."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    clock.advance(TTL)
    response = await confirm(client, change_link(outbox))
    assert response.status_code == 400, response.text
    assert (await login(client, EMAIL)).status_code == 200


async def test_newer_request_supersedes_the_older_link(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Only the newest request's link works."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    older = change_link(outbox)
    await request_change(client, "second@new.example")
    assert (await confirm(client, older)).status_code == 400
    assert (await confirm(client, change_link(outbox, "second@new.example"))).status_code == 200
    assert await current_address(client) == "second@new.example"


async def test_password_change_kills_the_link(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """A link asked for before the password changed no longer works."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    response = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert response.status_code == 204, response.text
    response = await confirm(client, change_link(outbox))
    assert response.status_code == 400, response.text
    assert await current_address(client) == EMAIL


async def test_password_reset_kills_the_link(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """A password reset (somebody who lost the password, or its owner) ends the link too."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    await client.post("/api/v1/auth/password/forgot", json={"email": EMAIL})
    reset = link_token(mails_to(outbox, EMAIL)[-1], "reset-password")
    response = await client.post(
        "/api/v1/auth/password/reset", json={"token": reset, "new_password": OTHER_STRONG_PASSWORD}
    )
    assert response.status_code == 204, response.text
    response = await confirm(client, change_link(outbox))
    assert response.status_code == 400, response.text
    assert (await login(client, EMAIL, OTHER_STRONG_PASSWORD)).status_code == 200


async def test_deleted_account_link_is_refused(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Deleting the account ends its link, and the new address stays free."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    response = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": STRONG_PASSWORD}
    )
    assert response.status_code == 204, response.text
    response = await confirm(client, change_link(outbox))
    assert response.status_code == 400, response.text
    forget_credentials(client)
    await register_verified(client, outbox, NEW_EMAIL)


async def test_taken_address_gets_the_same_answer_and_its_holder_is_told(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Same 202 and body as a free address; the holder gets a notice, nobody a link."""
    await register_verified(client, outbox, NEW_EMAIL)
    forget_credentials(client)
    await signed_in_mover(client, outbox)
    free = await request_change(client, "free@new.example")
    taken = await request_change(client, NEW_EMAIL)
    assert (taken.status_code, taken.content) == (free.status_code, free.content)
    notice = mails_to(outbox, NEW_EMAIL)[-1]
    assert "someone tried to use your address" in notice["Subject"]
    assert "token=" not in body_of(notice)
    assert EMAIL not in body_of(notice)
    assert await current_address(client) == EMAIL


async def test_address_taken_before_the_link_is_used_is_refused(
    app: FastAPI, client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Someone registers the address between request and click: 400, nothing changes."""
    await signed_in_mover(client, outbox)
    await request_change(client, NEW_EMAIL)
    token = change_link(outbox)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as stranger:
        await register_verified(stranger, outbox, NEW_EMAIL)
    response = await confirm(client, token)
    assert response.status_code == 400, response.text
    assert await current_address(client) == EMAIL
    assert (await login(client, NEW_EMAIL)).status_code == 200


async def test_links_to_one_address_are_capped_per_hour(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """MAILS_PER_RECIPIENT_PER_HOUR (3) links to an address per hour; the rest are dropped."""
    await signed_in_mover(client, outbox)
    for _ in range(CAP + 2):
        assert (await request_change(client, NEW_EMAIL)).status_code == 202
    assert len(mails_to(outbox, NEW_EMAIL)) == CAP


async def test_notices_to_a_taken_address_are_capped_per_hour(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """The holder of a taken address cannot be flooded through this route either."""
    await register_verified(client, outbox, NEW_EMAIL)
    forget_credentials(client)
    await signed_in_mover(client, outbox)
    before = len(mails_to(outbox, NEW_EMAIL))
    for _ in range(CAP + 2):
        assert (await request_change(client, NEW_EMAIL)).status_code == 202
    assert len(mails_to(outbox, NEW_EMAIL)) == before + CAP


async def test_malformed_input_is_a_422(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Not an address, a missing password or an unknown field: 422, nothing mailed."""
    await signed_in_mover(client, outbox)
    sent = len(outbox)
    for body in (
        {"new_email": "not-an-address", "password": STRONG_PASSWORD},
        {"new_email": NEW_EMAIL},
        {"new_email": NEW_EMAIL, "password": STRONG_PASSWORD, "roles": ["admin"]},
    ):
        response = await client.post("/api/v1/auth/email/change", json=body)
        assert response.status_code == 422, response.text
    assert len(outbox) == sent
