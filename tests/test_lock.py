"""Reproducible installs: `copier copy` locks the tested pins; this repository holds no lock.

The pins (`[tool.uv] constraint-dependencies` in `template/pyproject.toml.jinja`) are
the versions `scripts/test` installs for the whole suite. A copy with tasks runs
`hooks/lock_dependencies.py`, which writes `uv.lock` from them. Locking needs the
package index once (the copy task does it, from uv's cache when it is warm); everything
after that here runs with `--offline`.

Two copies, one per database, are enough: the pins are written per database (the
token style and MFA answers only drop packages from a lock, never change a version,
and `JWT + TOTP` is the variant with every optional package), and each lock costs a
resolution, which twelve would multiply for nothing.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

import template_support as support

LOCKED_VARIANTS = (
    {"database": "sql", "token_style": "jwt", "mfa": "totp"},
    {"database": "dynamodb", "token_style": "jwt", "mfa": "totp"},
)
# A package index named by host or by address (regexes, so this file names none).
INDEX_ADDRESS = re.compile(
    r"pypi\.(?:org|python\.org)|pythonhosted\.org|https?://[^\s\"'<>]+/simple\b"
    r"|--(?:extra-)?index-url|\bindex-url\s*=|\[\[tool\.uv\.index\]\]",
    re.IGNORECASE,
)
DOWNLOAD_URL = re.compile(r"""\burl\s*=\s*["']https?://""")
LOCK_NAMES = re.compile(r"(?:^|/)(?:uv|poetry|pdm|Pipfile|pylock[\w.-]*)\.lock$|\.lock$")


def uv() -> str:
    """The uv that `scripts/test` installs beside this interpreter, else the one on PATH."""
    return support.uv_executable()


