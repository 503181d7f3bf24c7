"""Shared by the benchmarks: render a variant, run servers on loopback, sign in, summarise.

Every benchmark renders the working tree (uncommitted changes included) into a
temporary folder and runs the rendered service as a subprocess, the way it runs in
production: `python -m <package> serve` (uvicorn, loopback, no reload).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import http.client
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Self, cast
from urllib.parse import parse_qs, urlsplit

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

import template_support  # noqa: E402 - tests/ is no package: its helpers load by path

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
API = "/api/v1"
# PostgreSQL that the benchmarks may create their own databases on (as the tests do).
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test")
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# Generous per-IP limits, so that signing in before each measurement is never refused.
UNTHROTTLED_LIMITS = {
    "RATE_LIMIT_LOGIN": "100000/minute",
    "RATE_LIMIT_REGISTER": "100000/hour",
}
REPORTED_PACKAGES = (
    "copier",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "aioboto3",
    "moto",
    "argon2-cffi",
    "pyjwt",
    "limits",
)
_TOKEN_IN_LINK = re.compile(r"https?://\S+\?token=\S+")


# ----------------------------------------------------------------- rendering


# A rendered variant: `.path`, `.id` (`sql-jwt-none`) and `.package` (the import package).
Project = template_support.Rendered
free_port = template_support.free_port


def variants() -> list[dict[str, str]]:
    """The variant matrix, read from `copier.yml` as the template's tests read it."""
    return cast("list[dict[str, str]]", template_support.variants())


def variant_id(variant: Mapping[str, str]) -> str:
    """`sql-jwt-none`: the answers in question order."""
    return str(template_support.variant_id(variant))


def render(destination: Path, vcs_ref: str = "HEAD", **answers: str) -> Project:
    """Render the working tree (`vcs_ref="HEAD"`, uncommitted changes included), or the
    template at another revision, into `destination`."""
    template_support.render(REPO_ROOT, destination, answers, vcs_ref=vcs_ref)
    return Project(
        variant=dict(answers),
        path=destination,
        files=template_support.files_under(destination),
        answers=template_support.load_answers(destination),
    )


# -------------------------------------------------------------------- servers


def _answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status < 500
    except OSError:
        return False
    finally:
        connection.close()


