"""Every variant of the matrix: rendered cleanly, linted, type-checked and tested.

The matrix is read from `copier.yml`; each variant is rendered once per session
(`render_variant`) and every check below runs against that render.
"""

from __future__ import annotations

import ast
import math
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import template_support as support
from template_support import Rendered
from variant_marks import dynamodb_variants, every_variant, sql_variants

SECRET_KEY_NAME = re.compile(r"secret|key|password|passwd|token", re.IGNORECASE)
RANDOM_LOOKING = re.compile(r"^[A-Za-z0-9+/=_\-.~]{24,}$")
# Answers that Copier writes about the template itself, not about the project.
COPIER_METADATA = {"_commit", "_src_path"}


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


@every_variant
def test_no_unrendered_jinja_in_paths(rendered: Rendered) -> None:
    """No rendered file or folder name keeps Jinja markers, quotes or pipes."""
    leftovers = [
        str(path)
        for path in rendered.files
        if support.JINJA_IN_PATH.search(str(path)) or re.search(r"['\"|]", str(path))
    ]
    assert not leftovers, f"unrendered names in {rendered.id}: {leftovers}"


@every_variant
def test_no_unrendered_jinja_in_contents(rendered: Rendered) -> None:
    """No rendered file keeps Jinja markers (Mako templates checked for Jinja only)."""
    leftovers = []
    for relative, text in support.iter_text_files(rendered.path, rendered.files):
        pattern = support.JINJA_IN_MAKO if relative.suffix == ".mako" else support.JINJA_IN_CONTENT
        if relative.suffix in {".yml", ".yaml"} and ".github" in relative.parts:
            text = support.GITHUB_EXPRESSION.sub("", text)
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line):
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert not leftovers, f"unrendered Jinja in {rendered.id}:\n" + "\n".join(leftovers[:50])


@every_variant
def test_no_template_suffix_left(rendered: Rendered) -> None:
    """Copier stripped the `.jinja` suffix from every file it rendered."""
    leftovers = [str(path) for path in rendered.files if path.name.endswith(".jinja")]
    assert not leftovers, f"unrendered templates in {rendered.id}: {leftovers}"


@every_variant
def test_files_of_other_variants_are_absent(rendered: Rendered, template_src: Path) -> None:
    """Each conditional path exists exactly when its condition holds for this variant."""
    expected = support.expected_paths(template_src, {**rendered.variant, **rendered.answers})
    files = {path.as_posix() for path in rendered.files}
    missing = sorted(expected.present - files)
    unexpected = sorted(expected.absent & files)
    assert not missing, f"{rendered.id} lacks {[(p, expected.sources[p]) for p in missing]}"
    assert not unexpected, (
        f"{rendered.id} has files of another variant: "
        f"{[(p, expected.sources[p]) for p in unexpected]}"
    )


@every_variant
def test_answers_file_records_answers_and_no_secret(rendered: Rendered, template_src: Path) -> None:
    """`.copier-answers.yml` records the variant and the commit, and holds no secret."""
    answers = rendered.answers
    for question, value in rendered.variant.items():
        assert answers.get(question) == value, f"{question} not recorded: {answers}"
    assert answers.get("_commit"), f"no _commit recorded: {answers}"
    # A choice is a constant of the template (`token_style: jwt`), never a secret.
    choices = {
        name: support.choice_values(spec)
        for name, spec in support.copier_config(template_src).items()
        if isinstance(spec, dict) and "choices" in spec
    }
    for name, value in answers.items():
        if name in COPIER_METADATA or value in (None, "", False):
            continue
        if SECRET_KEY_NAME.search(name) and value not in choices.get(name, []):
            pytest.fail(f"answers file stores a secret-looking answer {name!r}: {answers}")
        if isinstance(value, str) and RANDOM_LOOKING.match(value) and _entropy(value) > 3.5:
            pytest.fail(f"answers file stores a random-looking value for {name!r}: {value!r}")


@every_variant
def test_no_env_file_without_tasks(rendered: Rendered) -> None:
    """A render with tasks skipped writes no `.env` (secrets only come from the hook)."""
    assert not (rendered.path / ".env").exists(), f"{rendered.id} rendered a .env"


