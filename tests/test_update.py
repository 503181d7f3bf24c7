"""`copier update` on a real project: template fixes arrive, the user's work survives.

The template's working tree is snapshotted into a scratch git repository and tagged
`v1`; a project is rendered from it with the copy task (so `.env` exists), committed,
and edited the way a user would. The template then changes and is tagged `v2`, and
the project is updated with Copier's API as `copier update --trust --defaults
--conflict rej` would. Copier reports success even when it leaves conflicts, so the
tests look for `.rej` files, conflict markers and unmerged paths themselves.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import VcsRef, run_update

import template_support as support
from template_support import git

USER_SECTION = (
    "\n## Our deployment\n\nProduction runs behind the company proxy; ask #platform for access.\n"
)
USER_FILE = Path("docs/runbook.md")
USER_FILE_TEXT = "# Runbook\n\nRestart with `docker compose restart app`.\n"
UPDATING_TITLE = "# Updating from the template"
UPDATING_TITLE_V2 = "# Updating this project from the Bastion template"
NEW_TEMPLATE_FILE = Path("CONTRIBUTING.md")
NEW_TEMPLATE_TEXT = "# Contributing\n\nRun the checks in README.md before opening a pull request.\n"
CONFLICT_MARKER = re.compile(rb"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)
# Answers that name the template itself rather than the project.
TEMPLATE_METADATA = ("_commit", "_src_path")


def commit_all(repo: Path, message: str) -> None:
    """Stage everything and commit."""
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)


def copy_project(template: Path, destination: Path, **data: Any) -> Path:
    """`copier copy --trust --defaults` from the template's newest tag, tasks included."""
    return support.render(template, destination, data, skip_tasks=False, vcs_ref=None)


def update_project(project: Path, **options: Any) -> None:
    """`copier update --trust --defaults` with Copier's API (non-interactive)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_update(project, defaults=True, overwrite=True, unsafe=True, quiet=True, **options)


def render_fresh(template: Path, destination: Path, ref: str, **data: Any) -> Path:
    """A fresh render of `ref` without tasks, to compare an updated project with."""
    return support.render(template, destination, data, vcs_ref=ref)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, `.git` excluded."""
    return {path.as_posix(): (root / path).read_bytes() for path in support.files_under(root)}


def unresolved(project: Path) -> list[str]:
    """Everything Copier may leave behind on a conflict: `.rej` files, markers, `UU`."""
    problems = [f"reject file: {name}" for name in tree(project) if name.endswith(".rej")]
    problems += [
        f"conflict markers: {name}"
        for name, content in tree(project).items()
        if CONFLICT_MARKER.search(content)
    ]
    status = git("status", "--porcelain", cwd=project).splitlines()
    problems += [f"unmerged: {line}" for line in status if line[:2] in {"UU", "AA", "DU", "UD"}]
    return problems


def tag_template_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree as a scratch template repository tagged `v1`."""
    template = support.snapshot_template(tmp_path_factory.mktemp("update-template") / "src")
    git("tag", "v1", cwd=template)
    return template


def title_index(lines: list[str]) -> int:
    """Where the README's title (its first `# ` heading) is."""
    return next(index for index, line in enumerate(lines) if line.startswith("# "))


def release_v2(template: Path, edit_title: Callable[[str], str]) -> None:
    """The template's next release: an edited line, an edited README title, a new file."""
    updating = template / "template" / "UPDATING.md"
    text = updating.read_text(encoding="utf-8")
    assert UPDATING_TITLE in text, "UPDATING.md lost the line this test edits"
    updating.write_text(text.replace(UPDATING_TITLE, UPDATING_TITLE_V2, 1), encoding="utf-8")
    readme = template / "template" / "README.md.jinja"
    lines = readme.read_text(encoding="utf-8").split("\n")
    title = title_index(lines)
    lines[title] = edit_title(lines[title])
    readme.write_text("\n".join(lines), encoding="utf-8")
    (template / "template" / NEW_TEMPLATE_FILE).write_text(NEW_TEMPLATE_TEXT, encoding="utf-8")
    commit_all(template, "v2: fixes")
    git("tag", "v2", cwd=template)