class Server:
    """A subprocess serving HTTP on a loopback port; output goes to `log_path`."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        port: int,
        log_path: Path,
        environment: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_path: str = "/health",
    ) -> None:
        self.name = name
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.environment = {**os.environ, **(environment or {})}
        self.cwd = cwd
        self.ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._process is not None, "server not started"
        return self._process.pid

    def start(self) -> None:
        """Start the process and wait until `ready_path` answers."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _answers(self.port, self.ready_path):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after a grace period)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time that a process has used so far (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of stat(5); [0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_environment(project: Project, settings: Mapping[str, str]) -> dict[str, str]:
    """Environment of a rendered service: its `src/` importable, and the given settings."""
    return {
        "PYTHONPATH": str(project.path / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "ENVIRONMENT": "development",
        "SECRET_KEY": secrets.token_urlsafe(48),
        # Measure the service, not the Have I Been Pwned API (nor call it from a benchmark).
        "BREACHED_PASSWORD_CHECK": "false",
        **settings,
    }


def service(
    project: Project,
    settings: Mapping[str, str],
    *,
    log_dir: Path,
    name: str | None = None,
    workers: int = 1,
) -> Server:
    """The rendered service as production runs it: `python -m <package> serve`."""
    port = free_port()
    name = name or project.id
    return Server(
        name,
        [
            sys.executable,
            "-m",
            project.package,
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        port=port,
        log_path=log_dir / f"{name}.log",
        environment=service_environment(project, settings),
        cwd=project.path,
    )


def moto_server(log_dir: Path) -> Server:
    """moto's server (`python -m moto.server`), the stand-in for DynamoDB."""
    port = free_port()
    return Server(
        "moto",
        [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
        port=port,
        log_path=log_dir / "moto.log",
        environment=FAKE_AWS_ENVIRONMENT,
        ready_path="/moto-api/",
    )


# ------------------------------------------------------------------ databases


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _database_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{database}").geturl()


async def _run_admin_statements(statements: Iterable[str]) -> None:
    import asyncpg  # the SQL variants' driver

    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A fresh PostgreSQL database of our own (dropped afterwards); yields its URL."""
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}".replace("-", "_")
    asyncio.run(_run_admin_statements([f'CREATE DATABASE "{name}"']))
    try:
        yield _database_url(POSTGRES_URL, name)
    finally:
        asyncio.run(_run_admin_statements([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))


def database_settings(database: str, *, work_dir: Path, url: str = "") -> dict[str, str]:
    """Settings for `sqlite` (a file in `work_dir`), `postgresql` or `dynamodb` at `url`."""
    match database:
        case "sqlite":
            return {"DATABASE_URL": f"sqlite+aiosqlite:///{work_dir / 'bench.db'}"}
        case "postgresql":
            return {"DATABASE_URL": url}
        case "dynamodb":
            return {
                "DYNAMODB_ENDPOINT_URL": url,
                "DYNAMODB_TABLE": f"bench-{uuid.uuid4().hex[:8]}",
                **FAKE_AWS_ENVIRONMENT,
            }
    raise ValueError(f"unknown database {database!r}")


# ------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Account:
    """A registered, verified account."""

    email: str
    password: str


def mail_settings(mail_dir: Path) -> dict[str, str]:
    """Mail written as `.eml` files to `mail_dir`, where `register` finds the link."""
    return {"EMAIL_BACKEND": "file", "EMAIL_FILE_DIR": str(mail_dir)}


def _verification_token(mail_dir: Path, address: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] != address:
                continue
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            link = _TOKEN_IN_LINK.search(text)
            if link:
                return parse_qs(urlsplit(link.group()).query)["token"][0]
        time.sleep(0.05)
    raise RuntimeError(f"no verification e-mail for {address} in {mail_dir}")


def register(base_url: str, mail_dir: Path) -> Account:
    """Register a new account and verify its address from the e-mail it was sent."""
    account = Account(f"bench-{uuid.uuid4().hex[:12]}@example.com", secrets.token_urlsafe(24))
    with httpx.Client(base_url=base_url, timeout=30) as client:
        registered = client.post(
            f"{API}/auth/register",
            json={"email": account.email, "password": account.password},
        )
        registered.raise_for_status()
        token = _verification_token(mail_dir, account.email)
        client.post(f"{API}/auth/verify-email", json={"token": token}).raise_for_status()
    return account


async def log_in(client: httpx.AsyncClient, token_style: str, account: Account) -> httpx.Response:
    """One login as each token style's client does it (the cookie style fetches CSRF first)."""
    form = {"username": account.email, "password": account.password}
    if token_style != "cookie":
        return await client.post(f"{API}/auth/login", data=form)
    csrf = (await client.get(f"{API}/auth/csrf")).json()["csrf_token"]
    return await client.post(
        f"{API}/auth/login",
        data=form,
        headers={"X-CSRF-Token": csrf, "Cookie": f"__Host-csrf={csrf}"},
    )


def credential_header(token_style: str, response: httpx.Response) -> tuple[str, str]:
    """The request header that presents the credential of a successful login."""
    response.raise_for_status()
    if token_style == "cookie":
        return "Cookie", f"__Host-session={response.cookies['__Host-session']}"
    return "Authorization", f"Bearer {response.json()['access_token']}"


def sign_in(base_url: str, token_style: str, account: Account) -> tuple[str, str]:
    """Log in and return the header presenting the new session's credential."""

    async def run() -> tuple[str, str]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            return credential_header(token_style, await log_in(client, token_style, account))

    return asyncio.run(run())


# -------------------------------------------------------------------- figures


def median(values: Iterable[float]) -> float:
    """The median (of at least one value)."""
    return statistics.median(list(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (`fraction` 0.99 for p99)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def machine_summary() -> dict[str, Any]:
    """What the figures were measured on: CPU, load, Python and key package versions."""
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_machine() -> None:
    """Print `machine_summary()` as a few readable lines."""
    summary = machine_summary()
    print(f"date: {summary['date']}")
    print(f"machine: {summary['cpus']} CPUs ({summary['cpu_model']}), {summary['platform']}")
    print(f"load average (1, 5, 15 min): {summary['load_average']}")
    packages = ", ".join(f"{name} {version}" for name, version in summary["packages"].items())
    print(f"python {summary['python']}; {packages}")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A Markdown table, ready to paste into BENCHMARKS.md."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join(" --- " for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
