"""Deny by default: every route outside an explicit public list needs a session."""

import httpx
from fastapi import FastAPI

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/auth/verify-email/resend"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/auth/csrf"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/password/forgot"),
    ("POST", "/api/v1/auth/password/reset"),
    ("POST", "/api/v1/auth/email/confirm"),
    ("POST", "/api/v1/auth/mfa/verify"),
    ("POST", "/api/v1/auth/mfa/passkey/options"),
    ("POST", "/api/v1/auth/passkeys/login/options"),
    ("POST", "/api/v1/auth/passkeys/login"),
}


async def test_every_other_route_requires_a_session(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Walk every route FastAPI knows (its OpenAPI view of the route table): 401 unless public.

    A route added without the session dependency fails here.
    """
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if (method.upper(), path) in PUBLIC:
                continue
            concrete = path.replace("{", "").replace("}", "")
            response = await client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path, response.text)
            checked += 1
    assert checked >= 10