def readme_fix(line: str) -> str:
    """The v2 change to the README's title (a line the user did not touch)."""
    return line + " service"


@dataclass
class UpdatedProject:
    """A project rendered at v1, edited by its user, then updated to v2."""

    template: Path
    project: Path
    env_before: bytes
    readme_before: str
    answers_before: dict[str, Any]


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory) -> UpdatedProject:
    """Render at v1, commit, edit as a user, release v2, `copier update --conflict rej`."""
    template = tag_template_v1(tmp_path_factory)
    project = copy_project(template, tmp_path_factory.mktemp("update-project") / "project")
    answers_before = support.load_answers(project)
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "rendered from Bastion v1")
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + USER_SECTION, encoding="utf-8")
    (project / USER_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project / USER_FILE).write_text(USER_FILE_TEXT, encoding="utf-8")
    commit_all(project, "our notes")
    readme_before = readme.read_text(encoding="utf-8")
    env_before = (project / ".env").read_bytes()

    release_v2(template, readme_fix)
    update_project(project, conflict="rej")
    return UpdatedProject(template, project, env_before, readme_before, answers_before)


def test_copy_records_v1(updated: UpdatedProject) -> None:
    """The copy recorded the tag it came from, and the task wrote `.env`."""
    assert updated.answers_before["_commit"] == "v1", updated.answers_before
    assert b"SECRET_KEY=" in updated.env_before


def test_update_records_v2(updated: UpdatedProject) -> None:
    """After the update `.copier-answers.yml` names v2 and keeps every answer."""
    after = support.load_answers(updated.project)
    assert after["_commit"] == "v2", after
    unchanged = {k: v for k, v in updated.answers_before.items() if k not in TEMPLATE_METADATA}
    assert {k: after.get(k) for k in unchanged} == unchanged


def test_template_fixes_arrive(updated: UpdatedProject) -> None:
    """An edited line, an edited README title and a new file all reach the project."""
    updating = (updated.project / "UPDATING.md").read_text(encoding="utf-8")
    assert UPDATING_TITLE_V2 in updating
    assert UPDATING_TITLE + "\n" not in updating
    before = updated.readme_before.split("\n")
    after = (updated.project / "README.md").read_text(encoding="utf-8").split("\n")
    assert after[title_index(after)] == readme_fix(before[title_index(before)])
    assert (updated.project / NEW_TEMPLATE_FILE).read_text(encoding="utf-8") == NEW_TEMPLATE_TEXT


def test_user_edits_survive(updated: UpdatedProject) -> None:
    """The section appended to README.md and the user's own file are still there."""
    readme = (updated.project / "README.md").read_text(encoding="utf-8")
    assert readme.endswith(USER_SECTION), readme[-400:]
    assert (updated.project / USER_FILE).read_text(encoding="utf-8") == USER_FILE_TEXT


def test_env_is_untouched(updated: UpdatedProject) -> None:
    """The development secrets in `.env` are byte-for-byte what the copy wrote."""
    assert (updated.project / ".env").read_bytes() == updated.env_before


def test_no_conflicts_left(updated: UpdatedProject) -> None:
    """No `.rej` file, no conflict marker, no unmerged path after a clean update."""
    assert unresolved(updated.project) == []


def test_update_equals_fresh_render_plus_user_edits(
    updated: UpdatedProject, tmp_path: Path
) -> None:
    """The updated tree is a fresh v2 render plus exactly the user's edits (and what the
    copy tasks wrote: `.env`, and `uv.lock`, which an update leaves to `uv lock`)."""
    fresh = tree(render_fresh(updated.template, tmp_path / "fresh", "v2"))
    project = tree(updated.project)
    assert project.pop(".env") == updated.env_before
    assert b"[[package]]" in project.pop("uv.lock")
    assert project.pop(USER_FILE.as_posix()) == USER_FILE_TEXT.encode()
    assert project["README.md"] == fresh["README.md"] + USER_SECTION.encode()
    project["README.md"] = fresh["README.md"]
    assert sorted(project) == sorted(fresh)
    differing = [name for name in fresh if project[name] != fresh[name]]
    assert differing == []


