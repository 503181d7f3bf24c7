"""The harness of the fault tests (`test_faults.py`): real services, real outages.

- `private_postgres_cluster()`: initdb and pg_ctl in a scratch folder, on a port of its
  own (never the shared server other tests use), stopped and started at will.
- `MotoServer`: moto's server as a process that can be killed and restarted.
- `Service`: a rendered variant running as `python -m <package> serve`, and `Client`,
  which signs up, signs in and calls it over HTTP the way a user's client does.
- `through_an_outage()`: sign in, stop the database, check every answer while it is
  down (`during_outage`), start it again.
"""

from __future__ import annotations

import email
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import IO, Any, Protocol

import httpx
import pytest

import template_support as support
from conftest import in_ci
from template_support import Rendered

PASSWORD = "fault tolerant horse battery 7"
SECRET_KEY = "faults-test-secret-key-0123456789-abcdefgh"
CHEAP_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "ARGON2_PARALLELISM": "1"}
# Long enough for a request that retries a refused connection a few times; a service
# that hangs on a stopped database fails here instead of stalling the suite.
REQUEST_TIMEOUT_SECONDS = 20
START_TIMEOUT_SECONDS = 60
RECOVERY_TIMEOUT_SECONDS = 30
MAIL_TIMEOUT_SECONDS = 10
POSTGRES_USER = "bastion"
# What an error answer must not reveal: tracebacks, exception class names, drivers, SQL.
LEAK = re.compile(
    r"Traceback|File \"|\b[A-Za-z]+(?:Error|Exception)\b|sqlalchemy|asyncpg|aiosqlite|"
    r"botocore|aiobotocore|moto|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bFROM\b",
)
VERIFY_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-]+)")


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _has_account(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _missing(message: str) -> None:
    """A service the test needs is absent: a failure on CI, a skip elsewhere."""
    if in_ci():
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


# ------------------------------------------------------------------ PostgreSQL


def _postgres_bindir() -> Path | None:
    """The newest Debian cluster binaries, else those of `pg_ctl` on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version)
    candidates = [*reversed(debian)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


@dataclass
class PostgresCluster:
    """A throw-away PostgreSQL cluster that a test may stop and start at will.

    PostgreSQL refuses to run as root, so under root its commands run as the
    `postgres` account, in a folder that account owns.
    """

    bindir: Path
    root: Path
    port: int = field(default_factory=support.free_port)

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = support.run(command, cwd=self.root, timeout=60)
        assert result.returncode == 0 or not check, f"{tool} failed:\n{result.tail()}"

    def initialise(self) -> None:
        """Create the cluster: trust authentication, a superuser for the tests."""
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            POSTGRES_USER,
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    def start(self) -> None:
        """Start (or restart) the server on the same port and data directory."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "30",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self, *, check: bool = True) -> None:
        """Stop the server at once, as a crash or a killed host would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=check)

    def running(self) -> bool:
        """Whether the server accepts connections."""
        return _port_open(self.port)

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", POSTGRES_USER, "-d", "postgres",
            "-v", "ON_ERROR_STOP=1",
            "-c", f'DROP DATABASE IF EXISTS "{name}"', "-c", f'CREATE DATABASE "{name}"',
        )  # fmt: skip
        return f"postgresql+asyncpg://{POSTGRES_USER}@127.0.0.1:{self.port}/{name}"


@contextmanager
def private_postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of its own in a scratch folder, stopped and removed afterwards;
    skips (fails on CI) when the server binaries or, as root, a postgres account are missing."""
    bindir = _postgres_bindir()
    if bindir is None:
        _missing("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed")
    assert bindir is not None
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_account("postgres")):
        _missing("running as root needs runuser and a postgres account to start PostgreSQL")
    root = Path(tempfile.mkdtemp(prefix="bastion-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    cluster = PostgresCluster(bindir, root)
    try:
        cluster.initialise()
        cluster.start()
        yield cluster
    finally:
        cluster.stop(check=False)  # it may be stopped already, or never have started
        shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------------- moto


@dataclass
class MotoServer:
    """moto's DynamoDB stand-in as a process that can be killed and started again."""

    log_path: Path
    environment: dict[str, str]
    port: int = field(default_factory=support.free_port)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def start(self) -> None:
        """Start on the same port every time, and wait until it accepts connections."""
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=self.environment,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto did not start:\n{self.log_path.read_text(errors='replace')}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Kill the server outright (it loses everything it held)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.log is not None:
            self.log.close()
        self.process = self.log = None


def aws_environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "DYNAMODB_ENDPOINT_URL": endpoint,
    }


# -------------------------------------------------------------------- service


@dataclass
class Service:
    """The rendered project's `serve` command, running on a port of its own."""

    rendered: Rendered
    environment: dict[str, str]
    workdir: Path
    port: int = field(default_factory=support.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Where the service listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def mail_dir(self) -> Path:
        """Where the file mail backend writes its messages."""
        return self.workdir / "mail"

    def command(self, *args: str) -> list[str]:
        """The project's command line with `args`."""
        return [sys.executable, "-m", self.rendered.package, *args]

    def start(self) -> None:
        """Start `serve` and wait for the liveness probe."""
        with (self.workdir / "service.log").open("wb") as log:
            self.process = subprocess.Popen(
                self.command("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{self.rendered.id} did not start:\n{self.output()[-4000:]}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)

    def alive(self) -> bool:
        """The process that was started is still running."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate the process (gracefully first)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        """Everything the process wrote (standard output and error)."""
        path = self.workdir / "service.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def migrate(self) -> None:
        """Run the documented `migrate` command against the service's database."""
        result = support.run(self.command("migrate"), cwd=self.workdir, env=self.environment)
        assert result.returncode == 0, f"migrate failed:\n{result.tail()}"


@contextmanager
def running(service: Service) -> Iterator[Service]:
    """Start the service; always stop it, and show its log if the test failed."""
    service.start()
    try:
        yield service
    except BaseException:
        sys.stdout.write(f"--- {service.rendered.id} service log ---\n{service.output()[-8000:]}")
        raise
    finally:
        service.stop()


# ------------------------------------------------------------------ the client


@dataclass
class Account:
    """A signed-in user: what the client presents, and every secret it was given."""

    email: str
    headers: dict[str, str]
    secrets: list[str]


class Client:
    """Speaks to the service as the variant's own clients do."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.token_style = service.rendered.variant["token_style"]
        self.http = httpx.Client(base_url=service.base_url, timeout=REQUEST_TIMEOUT_SECONDS)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a timeout fails the test as a hang."""
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            pytest.fail(f"{method} {path} hung for {REQUEST_TIMEOUT_SECONDS} s")

    def verification_token(self, address: str) -> str:
        """The token in the newest verification message sent to `address`.

        The service sends account mail after its answer, so the message may still be on
        its way when the answer arrives: wait for it, up to `MAIL_TIMEOUT_SECONDS`.
        """
        deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
        while not (messages := self._messages_to(address)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert messages, f"no message to {address} in {self.service.mail_dir}"
        body = max(messages, key=lambda pair: pair[0])[1].get_body(("plain",))
        assert body is not None
        match = VERIFY_TOKEN.search(body.get_content())
        assert match, body.get_content()
        return match.group(1)

    def _messages_to(self, address: str) -> list[tuple[float, email.message.EmailMessage]]:
        messages = []
        for path in self.service.mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == address:
                messages.append((path.stat().st_mtime, message))
        return messages

    def register(self, address: str) -> httpx.Response:
        """`POST /auth/register`."""
        return self.request(
            "POST", "/api/v1/auth/register", json={"email": address, "password": PASSWORD}
        )

    def login_csrf(self) -> dict[str, str]:
        """Cookie variants: the pre-session CSRF token, in both cookie and header."""
        if self.token_style != "cookie":
            return {}
        reply = self.request("GET", "/api/v1/auth/csrf")
        assert reply.status_code == 200, reply.text
        token = reply.json()["csrf_token"]
        return {"X-CSRF-Token": token, "Cookie": f"__Host-csrf={token}"}

    def login(self, address: str, csrf: dict[str, str]) -> httpx.Response:
        """`POST /auth/login` with the OAuth2 password form."""
        return self.request(
            "POST",
            "/api/v1/auth/login",
            data={"username": address, "password": PASSWORD},
            headers=csrf,
        )

    def sign_up(self, address: str) -> Account:
        """Register, verify the address from the mailed link, log in."""
        reply = self.register(address)
        assert reply.status_code == 202, reply.text
        token = self.verification_token(address)
        reply = self.request("POST", "/api/v1/auth/verify-email", json={"token": token})
        assert reply.status_code == 200, reply.text
        reply = self.login(address, self.login_csrf())
        assert reply.status_code == 200, reply.text
        if self.token_style == "cookie":
            # `__Host-` cookies are Secure; over plain HTTP the client presents them itself.
            cookies = dict(re.findall(r"(__Host-[a-z]+)=([^;]+)", reply.headers["set-cookie"]))
            session = cookies["__Host-session"]
            return Account(address, {"Cookie": f"__Host-session={session}"}, [token, session])
        tokens = reply.json()
        values = [tokens["access_token"], tokens.get("refresh_token", "")]
        return Account(
            address,
            {"Authorization": f"Bearer {tokens['access_token']}"},
            [token, *filter(None, values)],
        )

    def me(self, account: Account) -> httpx.Response:
        """`GET /users/me` with the account's credential."""
        return self.request("GET", "/api/v1/users/me", headers=account.headers)

    def ready(self) -> httpx.Response:
        """`GET /health/ready`."""
        return self.request("GET", "/health/ready")

    def wait_until_ready(self) -> None:
        """Poll readiness until 200, for at most `RECOVERY_TIMEOUT_SECONDS`."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT_SECONDS
        reply = self.ready()
        while reply.status_code != 200:
            assert time.monotonic() < deadline, (
                f"not ready {RECOVERY_TIMEOUT_SECONDS} s after the database came back: "
                f"{reply.status_code} {reply.text}"
            )
            time.sleep(0.5)
            reply = self.ready()


def assert_generic_failure(reply: httpx.Response, what: str) -> None:
    """A 503 with `Retry-After` and a `{"detail": "..."}` body that reveals nothing inside."""
    assert reply.status_code == 503, f"{what}: {reply.status_code} {reply.text}"
    assert reply.headers.get("retry-after", "").isdigit(), (what, reply.headers)
    assert reply.headers["content-type"].startswith("application/json"), (what, reply.headers)
    body = reply.json()
    assert set(body) == {"detail"}, (what, body)
    assert isinstance(body["detail"], str), (what, body)
    assert not LEAK.search(reply.text), f"{what} reveals internals: {reply.text}"


def during_outage(client: Client, account: Account, address: str) -> None:
    """Everything that needs the database fails cleanly; the rest still answers."""
    csrf = client.login_csrf()  # no database needed: a signed token
    probes: dict[str, Callable[[], httpx.Response]] = {
        "GET /health/ready": client.ready,
        "GET /users/me": lambda: client.me(account),
        "POST /auth/login": lambda: client.login(account.email, csrf),
        "POST /auth/register": lambda: client.register(address),
    }
    # Concurrently: a request may spend a few seconds retrying a refused connection.
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {name: pool.submit(probe) for name, probe in probes.items()}
        replies = {name: future.result() for name, future in futures.items()}
    assert_generic_failure(replies.pop("GET /health/ready"), "GET /health/ready")
    # Registration answers before it touches the database (the same answer for every
    # address, in the same time); its work fails after the response, logged.
    registration = replies.pop("POST /auth/register")
    assert registration.status_code == 202, registration.text
    for name, reply in replies.items():
        assert_generic_failure(reply, name)
    liveness = client.request("GET", "/health")
    assert liveness.status_code == 200, liveness.text
    assert client.service.alive(), "the service exited when the database stopped"


class Database(Protocol):
    """A database process that the test stops and starts again."""

    def stop(self) -> None:
        """Make the database unreachable."""

    def start(self) -> None:
        """Bring it back on the same address."""


def through_an_outage(service: Service, database: Database) -> tuple[Client, Account]:
    """Sign a user in while all is well, stop the database and check every answer
    while it is down, then start it again. Returns the client and the account."""
    client = Client(service)
    account = client.sign_up("before@example.com")
    reply = client.ready()
    assert reply.status_code == 200, reply.text
    reply = client.me(account)
    assert reply.status_code == 200, reply.text
    database.stop()
    during_outage(client, account, "during@example.com")
    database.start()
    return client, account


def assert_log_keeps_secrets(service: Service, secrets: list[str]) -> None:
    """The service's output never holds a password, token, cookie or key."""
    output = service.output()
    for secret in [PASSWORD, SECRET_KEY, *secrets]:
        assert secret not in output, f"a secret ({secret[:4]}...) is in the service log"
