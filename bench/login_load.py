"""Login under load: does Argon2 starve the event loop?

The rendered service (sql-jwt-none on PostgreSQL, default Argon2 parameters, one
uvicorn worker) is sampled on `GET /health` at a steady rate, first idle, then while
16 clients (a separate process) log in continuously with the correct password. The
hashes run in worker threads, at most `PASSWORD_HASH_CONCURRENCY` at once (default:
the CPU count minus one, at least one), so /health should stay fast however many logins queue up.

Usage: .venv/bin/python bench/login_load.py [--clients 16] [--duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from contextlib import ExitStack
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

import common

SAMPLE_INTERVAL_SECONDS = 0.05
ARGON2_MEMORY_COST_KIB = 65536  # the template's default ARGON2_MEMORY_COST
TOKEN_STYLE = "jwt"


async def sample_health(base_url: str, seconds: float) -> list[float]:
    """Latencies (ms) of `GET /health`, one request every 50 ms for `seconds`."""
    latencies = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await client.get("/health")  # open the keep-alive connection outside the window
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = await client.get("/health")
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            latencies.append(elapsed * 1000)
            await asyncio.sleep(max(0.0, SAMPLE_INTERVAL_SECONDS - elapsed))
    return latencies


async def log_in_continuously(
    base_url: str, accounts: list[common.Account], seconds: float
) -> list[float]:
    """Each account logs in again as soon as its last login answered; latencies (ms)."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []

    async def client_loop(account: common.Account) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await common.log_in(client, TOKEN_STYLE, account)
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client_loop(account) for account in accounts))
    return latencies


def login_process(
    base_url: str, accounts: list[common.Account], seconds: float, results: Connection
) -> None:
    """Child process: the login clients, so their work does not delay the sampler."""
    results.send(asyncio.run(log_in_continuously(base_url, accounts, seconds)))
    results.close()


def peak_memory_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summary(latencies: list[float]) -> str:
    """`n, p50, p99, max` of latencies in ms."""
    return (
        f"{len(latencies)} requests, p50 {common.percentile(latencies, 0.5):.1f} ms, "
        f"p99 {common.percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms"
    )


def main() -> None:
    """Start the service, register the accounts, sample idle, then under login load."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent login clients")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each phase")
    parser.add_argument(
        "--hash-concurrency",
        type=int,
        help="PASSWORD_HASH_CONCURRENCY for the service (default: its own, CPU count - 1)",
    )
    args = parser.parse_args()
    common.print_machine()
    with (
        tempfile.TemporaryDirectory(prefix="bench-login-") as tmp,
        ExitStack() as stack,
    ):
        work_dir = Path(tmp)
        project = common.render(
            work_dir / "project", database="sql", token_style=TOKEN_STYLE, mfa="none"
        )
        url = stack.enter_context(common.postgres_database("login"))
        settings = {
            **common.database_settings("postgresql", work_dir=work_dir, url=url),
            **common.mail_settings(work_dir / "mail"),
            **common.UNTHROTTLED_LIMITS,
        }
        if args.hash_concurrency:
            settings["PASSWORD_HASH_CONCURRENCY"] = str(args.hash_concurrency)
        server = stack.enter_context(common.service(project, settings, log_dir=work_dir))
        accounts = [common.register(server.url, work_dir / "mail") for _ in range(args.clients)]

        idle = asyncio.run(sample_health(server.url, args.duration))
        receiver, sender = multiprocessing.Pipe(duplex=False)
        clients = multiprocessing.Process(
            target=login_process, args=(server.url, accounts, args.duration, sender)
        )
        clients.start()
        time.sleep(1.0)  # let the login queue build up before sampling
        loaded = asyncio.run(sample_health(server.url, args.duration - 1.0))
        logins: list[float] = receiver.recv()
        clients.join()
        peak = peak_memory_mib(server.pid)

    # The service's own default: settings.default_hash_concurrency in the template.
    bound = args.hash_concurrency or max(1, (os.cpu_count() or 1) - 1)
    print(f"\nGET /health idle:              {summary(idle)}")
    print(f"GET /health, {args.clients} clients logging in: {summary(loaded)}")
    print(f"logins: {summary(logins)}; {len(logins) / args.duration:.1f} logins/s")
    print(
        f"hash bound: PASSWORD_HASH_CONCURRENCY = {bound}; Argon2 memory at most "
        f"{bound} x {ARGON2_MEMORY_COST_KIB // 1024} MiB = {bound * ARGON2_MEMORY_COST_KIB // 1024}"
        f" MiB; server peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