@dataclass
class AnswerChanged:
    """A copy of the updated project after `copier update --data token_style=opaque`."""

    project: Path
    fresh: Path
    edited_old_file: str


USER_LINE = "# A local change to a file that only the old answer renders.\n"


@pytest.fixture(scope="module")
def answer_changed(
    updated: UpdatedProject, tmp_path_factory: pytest.TempPathFactory
) -> AnswerChanged:
    """Copy the updated project, edit a file only `jwt` renders, change the answer."""
    fresh = render_fresh(
        updated.template, tmp_path_factory.mktemp("fresh-opaque") / "p", "v2", token_style="opaque"
    )
    project = tmp_path_factory.mktemp("answer-change") / "project"
    shutil.copytree(updated.project, project, symlinks=True)
    commit_all(project, "update to Bastion v2")
    old_only = sorted(set(tree(project)) - set(tree(fresh)) - {".env", USER_FILE.as_posix()})
    edited = next(name for name in old_only if name.endswith(".py"))
    with (project / edited).open("a", encoding="utf-8") as file:
        file.write(USER_LINE)
    commit_all(project, "a local change")
    update_project(project, data={"token_style": "opaque"}, vcs_ref=VcsRef.CURRENT)
    return AnswerChanged(project, fresh, edited)


def test_answer_change_equals_fresh_render(answer_changed: AnswerChanged) -> None:
    """Changing an answer by update gives a fresh render with that answer, plus user edits."""
    fresh, project = tree(answer_changed.fresh), tree(answer_changed.project)
    project.pop(".env")
    project.pop("uv.lock")  # the copy task's; `uv lock` brings it to the new answer
    project.pop(USER_FILE.as_posix())
    project["README.md"] = project["README.md"].removesuffix(USER_SECTION.encode())
    fresh_answers = support.load_answers(answer_changed.fresh)
    project_answers = support.load_answers(answer_changed.project)
    for name in TEMPLATE_METADATA:
        fresh_answers.pop(name, None)
        project_answers.pop(name, None)
    assert project_answers == fresh_answers
    del project[".copier-answers.yml"], fresh[".copier-answers.yml"]
    assert sorted(set(project) - set(fresh)) == [], "files of the old answer were left behind"
    assert sorted(set(fresh) - set(project)) == [], "files of the new answer are missing"
    assert [name for name in fresh if project[name] != fresh[name]] == []
    assert unresolved(answer_changed.project) == []


def test_answer_change_keeps_env_and_user_edits(
    updated: UpdatedProject, answer_changed: AnswerChanged
) -> None:
    """Changing an answer leaves `.env` and the user's edits alone."""
    project = answer_changed.project
    assert (project / ".env").read_bytes() == updated.env_before
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_SECTION)
    assert support.load_answers(project)["token_style"] == "opaque"


def test_answer_change_deletes_old_files_even_when_edited(answer_changed: AnswerChanged) -> None:
    """As UPDATING.md warns: a changed file of the old answer is deleted; git keeps it."""
    project, edited = answer_changed.project, answer_changed.edited_old_file
    assert not (project / edited).exists()
    assert git("show", f"HEAD:{edited}", cwd=project).endswith(USER_LINE)