@pytest.fixture(scope="module")
def locked_copies(template_src: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One copy per database made as `copier copy --trust` does: the tasks ran."""
    return [
        support.render(
            template_src,
            tmp_path_factory.mktemp(f"locked-{variant['database']}") / "project",
            variant,
            skip_tasks=False,
        )
        for variant in LOCKED_VARIANTS
    ]


def locked_versions(project: Path) -> dict[str, str]:
    """Every package in the project's `uv.lock` but the project itself: name -> version."""
    lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
    return {
        support.canonical_name(package["name"]): package["version"]
        for package in lock["package"]
        if "editable" not in package.get("source", {})
        and "virtual" not in package.get("source", {})
    }


def test_copy_writes_a_lock_that_is_current_offline(locked_copies: list[Path]) -> None:
    """`uv.lock` exists right after the copy and `uv lock --check` passes with no network."""
    for project in locked_copies:
        assert (project / "uv.lock").is_file(), sorted(p.name for p in project.iterdir())
        result = support.run([uv(), "lock", "--check", "--offline"], cwd=project)
        assert result.returncode == 0, result.tail()


def test_lock_holds_exactly_the_tested_pins(locked_copies: list[Path]) -> None:
    """Every locked package is pinned, at the pinned version: the copy installs what the
    template's suite ran with (scripts/test installs the same pins)."""
    pins = support.pinned_versions()
    for project in locked_copies:
        locked = locked_versions(project)
        assert locked, project
        unpinned = sorted(set(locked) - set(pins))
        assert unpinned == [], f"locked but not pinned (run scripts/refresh-pins): {unpinned}"
        differing = {name: (version, pins[name]) for name, version in locked.items()}
        assert {k: v for k, v in differing.items() if v[0] != v[1]} == {}


def test_pins_are_what_the_test_environment_runs(locked_copies: list[Path]) -> None:
    """The suite's own environment has every locked package at its pin (scripts/test
    installs the rendered dependencies with the pins as constraints)."""
    from importlib.metadata import PackageNotFoundError, version

    for project in locked_copies:
        for name, locked in locked_versions(project).items():
            try:
                installed = version(name)
            except PackageNotFoundError:
                continue  # a package of another platform (pywin32, colorama) or Python
            assert installed == locked, f"{name}: tested with {installed}, locked {locked}"


def test_locked_sync_installs_the_runtime_without_dev_tools(
    locked_copies: list[Path], tmp_path: Path
) -> None:
    """`uv sync --locked --no-dev --no-install-project` (the Dockerfile's dependency layer)
    installs the locked runtime versions and no development tool, offline. (The project
    itself is left out: building it needs hatchling from the index, which this suite does
    not otherwise download.)"""
    project = locked_copies[0]
    environment = tmp_path / "venv"
    result = support.run(
        [uv(), "sync", "--locked", "--offline", "--no-dev", "--no-install-project", "--quiet"],
        cwd=project,
        env=support.clean_environment(UV_PROJECT_ENVIRONMENT=str(environment)),
    )
    assert result.returncode == 0, result.tail()
    listing = support.run(
        [uv(), "pip", "list", "--format=freeze", "--python", str(environment / "bin" / "python")],
        cwd=project,
    )
    assert listing.returncode == 0, listing.tail()
    installed = {
        support.canonical_name(name): version
        for name, _, version in (line.partition("==") for line in listing.output.splitlines())
        if version
    }
    locked = locked_versions(project)
    assert {"fastapi", "sqlalchemy", "argon2-cffi", "httpx"} <= set(installed), sorted(installed)
    assert {name: locked.get(name) for name in installed} == installed
    assert {"pytest", "ruff", "mypy", "schemathesis"}.isdisjoint(installed), sorted(installed)


# ------------------------------------------------------------- the task's fallbacks


def load_lock_hook() -> Any:
    """`hooks/lock_dependencies.py` as a module."""
    path = support.REPO_ROOT / "hooks" / "lock_dependencies.py"
    spec = importlib.util.spec_from_file_location("lock_dependencies", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_task_without_uv_says_how_to_lock_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without uv the task succeeds, writes nothing and prints one line naming `uv lock`."""
    hook = load_lock_hook()
    monkeypatch.setattr(hook, "find_uv", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert hook.main() == 0
    output = capsys.readouterr().out.strip()
    assert len(output.splitlines()) == 1, output
    assert "`uv lock`" in output
    assert not (tmp_path / "uv.lock").exists()


def test_task_offline_says_how_to_lock_later(
    locked_copies: list[Path], tmp_path: Path, template_src: Path
) -> None:
    """With no network (and nothing cached) the task succeeds, writes nothing and prints
    one line naming `uv lock`."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_bytes((locked_copies[0] / "pyproject.toml").read_bytes())
    result = support.run(
        [sys.executable, str(template_src / "hooks" / "lock_dependencies.py")],
        cwd=project,
        env=support.clean_environment(UV_OFFLINE="1", UV_CACHE_DIR=str(tmp_path / "empty-cache")),
    )
    assert result.returncode == 0, result.tail()
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "`uv lock`" in result.output
    assert not (project / "uv.lock").exists()


def test_task_leaves_an_existing_lock_alone(locked_copies: list[Path], template_src: Path) -> None:
    """Run again in a copy, the task keeps `uv.lock` byte for byte."""
    project = locked_copies[1]
    before = (project / "uv.lock").read_bytes()
    result = support.run(
        [sys.executable, str(template_src / "hooks" / "lock_dependencies.py")],
        cwd=project,
    )
    assert result.returncode == 0, result.tail()
    assert (project / "uv.lock").read_bytes() == before


@pytest.mark.parametrize("skip_tasks", [False, True], ids=["tasks", "skip-tasks"])
def test_message_after_copy_tells_how_to_install(*, skip_tasks: bool) -> None:
    """For every variant the closing message installs with `uv sync`; with `--skip-tasks`
    it says to run `uv lock` and does not claim a `.env` was written; for DynamoDB it
    says where the data lives. (tests/test_walkthroughs.py runs its steps.)"""
    message = support.copier_config()["_message_after_copy"]
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    for variant in support.variants():
        text = env.from_string(message).render(
            project_name="Bastion Service",
            project_slug="bastion-service",
            _copier_conf={"dst_path": "acme", "src_path": "bastion", "skip_tasks": skip_tasks},
            **variant,
        )
        assert "uv sync" in text
        assert "uv run bastion-service serve" in text
        assert "pip install" not in text
        assert ("\n  uv lock " in text) is skip_tasks, text
        assert ("were written to .env" in text) is not skip_tasks, text
        # `serve` of a DynamoDB project starts an in-memory DynamoDB, and the message says so.
        assert ("in-memory DynamoDB" in text) is (variant["database"] == "dynamodb"), text


# ------------------------------------------------------------ no index, no lock here


def index_addresses(text: str) -> list[str]:
    """Package index hosts or addresses named in `text`."""
    return [match.group(0) for match in INDEX_ADDRESS.finditer(text)]


def test_index_check_catches_a_real_lock(locked_copies: list[Path]) -> None:
    """The repository check below flags what a lock file holds (the control)."""
    text = (locked_copies[0] / "uv.lock").read_text(encoding="utf-8")
    assert index_addresses(text)
    assert DOWNLOAD_URL.search(text)
    assert LOCK_NAMES.search("uv.lock")


def test_repository_names_no_package_index_and_holds_no_lock() -> None:
    """No file of this repository names a package index or is a lock file with download
    URLs: the tested versions live here as names and versions only."""
    files = support.working_tree_files()
    locks = [name for name in files if LOCK_NAMES.search(name)]
    assert locks == [], f"lock files must not be committed here: {locks}"
    texts = list(support.iter_text_files(support.REPO_ROOT, [Path(name) for name in files]))
    found = {str(relative): index_addresses(text) for relative, text in texts}
    assert {name: hosts for name, hosts in found.items() if hosts} == {}
    downloads = [
        str(relative)
        for relative, text in texts
        if relative.suffix in {".lock", ".txt", ".toml", ".jinja"} and DOWNLOAD_URL.search(text)
    ]
    assert downloads == [], downloads


def test_refresh_pins_keeping_the_installed_versions_changes_nothing(tmp_path: Path) -> None:
    """`scripts/refresh-pins --keep-installed` (the repository README's command), run in a
    checkout whose pins are installed here, resolves to exactly the pins it holds. With
    uv's cache warm it needs no network. (Without `--keep-installed` it takes the newest
    releases, so its result changes with every upstream release: not a test's job.)"""
    checkout = support.snapshot_template(tmp_path / "checkout")
    result = support.run(
        [str(checkout / "scripts" / "refresh-pins"), "--keep-installed"],
        cwd=checkout,
        env=support.clean_environment(PYTHON=sys.executable),
    )
    assert result.returncode == 0, result.tail()
    assert "pins written to template/pyproject.toml.jinja" in result.output, result.tail()
    assert support.git("status", "--porcelain", cwd=checkout) == ""
