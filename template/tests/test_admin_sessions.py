"""Administrators and a user's sessions (ASVS 7.4.5): list, end one, end all.

The ended session's very next request is refused, whatever the credential
(for `jwt` the access token itself, which is still unexpired and validly signed:
every request checks its session). Only administrators may do it, and a session
id is only found under its own user (no IDOR).
"""

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import pytest
from fastapi import FastAPI

from tests.auth_flow import forget_credentials, login, presenting, sign_in
from tests.helpers import register_verified
from tests.test_admin import ADMIN, USER, create_admin

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True, slots=True)
class Member:
    """An ordinary user with two live sessions, each presented by its own credential."""

    id: str
    first: str
    second: str


async def session_id_of(client: httpx.AsyncClient, credential: str) -> str:
    """The id of the session a credential belongs to, as its owner sees it."""
    response = await client.get("/api/v1/auth/sessions", headers=presenting(credential))
    assert response.status_code == 200, response.text
    (current,) = [session["id"] for session in response.json() if session["current"]]
    assert isinstance(current, str)
    return current


async def is_live(client: httpx.AsyncClient, credential: str) -> bool:
    """Whether the credential still opens `/users/me` (401 when its session ended)."""
    response = await client.get("/api/v1/users/me", headers=presenting(credential))
    assert response.status_code in {200, 401}, response.text
    return response.status_code == 200


@pytest.fixture
async def member(client: httpx.AsyncClient, outbox: list[EmailMessage]) -> Member:
    """A verified user signed in twice; the client is left anonymous."""
    await register_verified(client, outbox, USER)
    first = await sign_in(client, USER)
    identifier = (await client.get("/api/v1/users/me")).json()["id"]
    forget_credentials(client)
    second = await sign_in(client, USER)
    forget_credentials(client)
    return Member(id=identifier, first=first, second=second)


@pytest.fixture
async def as_admin(app: FastAPI, client: httpx.AsyncClient, member: Member) -> httpx.AsyncClient:
    """The client signed in as an administrator (after `member` exists)."""
    await create_admin(app)
    await sign_in(client, ADMIN)
    return client


def routes(user_id: str, session_id: str) -> list[tuple[str, str]]:
    """The three routes, for one user and one of their sessions."""
    return [
        ("GET", f"/api/v1/users/{user_id}/sessions"),
        ("DELETE", f"/api/v1/users/{user_id}/sessions/{session_id}"),
        ("DELETE", f"/api/v1/users/{user_id}/sessions"),
    ]


async def test_anonymous_and_ordinary_users_are_refused(
    client: httpx.AsyncClient, member: Member
) -> None:
    """401 without a session; 403 for a user who is not an administrator, even on their
    own id; and nothing ends."""
    session_id = await session_id_of(client, member.first)
    for method, path in routes(member.id, session_id):
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
    await sign_in(client, USER)
    for method, path in routes(member.id, session_id):
        response = await client.request(method, path)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == {"detail": "Not allowed."}
    assert await is_live(client, member.first)
    assert await is_live(client, member.second)


async def test_admin_lists_a_users_live_sessions(
    as_admin: httpx.AsyncClient, member: Member
) -> None:
    """Both live sessions with their metadata and no secret; an ended one is not listed."""
    response = await as_admin.get(f"/api/v1/users/{member.id}/sessions")
    assert response.status_code == 200, response.text
    sessions = response.json()
    assert {session["id"] for session in sessions} == {
        await session_id_of(as_admin, member.first),
        await session_id_of(as_admin, member.second),
    }
    assert [session["current"] for session in sessions] == [False, False]
    assert set(sessions[0]) == {
        "id", "created_at", "last_seen_at", "expires_at", "user_agent", "ip", "current"
    }  # fmt: skip
    assert member.first not in response.text
    assert member.second not in response.text
    first = await session_id_of(as_admin, member.first)
    await as_admin.delete(f"/api/v1/users/{member.id}/sessions/{first}")
    listed = (await as_admin.get(f"/api/v1/users/{member.id}/sessions")).json()
    assert [session["id"] for session in listed] == [await session_id_of(as_admin, member.second)]