def test_turning_mfa_on_migrates_a_database_the_project_already_has(
    template_src: Path, tmp_path: Path
) -> None:
    """A SQL database migrated without MFA gets the MFA tables once the answer is `totp`.

    The MFA tables are a branch of the migration history of their own, so a database
    already at the newest common migration still gets them (`migrate` upgrades to
    every head).
    """
    database = tmp_path / "service.db"
    for mfa in ("none", "totp"):
        project = support.render(
            template_src, tmp_path / mfa, {"database": "sql", "token_style": "jwt", "mfa": mfa}
        )
        package = support.load_answers(project)["package_name"]
        result = support.run(
            [sys.executable, "-m", package, "migrate"],
            cwd=tmp_path,
            env=support.clean_environment(
                PYTHONPATH=str(project / "src"),
                ENVIRONMENT="development",
                DATABASE_URL=f"sqlite+aiosqlite:///{database}",
            ),
            timeout=120,
        )
        assert result.returncode == 0, result.tail()
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"mfa_enrollments", "mail_quota", "users"} <= tables, sorted(tables)


def test_overlapping_edit_is_reported_as_a_conflict(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """When user and template change the same line, the default update leaves markers
    and an unmerged path (so the clean-update checks above can fail)."""
    template = tag_template_v1(tmp_path_factory)
    project = copy_project(template, tmp_path_factory.mktemp("conflict-project") / "project")
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "rendered from Bastion v1")
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").split("\n")
    lines[title_index(lines)] += " (our fork)"
    readme.write_text("\n".join(lines), encoding="utf-8")
    commit_all(project, "our title")
    release_v2(template, readme_fix)
    update_project(project, conflict="inline")
    problems = unresolved(project)
    assert "conflict markers: README.md" in problems, problems
    assert any(p.startswith("unmerged: ") and p.endswith("README.md") for p in problems), problems
    assert support.load_answers(project)["_commit"] == "v2"


# ---------------------------------------------------------------------- migrations

RENAME_SETTING = """\
\"\"\"Migration: rename a setting in the git-ignored .env, which updates never touch.\"\"\"
import sys
from pathlib import Path

old, new = sys.argv[1], sys.argv[2]
env = Path(".env")
if env.exists():
    lines = env.read_text(encoding="utf-8").splitlines(keepends=True)
    renamed = [new + line[len(old):] if line.startswith(old + "=") else line for line in lines]
    env.write_text("".join(renamed), encoding="utf-8")
"""
MIGRATION = {
    "version": "v2",
    "command": [
        "{{ _copier_python }}",
        "{{ _copier_conf.src_path }}/hooks/rename_setting.py",
        "EMAIL_BACKEND",
        "MAIL_BACKEND",
    ],
    "when": "{{ _stage == 'after' }}",
}


def add_migration(template: Path) -> None:
    """Add the migration script and a version-gated `_migrations` entry to copier.yml."""
    (template / "hooks" / "rename_setting.py").write_text(RENAME_SETTING, encoding="utf-8")
    config = template / "copier.yml"
    loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert "_migrations" not in loaded or isinstance(loaded["_migrations"], list)
    text = config.read_text(encoding="utf-8")
    # Indented like the entries copier.yml already has (a block sequence under the key).
    entry = textwrap.indent(
        yaml.safe_dump([MIGRATION], default_flow_style=False, sort_keys=False), "  "
    )
    if "_migrations" in loaded:
        text = text.replace("_migrations:\n", "_migrations:\n" + entry, 1)
    else:
        text += "\n_migrations:\n" + entry
    config.write_text(text, encoding="utf-8")


