"""Fixtures: one snapshot of the template per worker, one render per variant.

Variants come from `copier.yml` (see `template_support.variants`), so a new choice
adds tests without editing them. Each variant's tests share an `xdist_group`, so
with `--dist loadgroup` a variant is rendered once, on one worker.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

import template_support as support
from template_support import Rendered

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://root@127.0.0.1:5432/test"
REDIS_DATABASES = 16  # Redis's default number of numbered databases
VARIANTS = support.variants()
VARIANT_IDS = frozenset(support.variant_id(variant) for variant in VARIANTS)
VARIANT_IN_NODEID = re.compile(r"\[([^\[\]]+)\](?:@[^\]]*)?$")


# Tests heavy enough to be scheduled on their own instead of with the rest of their
# variant, so the workers stay evenly loaded (the render they need is cached per
# worker and takes seconds), and rough CPU seconds per test function on the reference
# machine, to start the heaviest work first (BENCHMARKS.md, section 5). A DynamoDB
# suite costs about twice a SQL one (moto's server answers every store call in Python),
# so `function[database]` entries come first.
# A walkthrough renders a copy of its own (tasks run), so it loses nothing apart.
SCHEDULED_ALONE = frozenset(
    {
        "test_rendered_suite",
        "test_rendered_suite_on_postgresql",
        "test_readme_walkthrough_runs_as_written",
    }
)
EXPECTED_SECONDS = {
    "test_rendered_suite[dynamodb]": 95.0,
    "test_rendered_suite": 55.0,
    "test_rendered_suite_on_postgresql": 35.0,
    "test_readme_walkthrough_runs_as_written": 15.0,
    "test_mypy_strict": 30.0,
    "test_database_outage_and_recovery": 10.0,
}


def _function_name(nodeid: str) -> str:
    return nodeid.rpartition("::")[2].partition("[")[0]


def expected_seconds(nodeid: str) -> float:
    """The test's rough cost: by function and database, else by function, else 1 s."""
    function = _function_name(nodeid)
    match = VARIANT_IN_NODEID.search(nodeid)
    database = match.group(1).partition("-")[0] if match else ""
    return EXPECTED_SECONDS.get(f"{function}[{database}]", EXPECTED_SECONDS.get(function, 1.0))


def scheduling_scope(nodeid: str) -> str:
    """The unit of work a worker takes: a variant's tests together, heavy ones alone."""
    match = VARIANT_IN_NODEID.search(nodeid)
    if match is None or match.group(1) not in VARIANT_IDS:
        return nodeid
    if _function_name(nodeid) in SCHEDULED_ALONE:
        return nodeid
    return match.group(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the scopes heaviest first (longest-processing-time-first scheduling)."""
    cost: dict[str, float] = {}
    for item in items:
        scope = scheduling_scope(item.nodeid)
        cost[scope] = cost.get(scope, 0.0) + expected_seconds(item.nodeid)
    first_seen = {scope: index for index, scope in enumerate(dict.fromkeys(cost))}
    items.sort(
        key=lambda item: (
            -cost[scheduling_scope(item.nodeid)],
            first_seen[scheduling_scope(item.nodeid)],
        )
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` that schedules by `scheduling_scope`, in collection order.

    pytest-xdist 3.8 tags grouped tests by rewriting `item._nodeid`, which pytest 9.2
    no longer reads, so its `xdist_group` marks silently stop grouping. Scheduling
    scopes by the `[variant-id]` parameter keeps each variant on one worker either way;
    the order is `pytest_collection_modifyitems`'s (hence `--no-loadscope-reorder`).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    # xdist ships no type information: the base class is Any to mypy.
    class VariantScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return scheduling_scope(nodeid)

    return VariantScheduling(config, log)


def in_ci() -> bool:
    """True on CI, where missing services fail tests instead of skipping them."""
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def template_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree, uncommitted work included, as a one-commit git repository."""
    return support.snapshot_template(tmp_path_factory.mktemp("template") / "src")


@pytest.fixture(scope="session")
def render_variant(
    template_src: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[dict[str, Any]], Rendered]:
    """Render a variant once per session (cached), with tasks skipped."""
    cache: dict[str, Rendered] = {}

    def render(variant: dict[str, Any]) -> Rendered:
        key = support.variant_id(variant)
        if key not in cache:
            destination = tmp_path_factory.mktemp(f"render-{key}") / "project"
            support.render(template_src, destination, variant)
            cache[key] = Rendered(
                variant,
                destination,
                support.files_under(destination),
                support.load_answers(destination),
            )
        return cache[key]

    return render


@pytest.fixture
def rendered(
    variant: dict[str, Any], render_variant: Callable[[dict[str, Any]], Rendered]
) -> Rendered:
    """The variant named by the test's `variant` parameter, rendered."""
    return render_variant(variant)


@pytest.fixture(scope="session")
def mypy_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache per xdist worker, so third-party stubs are analysed once per worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = tmp_path_factory.getbasetemp() / f"mypy-cache-{worker}"
    path.mkdir(exist_ok=True)
    return path


# --------------------------------------------------------------------- PostgreSQL


def _asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+", 1)[0]))


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def run_coroutine(coroutine: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run` in a thread of its own: once a browser test has run in this worker,
    Playwright's sync API keeps an event loop running in the main thread, where
    `asyncio.run` refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _execute(dsn: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server's URL (`TEST_POSTGRES_URL`); skips, or fails on CI, if down."""
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        run_coroutine(_execute(_asyncpg_dsn(url), "SELECT 1"))
    except Exception as error:  # noqa: BLE001 - whatever fails, the server is not usable
        message = f"PostgreSQL at {url} is unreachable: {type(error).__name__}: {error}"
        if in_ci():
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return url


@pytest.fixture
def redis_environment(rendered: Rendered) -> dict[str, str]:
    """`TEST_REDIS_URL` for a rendered suite: the configured server, one database number
    per variant (so parallel variants never share rate-limit keys); empty when unset."""
    base = os.environ.get("TEST_REDIS_URL", "")
    if not base:
        return {}
    index = sorted(VARIANT_IDS).index(rendered.id) % REDIS_DATABASES
    return {"TEST_REDIS_URL": urlunsplit(urlsplit(base)._replace(path=f"/{index}"))}


@pytest.fixture
def postgres_database(postgres_url: str, rendered: Rendered) -> Iterator[str]:
    """A fresh database for this variant's run (variants may run in parallel).

    A rendered suite run by pytest-xdist creates one database per worker beside it
    (`<name>_gw0`, ...): those are dropped before and after too.
    """
    name = "bastion_" + re.sub(r"[^a-z0-9]+", "_", rendered.id.lower())
    drops = [
        f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
        for database in (name, *(f"{name}_gw{n}" for n in range(support.RENDERED_SUITE_WORKERS)))
    ]
    admin = _asyncpg_dsn(postgres_url)
    run_coroutine(_execute(admin, *drops, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(postgres_url, name)
    finally:
        run_coroutine(_execute(admin, *drops))
