"""Faults: the database goes away under a running service, then comes back.

Each variant runs as a real process (`python -m <package> serve`) on a database of
its own: SQL variants on a private PostgreSQL cluster (initdb and pg_ctl in a scratch
folder, on a port of its own, never the shared server that other tests use),
DynamoDB variants on a moto server. A user signs in; then the database is stopped.
While it is down the service must stay up, answer 503 on `/health/ready`, answer
everything that needs the database with a generic JSON 503 and Retry-After (no traceback, no
exception names, no SQL) and never accept a credential it could not check against
its session store. When the database is back, the same process must become ready
again, without a restart, within a bounded time.

What "recovers" means differs by database:

- PostgreSQL keeps its data across a stop, so the credential issued before the
  outage works again.
- moto keeps everything in memory, so a restarted moto has no table: readiness must
  keep saying 503 until `migrate` (the documented CLI command) recreates the table.
  Then the old credential is refused (401: its session is gone, and a signature
  alone is not enough) and a new sign-up and sign-in work.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import template_support as support
from fault_harness import (
    CHEAP_ARGON2,
    SECRET_KEY,
    MotoServer,
    PostgresCluster,
    Service,
    assert_log_keeps_secrets,
    aws_environment,
    private_postgres_cluster,
    running,
    through_an_outage,
)
from template_support import Rendered
from variant_marks import every_variant


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One private cluster per xdist worker; the SQL variants it runs take turns on it."""
    with private_postgres_cluster() as cluster:
        yield cluster


# ----------------------------------------------------------------------- tests


@pytest.fixture
def fault_workdir() -> Iterator[Path]:
    """A short scratch folder (moto's and the service's logs, mail, a cwd)."""
    path = Path(tempfile.mkdtemp(prefix="bastion-faults-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _service_environment(rendered: Rendered, workdir: Path, **database: str) -> dict[str, str]:
    return support.clean_environment(
        PYTHONPATH=str(rendered.path / "src"),
        ENVIRONMENT="test",
        SECRET_KEY=SECRET_KEY,
        EMAIL_BACKEND="file",
        EMAIL_FILE_DIR=str(workdir / "mail"),
        LOG_LEVEL="INFO",
        BREACHED_PASSWORD_CHECK="false",  # no test reaches the internet
        **CHEAP_ARGON2,
        **database,
    )


def _sql_outage(rendered: Rendered, workdir: Path, cluster: PostgresCluster) -> None:
    if not cluster.running():  # an earlier test failed while it was stopped
        cluster.start()
    name = "faults_" + re.sub(r"[^a-z0-9]+", "_", rendered.id)
    url = cluster.create_database(name)
    service = Service(rendered, _service_environment(rendered, workdir, DATABASE_URL=url), workdir)
    with running(service):
        client, account = through_an_outage(service, cluster)
        client.wait_until_ready()
        reply = client.me(account)
        assert reply.status_code == 200, f"the credential from before the outage: {reply.text}"
        assert reply.json()["email"] == account.email
        again = client.login(account.email, client.login_csrf())
        assert again.status_code == 200, again.text
        assert service.alive()
    assert_log_keeps_secrets(service, account.secrets)


def _dynamodb_outage(rendered: Rendered, workdir: Path) -> None:
    moto = MotoServer(workdir / "moto.log", support.clean_environment())
    endpoint = f"http://127.0.0.1:{moto.port}"
    moto.environment.update(aws_environment(endpoint))
    environment = _service_environment(rendered, workdir, **aws_environment(endpoint))
    service = Service(rendered, environment, workdir)
    moto.start()
    try:
        with running(service):
            client, account = through_an_outage(service, moto)
            # A new moto holds no table: the service must not call itself ready on it.
            reply = client.ready()
            assert reply.status_code == 503, reply.text
            service.migrate()
            client.wait_until_ready()
            reply = client.me(account)
            assert reply.status_code == 401, f"a credential without a session: {reply.text}"
            newcomer = client.sign_up("after@example.com")
            reply = client.me(newcomer)
            assert reply.status_code == 200, reply.text
            assert reply.json()["email"] == newcomer.email
            assert service.alive()
    finally:
        moto.stop()
    assert_log_keeps_secrets(service, account.secrets + newcomer.secrets)


@every_variant
def test_database_outage_and_recovery(
    rendered: Rendered, fault_workdir: Path, request: pytest.FixtureRequest
) -> None:
    """Stopping the database mid-run gives clean 503/500 answers, never an accepted
    credential, and the running service recovers when the database returns."""
    if rendered.variant["database"] == "sql":
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        _sql_outage(rendered, fault_workdir, cluster)
    else:
        _dynamodb_outage(rendered, fault_workdir)
