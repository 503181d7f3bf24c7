"""E-mail change under attack: replayed links in parallel, races for one address, guessing.

Each burst goes out at once with `asyncio.gather` and meets in the real database:
the link is spent by one conditional write, and the address is claimed by another
(the unique e-mail index on SQL, the e-mail claim item in a DynamoDB transaction),
so however the requests interleave, one wins.
"""

import asyncio
from email.message import EmailMessage

import httpx
from fastapi import FastAPI

from tests.auth_flow import login, sign_in
from tests.conftest import PUBLIC_URL
from tests.helpers import STRONG_PASSWORD, link_token, mails_to, register_verified

BURST = 20
FREE = 5  # LOGIN_FAILURES_BEFORE_THROTTLE
WANTED = "wanted@example.com"


async def confirm_from(app: FastAPI, number: int, token: str) -> httpx.Response:
    """Use a link from a client of its own, at its own address."""
    transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{number}", 40000 + number))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        return await client.post("/api/v1/auth/email/confirm", json={"token": token})


async def ask_to_move(client: httpx.AsyncClient, outbox: list[EmailMessage], email: str) -> str:
    """Register `email`, sign in, ask to move to `WANTED`; returns the link's token."""
    await register_verified(client, outbox, email)
    await sign_in(client, email)
    response = await client.post(
        "/api/v1/auth/email/change", json={"new_email": WANTED, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 202, response.text
    return link_token(mails_to(outbox, WANTED)[-1], "confirm-email")


async def test_parallel_uses_of_one_link_change_the_address_once(
    app: FastAPI, client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Twenty confirmations of one link at once: one 200, nineteen 400."""
    token = await ask_to_move(client, outbox, "mover@example.com")
    responses = await asyncio.gather(*(confirm_from(app, number, token) for number in range(BURST)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * (BURST - 1), statuses
    assert mails_to(outbox, "mover@example.com")[-1]["Subject"].endswith(
        "your e-mail address was changed"
    )


async def test_two_accounts_confirming_one_address_at_once_one_wins(
    app: FastAPI, client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Both got a link while the address was free; used at once, exactly one moves."""
    first = await ask_to_move(client, outbox, "first@example.com")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as other:
        second = await ask_to_move(other, outbox, "second@example.com")
    responses = await asyncio.gather(confirm_from(app, 1, first), confirm_from(app, 2, second))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 400], [response.text for response in responses]
    loser = "second@example.com" if responses[0].status_code == 200 else "first@example.com"
    # The winner signs in with the address; the loser still has its own.
    assert (await login(client, WANTED)).status_code == 200
    assert (await login(client, loser)).status_code == 200


async def test_parallel_wrong_passwords_on_email_change(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """A stolen session guessing the password to move the account: five checked, then 429."""
    await register_verified(client, outbox, "victim@example.com")
    await sign_in(client, "victim@example.com")
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/email/change",
                json={"new_email": WANTED, "password": "definitely-not-the-password"},
            )
            for _ in range(BURST)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [400] * FREE + [429] * (BURST - FREE), statuses
    assert mails_to(outbox, WANTED) == []
