"""Mail bombing: nobody can flood an inbox through the anonymous routes that send mail.

Each burst goes out at once (`asyncio.gather`) for one address, as from many
clients (per-IP limits are off in the tests, as behind many addresses). Each kind
of mail (verification link or "already registered" notice; reset link) is capped
at `MAILS_PER_RECIPIENT_PER_HOUR` (3) per address and clock hour by an atomic
counter taken before anything is sent, and every request still answers the same.
"""

import asyncio
from email.message import EmailMessage

import httpx

from tests.conftest import FakeClock
from tests.helpers import body_of, mails_to, register, register_verified

BURST = 12
CAP = 3
VICTIM = "inbox@example.com"


async def burst(client: httpx.AsyncClient, path: str, body: dict[str, str]) -> None:
    """`BURST` identical requests at once, all answered 202 with one body."""
    answers = await asyncio.gather(*(client.post(path, json=body) for _ in range(BURST)))
    assert {answer.status_code for answer in answers} == {202}, answers[0].text
    assert len({answer.content for answer in answers}) == 1


async def test_parallel_verification_resends_deliver_at_most_the_cap(
    client: httpx.AsyncClient, outbox: list[EmailMessage], clock: FakeClock
) -> None:
    """A pending account's first link plus twelve resends at once: three mails an hour."""
    await register(client, VICTIM)
    await burst(client, "/api/v1/auth/verify-email/resend", {"email": VICTIM})
    assert len(mails_to(outbox, VICTIM)) == CAP
    await register(client, "bystander@example.com")
    assert len(mails_to(outbox, "bystander@example.com")) == 1
    clock.advance(3600)
    await client.post("/api/v1/auth/verify-email/resend", json={"email": VICTIM})
    assert len(mails_to(outbox, VICTIM)) == CAP + 1


async def test_parallel_registrations_of_a_taken_address_deliver_at_most_the_cap(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """A verified owner's address registered twelve times at once: two notices, not twelve."""
    await register_verified(client, outbox, VICTIM)
    await burst(
        client,
        "/api/v1/auth/register",
        {"email": VICTIM, "password": "an-attackers-long-passphrase"},
    )
    messages = mails_to(outbox, VICTIM)
    assert len(messages) == CAP
    assert sum("already has one" in body_of(message) for message in messages) == CAP - 1


async def test_parallel_reset_requests_deliver_at_most_the_cap(
    client: httpx.AsyncClient, outbox: list[EmailMessage]
) -> None:
    """Twelve password-reset requests at once for one account: three reset mails."""
    await register_verified(client, outbox, VICTIM)
    await burst(client, "/api/v1/auth/password/forgot", {"email": VICTIM})
    resets = [m for m in mails_to(outbox, VICTIM) if "/reset-password?token=" in body_of(m)]
    assert len(resets) == CAP