def test_migration_runs_on_update_across_its_version(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A `_migrations` step for v2 runs when updating from v1 (renaming a `.env` key),
    and the update is otherwise clean."""
    template = tag_template_v1(tmp_path_factory)
    project = copy_project(template, tmp_path_factory.mktemp("migrate-project") / "project")
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "rendered from Bastion v1")
    env_before = (project / ".env").read_text(encoding="utf-8")
    assert "\nEMAIL_BACKEND=console\n" in env_before

    add_migration(template)
    release_v2(template, readme_fix)
    update_project(project, conflict="rej")

    env_after = (project / ".env").read_text(encoding="utf-8")
    assert env_after == env_before.replace("\nEMAIL_BACKEND=", "\nMAIL_BACKEND=")
    assert support.load_answers(project)["_commit"] == "v2"
    assert unresolved(project) == []


def test_migration_does_not_run_on_copy(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A copy from a release that has the migration keeps `.env` as the copy task wrote it."""
    template = support.snapshot_template(tmp_path_factory.mktemp("migrate-copy") / "src")
    add_migration(template)
    commit_all(template, "with a migration")
    git("tag", "v2", cwd=template)
    project = copy_project(template, tmp_path_factory.mktemp("migrate-copy-project") / "p")
    env = (project / ".env").read_text(encoding="utf-8")
    assert "\nEMAIL_BACKEND=console\n" in env
    assert "MAIL_BACKEND" not in env.replace("EMAIL_BACKEND", "")


def test_real_migrations_are_version_gated() -> None:
    """Every `_migrations` entry in copier.yml names its version and its stage."""
    config = support.copier_config()
    migrations = config.get("_migrations", [])
    for migration in migrations:
        assert isinstance(migration, dict), migration
        assert "version" in migration, f"unversioned migration runs on every update: {migration}"
        assert "when" in migration, f"migration without an explicit stage: {migration}"


# ------------------------------------------------- from the last release to this tree

PREVIOUS_RELEASE = "v0.1.0"
# The commit v0.1.0 tags, for a clone that did not bring the tag along.
PREVIOUS_RELEASE_COMMIT = "ffd46de8e15c3c754f3f8419f124f0ad21c83543"
NEXT_RELEASE = "v0.3.0"
SOURCE_OF_DOCS_ROUTER = Path("src/bastion_service/api/routers/docs.py")


def previous_release_ref() -> str:
    """The tag of the last release in this repository, or the commit it names."""
    for ref in (PREVIOUS_RELEASE, PREVIOUS_RELEASE_COMMIT):
        found = support.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=support.REPO_ROOT
        )
        if found.returncode == 0:
            return found.output.strip()
    pytest.fail(f"neither {PREVIOUS_RELEASE} nor its commit is here: clone with full history")


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository holding the real last release and this tree as the next one."""
    template = tmp_path_factory.mktemp("releases") / "bastion"
    template.mkdir()
    archive = support.run(
        ["git", "archive", "--format=tar", "-o", str(template.parent / "old.tar"),
         previous_release_ref()],
        cwd=support.REPO_ROOT,
    )  # fmt: skip
    assert archive.returncode == 0, archive.tail()
    shutil.unpack_archive(template.parent / "old.tar", template)
    git("init", "-q", "-b", "main", cwd=template)
    commit_all(template, f"Bastion {PREVIOUS_RELEASE}")
    git("tag", PREVIOUS_RELEASE, cwd=template)

    current = support.snapshot_template(tmp_path_factory.mktemp("current") / "src")
    for path in list(template.iterdir()):
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in support.working_tree_files(current):
        (template / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(current / name, template / name)
    commit_all(template, f"Bastion {NEXT_RELEASE}")
    git("tag", NEXT_RELEASE, cwd=template)
    return template


@dataclass
class ReleaseUpdate:
    """A project copied from the last release, edited, then updated to this tree."""

    project: Path
    env_before: str
    env_after: str


def copy_edit_update(template: Path, destination: Path, **data: Any) -> ReleaseUpdate:
    """Copy at the previous release (task included), commit, edit, update to the next."""
    support.render(template, destination, data, skip_tasks=False, vcs_ref=PREVIOUS_RELEASE)
    git("init", "-q", "-b", "main", cwd=destination)
    commit_all(destination, f"rendered from Bastion {PREVIOUS_RELEASE}")
    readme = destination / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + USER_SECTION, encoding="utf-8")
    commit_all(destination, "our notes")
    env_before = (destination / ".env").read_text(encoding="utf-8")
    update_project(destination, conflict="rej", vcs_ref=NEXT_RELEASE)
    return ReleaseUpdate(destination, env_before, (destination / ".env").read_text())


@pytest.fixture(scope="module")
def release_update_totp(
    two_releases: Path, tmp_path_factory: pytest.TempPathFactory
) -> ReleaseUpdate:
    """The default (TOTP) project through the previous release → this tree update."""
    return copy_edit_update(two_releases, tmp_path_factory.mktemp("release-totp") / "p")


def env_values(text: str) -> dict[str, str]:
    """The assignments of a `.env` text."""
    pairs = (line.partition("=") for line in text.splitlines() if not line.startswith("#"))
    return {name: value for name, separator, value in pairs if separator}


def test_release_update_records_the_new_release(release_update_totp: ReleaseUpdate) -> None:
    """The project now names the next release, has this tree's fixes, and kept the user's edit."""
    project = release_update_totp.project
    assert support.load_answers(project)["_commit"] == NEXT_RELEASE
    assert (project / SOURCE_OF_DOCS_ROUTER).is_file()
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_SECTION)
    assert unresolved(project) == []


def test_release_update_moves_the_middleware_into_its_package(
    release_update_totp: ReleaseUpdate,
) -> None:
    """The last release's `api/middleware.py` and the middleware modules of `security/`
    are gone, not left beside the new `api/middleware/` package (which would shadow the
    old module while its stale copy lingered in the project)."""
    package = release_update_totp.project / "src" / "bastion_service"
    assert (package / "api" / "middleware" / "__init__.py").is_file()
    for moved in ("api/middleware.py", "security/asgi_responses.py", "security/request_bodies.py"):
        assert not (package / moved).exists(), moved


def test_release_update_moves_the_mfa_service_into_its_package(
    release_update_totp: ReleaseUpdate,
) -> None:
    """The last release's `services/mfa.py` is gone, not left beside the new `services/mfa/`
    package that took its place (one module per MFA job)."""
    services = release_update_totp.project / "src" / "bastion_service" / "services"
    assert (services / "mfa" / "challenges.py").is_file()
    assert not (services / "mfa.py").exists()


def test_release_update_pins_the_mfa_key_so_far(release_update_totp: ReleaseUpdate) -> None:
    """The 0.2.0 migration adds MFA_ENCRYPTION_KEY to `.env`, and it is the very key the
    project derived from SECRET_KEY before: TOTP secrets stored so far stay readable."""
    before = env_values(release_update_totp.env_before)
    after = env_values(release_update_totp.env_after)
    assert "MFA_ENCRYPTION_KEY" not in before
    assert {k: v for k, v in after.items() if k != "MFA_ENCRYPTION_KEY"} == before
    assert release_update_totp.env_after.startswith(release_update_totp.env_before)
    check = (
        "import sys\n"
        "from bastion_service.security.totp import derive_key, encryption_key\n"
        "pinned, secret = sys.stdin.read().split()\n"
        "assert encryption_key(pinned, secret) == derive_key(secret)\n"
        "assert encryption_key(pinned, secret + 'x') == derive_key(secret)\n"
    )
    result = support.run(
        [sys.executable, "-c", check],
        cwd=release_update_totp.project,
        env=support.clean_environment(PYTHONPATH="src"),
        stdin=f"{after['MFA_ENCRYPTION_KEY']} {before['SECRET_KEY']}",
    )
    assert result.returncode == 0, result.tail()


def test_release_update_leaves_other_projects_env_alone(
    two_releases: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Without TOTP the migration does not run: `.env` is byte-for-byte the same."""
    update = copy_edit_update(
        two_releases, tmp_path_factory.mktemp("release-none") / "p", mfa="none"
    )
    assert update.env_after == update.env_before
    assert support.load_answers(update.project)["_commit"] == NEXT_RELEASE
    assert unresolved(update.project) == []


def test_the_migration_keeps_a_key_already_set(tmp_path: Path, template_src: Path) -> None:
    """Run again (or on a `.env` with its own key), the migration changes nothing."""
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY=" + "k" * 48 + "\nMFA_ENCRYPTION_KEY=already-mine\n")
    before = env.read_bytes()
    result = support.run([sys.executable, str(template_src / "hooks" / "pin_mfa_key.py")], tmp_path)
    assert result.returncode == 0, result.tail()
    assert env.read_bytes() == before