START_IN_DEVELOPMENT = """
import asyncio, importlib, sys
import httpx

main = importlib.import_module(sys.argv[1] + ".main")
app = main.app


async def start() -> None:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
            for path in ("/health", "/health/ready"):
                reply = await c.get(path)
                print(path, reply.status_code, reply.text)
                assert reply.status_code == 200, (path, reply.status_code, reply.text)


asyncio.run(start())
"""


@pytest.fixture
def development_environment(rendered: Rendered, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment to start the app in development with no `.env`: SQL on a scratch
    SQLite file (the default URL is relative to the working directory), DynamoDB on a
    moto server."""
    environment = support.clean_environment(PYTHONPATH=str(rendered.path / "src"))
    if rendered.variant.get("database") != "dynamodb":
        yield environment
        return
    port = support.free_port()
    environment.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    log = (tmp_path / "moto.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "moto server did not start:\n"
                        + (tmp_path / "moto.log").read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.2)
        yield environment
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@every_variant
def test_app_starts_in_development_without_env(
    rendered: Rendered, development_environment: dict[str, str], tmp_path: Path
) -> None:
    """With no `.env` and no SECRET_KEY, `<package>.main:app` starts and is ready."""
    result = support.run(
        [sys.executable, "-c", START_IN_DEVELOPMENT, rendered.package],
        cwd=tmp_path,
        env=development_environment,
        timeout=120,
    )
    assert result.returncode == 0, result.tail()


@every_variant
def test_ruff_check(rendered: Rendered) -> None:
    """`ruff check` passes on the rendered project."""
    result = support.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=rendered.path
    )
    assert result.returncode == 0, result.tail()


@every_variant
def test_ruff_format(rendered: Rendered) -> None:
    """The rendered project is formatted (`ruff format --check`)."""
    result = support.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."], cwd=rendered.path
    )
    assert result.returncode == 0, result.tail()


@every_variant
def test_mypy_strict(rendered: Rendered, mypy_cache_dir: Path) -> None:
    """`mypy` passes with the rendered configuration (`strict = true`, package and tests)."""
    result = support.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(mypy_cache_dir)], cwd=rendered.path
    )
    assert result.returncode == 0, result.tail()


# A guard against a hung suite, not a speed target (BENCHMARKS.md has the times).
SUITE_TIMEOUT_SECONDS = 1800


def _run_suite(rendered: Rendered, *paths: str, **environment: str) -> support.Result:
    return support.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths],
        cwd=rendered.path,
        env=support.clean_environment(**environment),
        timeout=SUITE_TIMEOUT_SECONDS,
    )


@every_variant
def test_rendered_suite(
    rendered: Rendered, tmp_path: Path, redis_environment: dict[str, str]
) -> None:
    """The rendered project's own tests pass (SQL variants on SQLite, DynamoDB on moto)."""
    environment = dict(redis_environment)
    if rendered.variant.get("database") == "sql":
        environment["TEST_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    result = _run_suite(rendered, **environment)
    assert result.returncode == 0, result.tail()


# What a SQL variant's suite runs again on PostgreSQL: everything whose outcome can
# depend on the database engine, and every named attack. The store contract suites pin
# every adapter operation (conditional writes, counters, pagination, time columns) to
# the same behaviour on SQLite and PostgreSQL; the races and bursts fire parallel
# requests at one record, which only a real server's locking proves; the engine,
# outage, health and CLI tests exercise the driver, connections and migrations; and
# `tests/security/` (every attack, bursts included) runs on each database, but for
# `ENGINE_INDEPENDENT`. The other HTTP tests reach the database only through the store
# ports these prove, and run on SQLite.
POSTGRES_SUITE = (
    "tests/security",
    "tests/test_stores.py",
    "tests/test_mfa_store.py",
    "tests/test_personal_access_token_store.py",
    "tests/test_throttle.py",
    "tests/test_races.py",
    "tests/test_mfa_races.py",
    "tests/test_mfa_admin_reset.py",
    "tests/test_passkeys.py",
    "tests/test_passwords.py",
    "tests/test_sql_engine.py",
    "tests/test_outages.py",
    "tests/test_health.py",
    "tests/test_cli.py",
)
# Modules under POSTGRES_SUITE's paths that run on SQLite only: the input checks refuse
# or fold what a client sends before the database is asked (the DynamoDB suites run them
# on the in-memory adapter, `INPUT_CHECKS` in the rendered tests/conftest.py), and the
# enumeration timing comparison keeps its accounts, tokens and mail counts in its own
# `RemoteDatabase` (simulated round trips), so the engine never enters what it measures.
# Each one costs a PostgreSQL rerun its time and proves nothing the SQLite run does not.
ENGINE_INDEPENDENT = (
    "tests/security/test_host_header_attacks.py",
    "tests/security/test_request_body_attacks.py",
    "tests/security/test_account_identifier_attacks.py",
    "tests/security/test_enumeration_by_timing.py",
)
# A test module that sends requests or store operations in parallel belongs in
# POSTGRES_SUITE, and not in ENGINE_INDEPENDENT (checked by
# `test_postgres_suite_holds_every_race_test`).
DATABASE_DEPENDENT = re.compile(r"asyncio\.gather")


def postgres_suite(rendered: Rendered) -> list[str]:
    """The modules of `POSTGRES_SUITE` this variant has (some are MFA-only)."""
    return [path for path in POSTGRES_SUITE if (rendered.path / path).exists()]


def postgres_arguments(rendered: Rendered) -> list[str]:
    """pytest's arguments for the PostgreSQL rerun: `POSTGRES_SUITE` less `ENGINE_INDEPENDENT`."""
    for path in ENGINE_INDEPENDENT:
        assert (rendered.path / path).is_file(), f"ENGINE_INDEPENDENT names a missing {path}"
    return [*postgres_suite(rendered), *(f"--ignore={path}" for path in ENGINE_INDEPENDENT)]


def racing_modules(rendered: Rendered) -> list[Path]:
    """The rendered test modules that send requests or store operations in parallel."""
    return [
        path
        for path in rendered.files
        if path.parts[0] == "tests"
        and path.name.startswith("test_")
        and path.suffix == ".py"
        and DATABASE_DEPENDENT.search((rendered.path / path).read_text(encoding="utf-8"))
    ]


@sql_variants
def test_postgres_suite_holds_every_race_test(rendered: Rendered) -> None:
    """No test module that races requests or store operations is left to SQLite alone."""
    chosen = set(postgres_suite(rendered))
    assert chosen, f"{rendered.id} has none of {POSTGRES_SUITE}"
    missing = [
        path.as_posix()
        for path in racing_modules(rendered)
        if path.as_posix() in ENGINE_INDEPENDENT
        or not any(path.as_posix() == c or path.as_posix().startswith(f"{c}/") for c in chosen)
    ]
    assert not missing, (
        f"add to POSTGRES_SUITE, not ENGINE_INDEPENDENT (they depend on the database): {missing}"
    )


@dynamodb_variants
def test_memory_adapter_runs_no_race_test(rendered: Rendered) -> None:
    """No DynamoDB test module that races requests or store operations runs on the tests'
    in-memory adapter: each is in the rendered conftest's `REAL_DATABASE` (moto), and none
    is among the `INPUT_CHECKS` taken back out of it."""
    conftest = ast.parse((rendered.path / "tests/conftest.py").read_text(encoding="utf-8"))
    assigned = {
        target.id: ast.literal_eval(node.value)
        for node in conftest.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in {"REAL_DATABASE", "INPUT_CHECKS"}
    }
    real, input_checks = tuple(assigned["REAL_DATABASE"]), set(assigned["INPUT_CHECKS"])
    on_memory = [
        path.as_posix()
        for path in racing_modules(rendered)
        if not (module := Path(*path.parts[1:]).as_posix()).startswith(real)
        or module in input_checks
    ]
    assert not on_memory, (
        f"keep on moto (REAL_DATABASE in tests/conftest.py, not INPUT_CHECKS): {on_memory}"
    )


@pytest.mark.postgres
@sql_variants
def test_rendered_suite_on_postgresql(
    rendered: Rendered, postgres_database: str, redis_environment: dict[str, str]
) -> None:
    """SQL variants' database-dependent tests (`POSTGRES_SUITE`) pass on PostgreSQL too,
    in a database of their own, on pytest-xdist workers as the README's `pytest -n auto`
    runs them (each worker on a database of its own beside that one)."""
    result = _run_suite(
        rendered,
        *postgres_arguments(rendered),
        f"--numprocesses={support.RENDERED_SUITE_WORKERS}",
        TEST_DATABASE_URL=postgres_database,
        **redis_environment,
    )
    assert result.returncode == 0, result.tail()
