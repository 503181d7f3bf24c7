"""Small helpers shared by the HTTP tests."""

import re
from email.message import EmailMessage

import httpx

STRONG_PASSWORD = "correct-mule-lantern-orbit-42"
OTHER_STRONG_PASSWORD = "velvet-quarry-monsoon-tundra-7"


def body_of(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = message.get_body(("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_token(message: EmailMessage, path: str) -> str:
    """The `token` query parameter of the `path` link in a message."""
    match = re.search(rf"/{path}\?token=([A-Za-z0-9_-]+)", body_of(message))
    assert match, body_of(message)
    return match.group(1)


def comparable(response: httpx.Response) -> tuple[int, bytes, list[str]]:
    """Status, body and header names, ignoring the per-request id and date."""
    names = sorted(name for name in response.headers if name not in {"x-request-id", "date"})
    return response.status_code, response.content, names


def mails_to(outbox: list[EmailMessage], address: str) -> list[EmailMessage]:
    """The messages sent to one address, oldest first."""
    return [message for message in outbox if message["To"] == address]


async def register(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    """Call the registration route."""
    return await client.post("/api/v1/auth/register", json={"email": email, "password": password})


async def register_verified(
    client: httpx.AsyncClient,
    outbox: list[EmailMessage],
    email: str,
    password: str = STRONG_PASSWORD,
) -> None:
    """Register an account and verify its address through the e-mailed link."""
    response = await register(client, email, password)
    assert response.status_code == 202, response.text
    token = link_token(mails_to(outbox, email)[-1], "verify-email")
    response = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200, response.text
