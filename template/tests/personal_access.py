"""Personal access tokens for the tests: create one over HTTP, call with one."""

from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import PUBLIC_URL
from tests.helpers import STRONG_PASSWORD

TOKENS = "/api/v1/auth/tokens"
REPORTS = "/api/v1/examples/reports"
ME = "/api/v1/users/me"


async def create_token(
    client: httpx.AsyncClient,
    *,
    scopes: Iterable[str] = ("reports:read",),
    days: int = 30,
    name: str = "nightly export",
    password: str = STRONG_PASSWORD,
) -> httpx.Response:
    """Ask for a new token as the signed-in client."""
    body = {"name": name, "scopes": list(scopes), "expires_in_days": days, "password": password}
    return await client.post(TOKENS, json=body)


async def new_token(client: httpx.AsyncClient, *, scopes: Iterable[str] = ("reports:read",)) -> str:
    """A new token of the signed-in client's user, with `scopes`."""
    response = await create_token(client, scopes=scopes)
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    """The headers a script sends: the token, and no session credential."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def script(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second client, holding no session: a script that has only its token."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http_client:
        yield http_client