async def test_ending_one_session_refuses_its_next_request_at_once(
    as_admin: httpx.AsyncClient, member: Member, caplog: pytest.LogCaptureFixture
) -> None:
    """204; that credential is refused on its very next request, the other one works, and
    the administrator's action is audited with both identities."""
    caplog.set_level(logging.INFO, logger="audit")
    first = await session_id_of(as_admin, member.first)
    assert await is_live(as_admin, member.first)
    response = await as_admin.delete(f"/api/v1/users/{member.id}/sessions/{first}")
    assert response.status_code == 204, response.text
    assert not await is_live(as_admin, member.first)
    assert await is_live(as_admin, member.second)
    again = await as_admin.delete(f"/api/v1/users/{member.id}/sessions/{first}")
    assert again.status_code == 404, again.text
    admin_id = (await as_admin.get("/api/v1/users/me")).json()["id"]
    (event,) = [vars(r) for r in caplog.records if r.getMessage() == "session.revoked_by_admin"]
    assert event["actor_id"] == admin_id
    assert (event["user_id"], event["session_id"]) == (member.id, first)


async def test_ending_all_sessions_refuses_every_credential_at_once(
    as_admin: httpx.AsyncClient, member: Member, caplog: pytest.LogCaptureFixture
) -> None:
    """204; both credentials are refused at once, the administrator's own session is
    untouched, the user can sign in again, and the action is audited."""
    caplog.set_level(logging.INFO, logger="audit")
    response = await as_admin.delete(f"/api/v1/users/{member.id}/sessions")
    assert response.status_code == 204, response.text
    assert not await is_live(as_admin, member.first)
    assert not await is_live(as_admin, member.second)
    assert (await as_admin.get("/api/v1/users/me")).status_code == 200
    assert (await as_admin.get(f"/api/v1/users/{member.id}/sessions")).json() == []
    assert (await login(as_admin, USER)).status_code == 200
    events = [vars(r) for r in caplog.records if r.getMessage() == "session.revoked_all_by_admin"]
    assert [event["user_id"] for event in events] == [member.id]


async def test_unknown_users_and_other_users_sessions_are_not_found(
    as_admin: httpx.AsyncClient, member: Member
) -> None:
    """404 for an unknown user on every route, for an unknown session id, and for a
    session of another user named under this user's id (no IDOR): nothing ends."""
    admin_me = (await as_admin.get("/api/v1/users/me")).json()["id"]
    admin_session = (await as_admin.get("/api/v1/auth/sessions")).json()[0]["id"]
    member_session = await session_id_of(as_admin, member.first)
    for method, path in routes(UNKNOWN_ID, member_session):
        response = await as_admin.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
    for path in (
        f"/api/v1/users/{member.id}/sessions/{admin_session}",
        f"/api/v1/users/{member.id}/sessions/{UNKNOWN_ID}",
        f"/api/v1/users/{admin_me}/sessions/{member_session}",
    ):
        response = await as_admin.delete(path)
        assert response.status_code == 404, (path, response.text)
    assert (await as_admin.get("/api/v1/users/me")).status_code == 200
    assert await is_live(as_admin, member.first)
    assert await is_live(as_admin, member.second)
    too_long = await as_admin.delete(f"/api/v1/users/{member.id}/sessions/{'x' * 65}")
    assert too_long.status_code == 422, too_long.text


async def test_an_admin_ending_their_own_sessions_is_like_their_own_routes(
    as_admin: httpx.AsyncClient,
) -> None:
    """Another own session: it ends and this one goes on (as `DELETE /auth/sessions/{id}`);
    this very session: the next request is refused; all of them: likewise (as logout-all)."""
    admin_id = (await as_admin.get("/api/v1/users/me")).json()["id"]
    other = await sign_in(as_admin, ADMIN)  # the client now presents the second session
    current = await session_id_of(as_admin, other)
    earlier = next(
        session["id"]
        for session in (await as_admin.get(f"/api/v1/users/{admin_id}/sessions")).json()
        if session["id"] != current
    )
    response = await as_admin.delete(f"/api/v1/users/{admin_id}/sessions/{earlier}")
    assert response.status_code == 204, response.text
    assert (await as_admin.get("/api/v1/users/me")).status_code == 200
    response = await as_admin.delete(f"/api/v1/users/{admin_id}/sessions/{current}")
    assert response.status_code == 204, response.text
    assert (await as_admin.get("/api/v1/users/me")).status_code == 401
    forget_credentials(as_admin)
    await sign_in(as_admin, ADMIN)
    response = await as_admin.delete(f"/api/v1/users/{admin_id}/sessions")
    assert response.status_code == 204, response.text
    assert (await as_admin.get("/api/v1/users/me")).status_code == 401
