"""The copy task (`hooks/write_env.py`): fresh development secrets in a git-ignored `.env`."""

from __future__ import annotations

import base64
import stat
import sys
from pathlib import Path

import pytest

import template_support as support

MIN_SECRET_KEY_CHARS = 32
MFA_KEY_BYTES = 32


def _env_values(project: Path) -> dict[str, str]:
    values = {}
    for line in (project / ".env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip("'\"")
    return values


@pytest.fixture(scope="module")
def copies_with_tasks(template_src: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two copies of the default variant with the copy task run (as `copier copy --trust`)."""
    return [
        support.render(
            template_src, tmp_path_factory.mktemp(f"with-tasks-{n}") / "project", skip_tasks=False
        )
        for n in range(2)
    ]


def test_copy_writes_env_with_a_secret_key(copies_with_tasks: list[Path]) -> None:
    """A copy with tasks enabled writes `.env` holding a long SECRET_KEY."""
    project = copies_with_tasks[0]
    assert (project / ".env").is_file(), sorted(p.name for p in project.iterdir())
    key = _env_values(project).get("SECRET_KEY", "")
    assert len(key) >= MIN_SECRET_KEY_CHARS, f"SECRET_KEY too short or missing: {len(key)} chars"


def test_totp_copy_gets_its_own_mfa_key(copies_with_tasks: list[Path]) -> None:
    """The default (TOTP) copy gets a random 32-byte MFA_ENCRYPTION_KEY, one per copy,
    so that rotating SECRET_KEY later leaves enrollments readable."""
    keys = [_env_values(project)["MFA_ENCRYPTION_KEY"] for project in copies_with_tasks]
    for key in keys:
        assert len(base64.urlsafe_b64decode(key)) == MFA_KEY_BYTES, key
    assert keys[0] != keys[1]
    assert keys[0] != _env_values(copies_with_tasks[0])["SECRET_KEY"]


def test_copy_without_mfa_gets_no_mfa_key(
    template_src: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`mfa=none` has no TOTP secrets to encrypt, so no key for them."""
    project = support.render(
        template_src,
        tmp_path_factory.mktemp("with-tasks-no-mfa") / "project",
        {"mfa": "none"},
        skip_tasks=False,
    )
    values = _env_values(project)
    assert len(values["SECRET_KEY"]) >= MIN_SECRET_KEY_CHARS
    assert "MFA_ENCRYPTION_KEY" not in values


def test_env_file_is_private(copies_with_tasks: list[Path]) -> None:
    """`.env` is readable by its owner only."""
    mode = stat.S_IMODE((copies_with_tasks[0] / ".env").stat().st_mode)
    assert mode & 0o077 == 0, f".env mode is {oct(mode)}"


def test_each_copy_gets_its_own_key(copies_with_tasks: list[Path]) -> None:
    """Two copies never share a SECRET_KEY."""
    first, second = (_env_values(project)["SECRET_KEY"] for project in copies_with_tasks)
    assert first != second


def test_env_is_git_ignored(copies_with_tasks: list[Path]) -> None:
    """The rendered `.gitignore` keeps `.env` out of git."""
    project = copies_with_tasks[0]
    lines = (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert any(line.strip() in {".env", "/.env"} for line in lines), lines
    assert support.run(["git", "init", "-q"], cwd=project).returncode == 0
    ignored = support.run(["git", "check-ignore", "-v", ".env"], cwd=project)
    assert ignored.returncode == 0, ignored.tail()
    status = support.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project)
    untracked = [line.split()[-1] for line in status.output.splitlines()]
    assert ".env" not in untracked, status.tail()


def test_secret_appears_in_no_other_file(copies_with_tasks: list[Path]) -> None:
    """The generated keys are written to `.env` and nowhere else."""
    project = copies_with_tasks[0]
    values = _env_values(project)
    keys = (values["SECRET_KEY"], values["MFA_ENCRYPTION_KEY"])
    leaks = [
        str(relative)
        for relative, text in support.iter_text_files(project, support.files_under(project))
        if relative != Path(".env") and any(key in text for key in keys)
    ]
    assert not leaks, f"SECRET_KEY leaked into {leaks}"


def test_rerunning_the_task_keeps_the_env(
    copies_with_tasks: list[Path], template_src: Path
) -> None:
    """The task is idempotent: run again in the project, it leaves `.env` unchanged."""
    project = copies_with_tasks[1]
    before = (project / ".env").read_bytes()
    result = support.run(
        [sys.executable, str(template_src / "hooks" / "write_env.py")], cwd=project
    )
    assert result.returncode == 0, result.tail()
    assert (project / ".env").read_bytes() == before
