"""CPU per request of `GET /api/v1/users/me` inside the process, and of its parts.

No server and no client: the application is called as ASGI directly (one request at a
time, with a `receive` that waits as a server's does), and `time.process_time()` is
read around each batch, the kernel's share (the socket to the database) included.
Without uvicorn, wrk and the machine's other load between them, the figures move
little from run to run, so a step of a few percent shows (`throughput.py` measures
the whole server). The service is the rendered sql-jwt-none variant on PostgreSQL
(or SQLite), its access log written to a file as `serve` writes it to standard error.

The targets take turns within each round; a round calls each `--requests` times:

- `ceiling`: the bare FastAPI app of `ceiling_app.py`;
- `health`: the service's `GET /health`: every middleware, no dependency;
- `probe-plain`: a route added after the service's own, without dependencies: the
  middleware and a walk over every route;
- `probe-jwt`: the same with one dependency that verifies the access token;
- `probe-check`: one dependency making the whole check of `/users/me`
  (`bearer_tokens.authenticate`: the token, then the session and its user, read from
  the database), without the route's chain of dependencies;
- `users/me`: the route itself;

and, outside HTTP, the same check (`authenticate`), the session read alone
(`get_with_user`) and the token verification (`verify`). The probe routes exist in the
benchmark's process only.

Usage: .venv/bin/python bench/inprocess.py [--database postgresql] [--rounds 3]
       [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import ceiling_app
import httpx
from fastapi import Depends, Request

import common

ADMIN = "bench-admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple 9"
ME = ceiling_app.SAMPLE_BODY
Headers = list[tuple[bytes, bytes]]
Call = Callable[[], Awaitable[object]]


async def call(app: Any, path: str, headers: Headers) -> int:
    """One GET through the ASGI app; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bastion.test", 443),
    }
    body_sent = False
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # a server answers this only when the client leaves
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


def _bearer(request: Request) -> str:
    return str(request.headers["authorization"]).removeprefix("Bearer ")


# Module-level, so that FastAPI resolves the string annotations of the probes.
async def verified_token(request: Request) -> object:
    """The probes' dependency that verifies the access token only."""
    services = request.app.state.services
    return services.bearer_tokens._codec.verify(_bearer(request))


async def checked_session(request: Request) -> object:
    """The probes' dependency that makes the whole check of `/users/me`."""
    return await request.app.state.services.bearer_tokens.authenticate(_bearer(request))


async def probe_plain() -> dict[str, Any]:
    """No dependency."""
    return ME


async def probe_jwt(_: Annotated[object, Depends(verified_token)]) -> dict[str, Any]:
    """One dependency: the token."""
    return ME


async def probe_check(_: Annotated[object, Depends(checked_session)]) -> dict[str, Any]:
    """One dependency: the token, the session and its user."""
    return ME


def add_probes(app: Any) -> None:
    """The probe routes, after the service's own."""
    for path, endpoint in (("plain", probe_plain), ("jwt", probe_jwt), ("check", probe_check)):
        app.router.add_api_route(f"/probe/{path}", endpoint, methods=["GET"])


async def measure(package: str, database_url: str, rounds: int, requests: int) -> None:
    """Start the service in this process and print the CPU per call of every target."""
    conftest = importlib.import_module("tests.conftest")
    service_main = importlib.import_module(f"{package}.main")
    mail = importlib.import_module(f"{package}.mail")
    settings = conftest.make_settings(
        database_url=database_url, auto_migrate=True, mfa_required_roles=[]
    )
    app = service_main.create_app(settings, mailer=mail.MemoryMailer())
    add_probes(app)
    async with app.router.lifespan_context(app):
        services = app.state.services
        await services.accounts.create_admin(ADMIN, ADMIN_PASSWORD)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=conftest.PUBLIC_URL) as client:
            signed_in = await client.post(
                f"{common.API}/auth/login", data={"username": ADMIN, "password": ADMIN_PASSWORD}
            )
        signed_in.raise_for_status()
        token = signed_in.json()["access_token"]
        host: Headers = [(b"host", b"bastion.test")]
        credential: Headers = [*host, (b"authorization", f"Bearer {token}".encode())]
        ceiling = ceiling_app.app
        # The parts are reached through the services' private attributes: a benchmark
        # of the path's pieces, which the service has no reason to expose.
        session_id = services.bearer_tokens._codec.verify(token).session_id
        session_store = services.bearer_tokens._sessions._sessions

        def through(target: Any, path: str, headers: Headers) -> Call:
            async def once() -> object:
                status = await call(target, path, headers)
                if status != 200:
                    raise AssertionError(f"{path}: {status}")
                return status

            return once

        async def verify() -> object:
            return services.bearer_tokens._codec.verify(token)

        targets: dict[str, Call] = {
            "ceiling": through(ceiling, f"{common.API}/users/me", host),
            "health": through(app, "/health", host),
            "probe-plain": through(app, "/probe/plain", credential),
            "probe-jwt": through(app, "/probe/jwt", credential),
            "probe-check": through(app, "/probe/check", credential),
            "users/me": through(app, f"{common.API}/users/me", credential),
            "authenticate (no HTTP)": lambda: services.bearer_tokens.authenticate(token),
            "get_with_user (no HTTP)": lambda: session_store.get_with_user(session_id),
            "verify (no HTTP)": verify,
        }
        for target in targets.values():  # warm up: caches, pool, prepared statements
            for _ in range(200):
                await target()
        results: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, target in targets.items():
                started = time.process_time()
                for _ in range(requests):
                    await target()
                results[name].append(1000 * (time.process_time() - started) / requests)
    print(json.dumps(results))


def main() -> None:
    """Render, prepare the database, run the measurement in a process of the render's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="calls per target and round")
    parser.add_argument(
        "--child", nargs=2, metavar=("PACKAGE", "DATABASE_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        asyncio.run(measure(args.child[0], args.child[1], args.rounds, args.requests))
        return
    common.print_machine()
    with tempfile.TemporaryDirectory(prefix="bastion-inprocess-") as work:
        work_dir = Path(work)
        project = common.render(work_dir / "project", database="sql", token_style="jwt", mfa="none")
        if args.database == "postgresql":
            with common.postgres_database("inprocess") as url:
                figures = run_child(project, url, args, work_dir)
        else:
            figures = run_child(
                project, f"sqlite+aiosqlite:///{work_dir / 'bench.db'}", args, work_dir
            )
    rows = [
        [name, " ".join(f"{value:.3f}" for value in values), f"{common.median(values):.3f}"]
        for name, values in figures.items()
    ]
    print(f"\n{project.id} on {args.database}, {args.rounds} rounds of {args.requests} calls")
    common.print_table(["target", "ms of CPU per call, by round", "median"], rows)


def run_child(
    project: common.Project, database_url: str, args: argparse.Namespace, work_dir: Path
) -> dict[str, list[float]]:
    """Run `measure` in a process that imports the render; the service's log goes to a file."""
    log_path = work_dir / "service.log"
    with log_path.open("wb") as log:
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--rounds",
                str(args.rounds),
                "--requests",
                str(args.requests),
                "--child",
                project.package,
                database_url,
            ],
            cwd=project.path,
            env={**os.environ, "PYTHONPATH": f"{project.path / 'src'}{os.pathsep}{project.path}"},
            stdout=subprocess.PIPE,
            stderr=log,
            check=False,
        )
    if result.returncode != 0:
        sys.exit(f"the measurement failed:\n{log_path.read_text(errors='replace')[-3000:]}")
    figures: dict[str, list[float]] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    return figures


if __name__ == "__main__":
    main()
