"""GitHub Actions workflows: the template's own CI and the one every project gets.

Both are validated against the GitHub workflow schema (`check-jsonschema`, offline)
and audited by `zizmor --offline`; on top of that they are read as data and held to
the rules: nothing granted at the top, `contents: read` per job, actions pinned to
full commit SHAs with the release in a comment, no persisted checkout credentials,
and services and variables that match what the tests they run actually read.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

import template_support as support
from template_support import Rendered
from variant_marks import covering_variants, every_variant

ROOT_WORKFLOW = support.REPO_ROOT / ".github" / "workflows" / "ci.yml"
RENDERED_WORKFLOW = Path(".github/workflows/ci.yml")
PINNED_USES = re.compile(r"^\s*-?\s*uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*v\d[\w.-]*\s*$")
ANY_USES = re.compile(r"^\s*-?\s*uses:\s*(\S+)")
ENV_READ = re.compile(
    r"""(?:environ\.get|getenv)\(\s*["'](TEST_[A-Z0-9_]+)["']|environ\[\s*["'](TEST_[A-Z0-9_]+)["']"""
)
# What pre-commit-hooks' detect-private-key looks for.
PRIVATE_KEY_MARKERS = (
    "BEGIN RSA PRIVATE KEY",
    "BEGIN DSA PRIVATE KEY",
    "BEGIN EC PRIVATE KEY",
    "BEGIN OPENSSH PRIVATE KEY",
    "BEGIN PRIVATE KEY",
    "BEGIN ENCRYPTED PRIVATE KEY",
    "BEGIN PGP PRIVATE KEY BLOCK",
    "PuTTY-User-Key-File-2",
)
COLLECTED = re.compile(r"^(tests/\S+::\S+)$", re.MULTILINE)


def load_workflow(path: Path) -> dict[str, Any]:
    """A workflow as data (PyYAML reads the `on:` key as True; it is put back)."""
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in loaded:
        loaded["on"] = loaded.pop(True)
    return loaded


def workflow_problems(text: str) -> list[str]:
    """Breaches of the workflow rules (least privilege, pinned actions, no persisted token)."""
    data = yaml.safe_load(text)
    problems = []
    if data.get("permissions") != {}:
        problems.append(f"top-level permissions must be {{}}, not {data.get('permissions')!r}")
    for name, job in data.get("jobs", {}).items():
        if job.get("permissions") != {"contents": "read"}:
            problems.append(f"job {name}: permissions must be contents: read")
        for step in job.get("steps", []):
            is_checkout = str(step.get("uses", "")).startswith("actions/checkout@")
            persisted = (step.get("with") or {}).get("persist-credentials") is not False
            if is_checkout and persisted:
                problems.append(f"job {name}: checkout without persist-credentials: false")
    for number, line in enumerate(text.splitlines(), start=1):
        if ANY_USES.match(line) and not PINNED_USES.match(line):
            problems.append(f"line {number}: action not pinned to a SHA with a version comment")
    return problems


def run_tool(*args: str, cwd: Path) -> support.Result:
    """Run a console script installed next to this interpreter."""
    return support.run([str(Path(sys.executable).parent / args[0]), *args[1:]], cwd=cwd)


def schema_check(path: Path) -> support.Result:
    """`check-jsonschema` with the GitHub workflow schema that ships with it (offline)."""
    return run_tool(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        str(path),
        cwd=path.parent,
    )


def zizmor(*args: str, cwd: Path) -> support.Result:
    """`zizmor --offline`, ignoring any configuration and inline ignore comments."""
    return run_tool(
        "zizmor", "--offline", "--no-config", "--no-ignores", "--no-progress", *args, cwd=cwd
    )


# ------------------------------------------------------------------ the template's CI


def test_template_workflow_matches_github_schema() -> None:
    """The template's own workflow is valid for GitHub Actions."""
    result = schema_check(ROOT_WORKFLOW)
    assert result.returncode == 0, result.tail()


def test_template_workflow_is_clean_under_zizmor() -> None:
    """`zizmor --offline` finds nothing in the template's own workflow."""
    result = zizmor(str(ROOT_WORKFLOW), cwd=support.REPO_ROOT)
    assert result.returncode == 0, result.tail()


def test_template_workflow_follows_the_rules() -> None:
    """Least privilege, SHA-pinned actions, no persisted checkout token."""
    assert workflow_problems(ROOT_WORKFLOW.read_text(encoding="utf-8")) == []


def test_rule_check_catches_breaches() -> None:
    """The rule check itself rejects write permissions, tag pins and persisted tokens."""
    bad = """
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065
"""
    problems = workflow_problems(bad)
    assert any("top-level permissions" in p for p in problems), problems
    assert any("job build: permissions" in p for p in problems), problems
    assert any("persist-credentials" in p for p in problems), problems
    assert sum("not pinned" in p for p in problems) == 2, problems


def test_template_workflow_runs_the_suite_with_services() -> None:
    """CI runs scripts/test with full history, PostgreSQL, Redis, CI=true, and weekly."""
    workflow = load_workflow(ROOT_WORKFLOW)
    assert workflow["on"].get("schedule"), "no scheduled run to catch dependency drift"
    (job,) = workflow["jobs"].values()
    images = {name: str(service["image"]) for name, service in job["services"].items()}
    assert any(image.startswith("postgres:") for image in images.values()), images
    assert any(image.startswith("redis:") for image in images.values()), images
    env = job["env"]
    assert str(env["CI"]).lower() == "true"
    assert env["TEST_POSTGRES_URL"].startswith("postgresql+asyncpg://")
    assert env["TEST_REDIS_URL"].startswith("redis://")
    conftest = (support.REPO_ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    for name in ("TEST_POSTGRES_URL", "TEST_REDIS_URL"):
        assert f'"{name}"' in conftest, f"tests/conftest.py no longer reads {name}"
    checkout = next(
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout")
    )
    assert checkout["with"]["fetch-depth"] == 0
    runs = [str(step.get("run", "")) for step in job["steps"]]
    assert any(run.startswith("scripts/test ") for run in runs), runs


def _collect(selection: str | None) -> set[str]:
    args = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    if selection is not None:
        args += ["-k", selection]
    result = support.run(args, cwd=support.REPO_ROOT, timeout=120)
    assert result.returncode in {0, 5}, result.tail()
    return set(COLLECTED.findall(result.output))


def test_template_matrix_splits_the_suite_by_database() -> None:
    """The matrix jobs' `-k` selections partition the suite, one database per job."""
    (job,) = load_workflow(ROOT_WORKFLOW)["jobs"].values()
    selections = [entry["select"] for entry in job["strategy"]["matrix"]["include"]]
    everything = _collect(None)
    parts = [_collect(selection) for selection in selections]
    assert all(parts), f"a matrix job selects no test: {selections}"
    assert set().union(*parts) == everything, sorted(everything - set().union(*parts))[:10]
    assert sum(len(part) for part in parts) == len(everything), "a test runs in two jobs"
    for database in ("sql", "dynamodb"):
        ids = {support.variant_id(v) for v in support.variants() if v["database"] == database}
        holders = [
            part
            for part in parts
            if any(f"[{variant_id}]" in test for test in part for variant_id in ids)
        ]
        assert len(holders) == 1, f"{database} variants are spread over {len(holders)} jobs"
        in_job = {
            variant_id for variant_id in ids if any(f"[{variant_id}]" in t for t in holders[0])
        }
        assert in_job == ids, f"{database} variants missing from their job: {ids - in_job}"


# ---------------------------------------------------------------- the rendered CI


@covering_variants
def test_rendered_workflow_matches_github_schema(rendered: Rendered) -> None:
    """The rendered project's workflow is valid for GitHub Actions."""
    result = schema_check(rendered.path / RENDERED_WORKFLOW)
    assert result.returncode == 0, result.tail()


@covering_variants
def test_rendered_workflow_is_clean_under_zizmor(rendered: Rendered) -> None:
    """`zizmor --offline` finds nothing in the rendered workflow or pre-commit config."""
    result = zizmor(str(rendered.path / RENDERED_WORKFLOW), cwd=rendered.path)
    assert result.returncode == 0, result.tail()
    result = zizmor("--collect=pre-commit", "--", str(rendered.path), cwd=rendered.path)
    assert result.returncode == 0, result.tail()


@covering_variants
def test_rendered_workflow_follows_the_rules(rendered: Rendered) -> None:
    """Least privilege, SHA-pinned actions, no persisted checkout token."""
    text = (rendered.path / RENDERED_WORKFLOW).read_text(encoding="utf-8")
    assert workflow_problems(text) == []


@covering_variants
def test_rendered_workflow_has_lint_test_and_security_jobs(rendered: Rendered) -> None:
    """Lint runs ruff and mypy, test runs pytest, both from `uv sync --locked`; security runs
    bandit and pip-audit over the exported lock; uv (cached) on the project's Python."""
    jobs = load_workflow(rendered.path / RENDERED_WORKFLOW)["jobs"]
    commands = {name: [str(s.get("run", "")) for s in job["steps"]] for name, job in jobs.items()}
    locked = "uv run --locked "
    assert {f"{locked}ruff check .", f"{locked}ruff format --check .", f"{locked}mypy"} <= set(
        commands["lint"]
    )
    assert f"{locked}pytest -n auto" in commands["test"]
    for name in ("lint", "test"):
        assert commands[name].index("uv sync --locked") < len(commands[name]) - 1, name
    assert "uvx bandit -r src -ll" in commands["security"]
    (export,) = [c for c in commands["security"] if c.startswith("uv export --locked")]
    audited = export.split(" -o ", 1)[1]
    assert "--no-hashes" in export
    (audit,) = [c for c in commands["security"] if "pip-audit" in c]
    assert f"-r {audited}" in audit
    assert "--no-deps" in audit, "pip-audit must audit the locked versions, not re-resolve"
    for name, job in jobs.items():
        assert not any("pip install" in command for command in commands[name]), name
        setup = next(s for s in job["steps"] if "astral-sh/setup-uv" in str(s.get("uses", "")))
        assert setup["with"]["python-version"] == rendered.answers["python_version"]
        assert setup["with"]["enable-cache"] is True
        assert setup["with"]["cache-dependency-glob"] == "uv.lock"


DEPENDABOT = Path(".github/dependabot.yml")


@covering_variants
def test_rendered_dependabot_config_is_valid_and_complete(rendered: Rendered) -> None:
    """dependabot.yml passes its schema and zizmor, and updates the actions, uv.lock and
    the base image, each with a cooldown."""
    path = rendered.path / DEPENDABOT
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.dependabot", str(path), cwd=rendered.path
    )
    assert result.returncode == 0, result.tail()
    result = zizmor("--collect=dependabot", "--", str(rendered.path), cwd=rendered.path)
    assert result.returncode == 0, result.tail()
    updates = yaml.safe_load(path.read_text(encoding="utf-8"))["updates"]
    by_ecosystem = {update["package-ecosystem"]: update for update in updates}
    assert set(by_ecosystem) == {"github-actions", "uv", "docker"}
    for ecosystem, update in by_ecosystem.items():
        assert update["directory"] == "/", ecosystem
        assert update["cooldown"]["default-days"] >= 1, ecosystem


@covering_variants
def test_rendered_test_job_serves_what_the_tests_read(rendered: Rendered) -> None:
    """SQL variants get PostgreSQL, every variant Redis, and each `TEST_*` variable the
    rendered tests read is set (they fail on CI=true without them)."""
    job = load_workflow(rendered.path / RENDERED_WORKFLOW)["jobs"]["test"]
    images = [str(service["image"]) for service in job.get("services", {}).values()]
    env = job.get("env", {})
    read = set()
    for path in (rendered.path / "tests").rglob("*.py"):
        for match in ENV_READ.finditer(path.read_text(encoding="utf-8")):
            read.add(match.group(1) or match.group(2))
    assert "TEST_REDIS_URL" in read, "the rendered tests no longer read TEST_REDIS_URL"
    assert read <= set(env), f"read by the tests but not set by CI: {sorted(read - set(env))}"
    assert any(image.startswith("redis:") for image in images), images
    assert env["TEST_REDIS_URL"].startswith("redis://localhost:6379")
    if rendered.variant["database"] == "sql":
        assert "TEST_DATABASE_URL" in read
        assert any(image.startswith("postgres:") for image in images), images
        assert env["TEST_DATABASE_URL"].startswith("postgresql+asyncpg://")
    else:
        assert not any(image.startswith("postgres:") for image in images), images
        assert "TEST_DATABASE_URL" not in env


@covering_variants
def test_pre_commit_guards_against_update_leftovers(rendered: Rendered) -> None:
    """pre-commit runs the locked ruff, refuses conflict markers outside merges and `.rej`."""
    config = yaml.safe_load((rendered.path / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff-check", "ruff-format"} <= set(hooks)
    for ruff in ("ruff-check", "ruff-format"):  # the locked ruff, as CI runs it
        assert hooks[ruff]["entry"].startswith("uv run --locked ruff "), hooks[ruff]
    assert "--assume-in-merge" in hooks["check-merge-conflict"].get("args", [])
    (reject,) = [hook for hook in hooks.values() if hook.get("language") == "fail"]
    assert re.search(reject["files"], "src/app/main.py.rej")
    assert not re.search(reject["files"], "src/app/main.py")
    for repo in config["repos"]:
        if repo["repo"] != "local":
            assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"]), repo
    if "detect-private-key" in hooks:  # it would refuse to commit the rendered project
        flagged = [
            str(relative)
            for relative, text in support.iter_text_files(rendered.path, rendered.files)
            if any(marker in text for marker in PRIVATE_KEY_MARKERS)
        ]
        assert flagged == [], f"detect-private-key would refuse {flagged}"


@every_variant
def test_rendered_code_passes_bandit(rendered: Rendered) -> None:
    """The rendered CI's `bandit -r src -ll` finds nothing."""
    result = run_tool("bandit", "-q", "-r", "src", "-ll", cwd=rendered.path)
    assert result.returncode == 0, result.tail()


@covering_variants
def test_both_workflows_pin_each_action_to_one_release(rendered: Rendered) -> None:
    """An action has one SHA and one version comment across both workflows."""
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in (ROOT_WORKFLOW, rendered.path / RENDERED_WORKFLOW):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = PINNED_USES.match(line)
            if match:
                comment = line.split("#", 1)[1].strip()
                pins.setdefault(match.group(1), set()).add((match.group(2), comment))
    assert {"actions/checkout", "actions/setup-python", "astral-sh/setup-uv"} <= set(pins), pins
    assert {action: len(found) for action, found in pins.items()} == dict.fromkeys(pins, 1), pins
