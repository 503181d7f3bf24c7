"""Scale-out: per-IP rate limits shared in Redis hold across uvicorn workers.

With `RATE_LIMIT_LOGIN=N/minute`, 4N login attempts are sent from one client IP, each
on a new connection so that the kernel spreads them over the workers. Expected:

- 1 worker,  memory://  N let through, the rest 429
- 2 workers, redis://   N let through (the workers share one counter)
- 2 workers, memory://  up to 2N let through: each worker counts on its own

The last combination is what production refuses at start-up; this script checks that
it does, and that development allows it. The attempts use unknown addresses (a 401
each, after the dummy hash), so the per-account throttle plays no part.

Redis: `BENCH_REDIS_URL` (default redis://127.0.0.1:6379/14); only that database is
flushed. PostgreSQL: a database of its own next to `TEST_POSTGRES_URL`.

Usage: .venv/bin/python bench/scale_out.py [--limit 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import coredis
import httpx

import common

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CONCURRENT_ATTEMPTS = 6


async def flush_redis_database(url: str) -> None:
    """FLUSHDB on the benchmark's own Redis database (never FLUSHALL)."""
    client = coredis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        client.connection_pool.disconnect()


async def send_attempts(base_url: str, count: int) -> Counter[int]:
    """`count` failed logins, each on a fresh connection; the status codes counted."""
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(CONCURRENT_ATTEMPTS)

    async def attempt() -> None:
        async with gate, httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            response = await client.post(
                f"{common.API}/auth/login",
                data={
                    "username": f"nobody-{uuid.uuid4().hex}@example.com",
                    "password": "x" * 20,
                },
                headers={"Connection": "close"},
            )
            statuses[response.status_code] += 1

    await asyncio.gather(*(attempt() for _ in range(count)))
    return statuses


def production_refuses(project: common.Project, database_url: str, work_dir: Path) -> str:
    """Start production with 2 workers and memory://; the line it exits with."""
    settings = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "https://auth.example.com",
        "EMAIL_BACKEND": "file",
        "EMAIL_FILE_DIR": str(work_dir / "mail"),
        "RATE_LIMIT_STORAGE_URI": "memory://",
    }
    command = [sys.executable, "-m", project.package, "serve", "--workers", "2"]
    command += ["--port", str(common.free_port())]
    result = subprocess.run(
        command,
        cwd=project.path,
        env={**os.environ, **common.service_environment(project, settings)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 0:
        raise RuntimeError("production started 2 workers with memory:// rate limits")
    return (result.stderr.strip().splitlines() or ["(no message)"])[-1]


def main() -> None:
    """Run the three configurations and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=10, help="N of RATE_LIMIT_LOGIN=N/minute")
    args = parser.parse_args()
    attempts = 4 * args.limit
    configurations = [(1, "memory://"), (2, REDIS_URL), (2, "memory://")]
    common.print_machine()
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
        ExitStack() as stack,
    ):
        work_dir = Path(tmp)
        project = common.render(work_dir / "project", database="sql", token_style="jwt", mfa="none")
        database_url = stack.enter_context(common.postgres_database("scale"))
        base = {
            **common.database_settings("postgresql", work_dir=work_dir, url=database_url),
            **common.mail_settings(work_dir / "mail"),
            "RATE_LIMIT_LOGIN": f"{args.limit}/minute",
        }
        # Two workers would race to create the schema; production migrates first, too.
        subprocess.run(
            [sys.executable, "-m", project.package, "migrate"],
            cwd=project.path,
            env={**os.environ, **common.service_environment(project, base)},
            check=True,
        )
        refusal = production_refuses(project, database_url, work_dir)
        for workers, storage in configurations:
            if storage.startswith("redis://"):
                asyncio.run(flush_redis_database(storage))
            settings = {
                **base,
                "AUTO_MIGRATE": "false",
                "RATE_LIMIT_STORAGE_URI": storage,
            }
            name = f"{workers}w-{storage.split(':')[0]}"
            service = common.service(
                project, settings, log_dir=work_dir, name=name, workers=workers
            )
            with service as server:
                statuses = asyncio.run(send_attempts(server.url, attempts))
            limited = statuses.pop(429, 0)
            rows.append(
                [
                    workers,
                    storage,
                    attempts,
                    sum(statuses.values()),
                    limited,
                    dict(statuses),
                ]
            )
        asyncio.run(flush_redis_database(REDIS_URL))

    print(f"\nRATE_LIMIT_LOGIN={args.limit}/minute, {attempts} attempts from one IP\n")
    common.print_table(
        ["workers", "storage", "attempts", "let through", "429", "other statuses"], rows
    )
    print(f"\nproduction, 2 workers, memory:// refused at start-up: {refusal}")


if __name__ == "__main__":
    main()
