"""Oversized and wrongly typed request bodies are refused before any work is done."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.helpers import STRONG_PASSWORD

LIMIT = 64 * 1024


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    """A body over 64 KiB on /auth/* answers 413 (a 1 MiB password is never hashed)."""
    body = {"email": "big@example.com", "password": "p" * (1024 * 1024)}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": "Request body too large."}


async def test_streamed_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    """A body without Content-Length is counted as it arrives."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "big@example.com", "password": "'
        for _ in range(20):
            yield b"p" * 8192
        yield b'"}'

    response = await client.post(
        "/api/v1/auth/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text


async def test_body_just_under_the_limit_is_parsed(client: httpx.AsyncClient) -> None:
    """The control case: a large but allowed body reaches validation (422: password too long)."""
    body = json.dumps({"email": "big@example.com", "password": "p" * (LIMIT - 100)})
    assert len(body) < LIMIT
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_json_routes_refuse_other_media_types(
    client: httpx.AsyncClient, content_type: str
) -> None:
    """JSON sent as a "simple" content type (no CORS preflight) answers 415."""
    body = json.dumps({"email": "t@example.com", "password": STRONG_PASSWORD})
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 415, response.text
    assert response.json() == {"detail": "Unsupported media type: send application/json."}


async def test_login_accepts_only_the_urlencoded_form(client: httpx.AsyncClient) -> None:
    """Login takes the OAuth2 form, not JSON or multipart."""
    as_json = await client.post(
        "/api/v1/auth/login", json={"username": "u@example.com", "password": STRONG_PASSWORD}
    )
    assert as_json.status_code == 415, as_json.text
    as_multipart = await client.post(
        "/api/v1/auth/login", files={"username": (None, "u"), "password": (None, "p")}
    )
    assert as_multipart.status_code == 415, as_multipart.text


async def test_json_with_charset_is_accepted(client: httpx.AsyncClient) -> None:
    """Media type parameters are allowed: `application/json; charset=utf-8` is JSON."""
    body = json.dumps({"email": "t@example.com", "password": STRONG_PASSWORD})
    response = await client.post(
        "/api/v1/auth/register",
        content=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 202, response.text


async def test_trace_and_unknown_methods_are_refused(client: httpx.AsyncClient) -> None:
    """No TRACE, and no PUT on routes that do not define it."""
    assert (await client.request("TRACE", "/api/v1/auth/login")).status_code == 405
    assert (await client.put("/api/v1/auth/login")).status_code == 405
