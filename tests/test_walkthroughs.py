"""The rendered README's walkthroughs run as written, in every variant (`walkthroughs.py`).

Each variant is copied as `copier copy --trust` copies it (tasks run: `.env`, `uv.lock`),
then every marked ```bash block of its README runs in order: `uv sync` and `serve`
started exactly as "Run it" says, then the curl walkthrough (register, the mailed link,
sign-in and out, MFA enrollment and sign-in with a code for TOTP variants, the CSRF
steps for cookie variants, the first administrator).

The README's other shell blocks are not walkthroughs, and each is run elsewhere:
`UNEXECUTED_BLOCKS` says where. A new unmarked block fails
`test_every_shell_block_is_walked_or_accounted_for` until it is marked or listed.
UPDATING.md's commands are `copier update` and the checks (tests/test_update.py runs
the update, the suites in tests/test_variants.py the checks); SECURITY.md gives none.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

import template_support as support
from template_support import Rendered
from variant_marks import every_variant
from walkthroughs import (
    background,
    bash,
    breach_range_stand_in,
    free_port_pair,
    reader_environment,
    run_walkthrough,
    serve_on,
    wait_until_ready,
    walkthrough_blocks,
)

BASH_FENCE = re.compile(r"^\s*```bash\s*$", re.MULTILINE)
# First line of a README shell block that is not run here -> the test that runs it.
UNEXECUTED_BLOCKS = {
    "uv run pytest -n auto": "test_rendered_suite, test_rendered_suite_on_postgresql (on"
    " pytest-xdist workers), test_ruff_check, test_ruff_format, test_mypy_strict"
    " (tests/test_variants.py); pip-audit needs the vulnerability database online",
    "copier update --trust --defaults": "tests/test_update.py",
}


def shell_block_first_lines(markdown: str) -> list[str]:
    """The first line of every ```bash block of `markdown`."""
    lines = markdown.splitlines()
    return [
        lines[index + 1].strip()
        for index, line in enumerate(lines)
        if BASH_FENCE.match(line) and index + 1 < len(lines)
    ]


@every_variant
def test_every_shell_block_is_walked_or_accounted_for(rendered: Rendered) -> None:
    """Each ```bash block of the README is a marked walkthrough step or a listed exception,
    and the walkthrough starts the service before it talks to it."""
    readme = (rendered.path / "README.md").read_text(encoding="utf-8")
    blocks = walkthrough_blocks(readme)
    walked = {block.text.splitlines()[0].strip() for block in blocks}
    unaccounted = [
        line
        for line in shell_block_first_lines(readme)
        if line not in walked and not any(line.startswith(known) for known in UNEXECUTED_BLOCKS)
    ]
    assert unaccounted == [], f"{rendered.id}: mark these walkthrough blocks or list them"
    roles = [block.role for block in blocks]
    assert roles[0] == "serve", roles
    assert "run" in roles, roles


@every_variant
def test_readme_walkthrough_runs_as_written(
    variant: dict[str, Any], template_src: Path, tmp_path: Path
) -> None:
    """A fresh copy, then every walkthrough block of its README, in order, succeeds."""
    project = support.render(template_src, tmp_path / "project", variant, skip_tasks=False)
    assert (project / "uv.lock").is_file(), "the copy task could not lock (offline, cold cache?)"
    blocks = walkthrough_blocks((project / "README.md").read_text(encoding="utf-8"))
    environment = reader_environment(tmp_path / "tools", sys.executable)
    with breach_range_stand_in() as breach_api:
        environment["BREACHED_PASSWORD_API_URL"] = breach_api
        walk = run_walkthrough(blocks, project, environment, tmp_path)
    assert walk.failed_at is None, walk.transcript


# --------------------------------------------------------- the runner itself

# A stand-in service for the runner's own tests: answers 200 on `/health/ready` only.
STAND_IN = """\
import http.server, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health/ready" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass

port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 8000
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""
STAND_IN_README = """\
# Stand-in

<!-- walkthrough: serve -->
```bash
python3 stand_in.py serve
```

<!-- walkthrough -->
```bash
READY=http://127.0.0.1:8000/health/ready
curl -sS --fail-with-body $READY
```

<!-- walkthrough -->
```bash
{line}
echo reached the end >&2
```
"""


@pytest.mark.parametrize(
    ("line", "fails"),
    [
        ("curl -sS --fail-with-body $READY", False),  # the control: carries $READY over
        ("curl -sS --fail-with-body http://127.0.0.1:8000/health/gone", True),
        ("false | cat", True),  # pipefail
        ("echo $UNSET_VARIABLE", True),  # nounset
    ],
    ids=["control", "drifted-route", "failing-pipe", "unset-variable"],
)
def test_a_broken_walkthrough_line_fails(tmp_path: Path, line: str, *, fails: bool) -> None:
    """One broken line anywhere fails the walkthrough, and nothing after it runs."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "stand_in.py").write_text(STAND_IN, encoding="utf-8")
    blocks = walkthrough_blocks(STAND_IN_README.format(line=line))
    walk = run_walkthrough(
        blocks, project, reader_environment(tmp_path / "tools", "python3"), tmp_path
    )
    assert (walk.failed_at is not None) is fails, walk.transcript
    assert ("reached the end" in walk.transcript) is not fails, walk.transcript


def test_a_marker_without_a_bash_block_is_an_error() -> None:
    """A marker that precedes anything but a ```bash block cannot silently skip it."""
    with pytest.raises(ValueError, match="must precede"):
        walkthrough_blocks("<!-- walkthrough -->\n```sh\ntrue\n```\n")


# ------------------------------------------------------ the post-copy message

# The repository README's way to render a project (its other line, with pipx, differs
# only in the tool that fetches Copier).
README_COPY = re.compile(
    r'^uvx --from "copier>=[0-9.]+" copier copy --trust path/to/bastion my-service$'
)
NEXT_STEPS = re.compile(r"^Next steps[^\n]*:\n((?:  \S[^\n]*\n)+)", re.MULTILINE)


def next_steps(message: str) -> list[str]:
    """The commands under "Next steps" in Copier's closing message, comments dropped."""
    match = NEXT_STEPS.search(message)
    assert match is not None, message
    return [line.split("#", 1)[0].strip() for line in match.group(1).splitlines()]


def copy_command(template: Path, project: Path) -> list[str]:
    """The repository README's `copier copy` line, for `template` into `project`."""
    readme = (support.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if README_COPY.match(line)]
    assert len(lines) == 1, "the README's copier copy line changed: update README_COPY"
    words = shlex.split(lines[0])
    return [
        str(template) if w == "path/to/bastion" else str(project) if w == "my-service" else w
        for w in words
    ]


@pytest.mark.parametrize("skip_tasks", [False, True], ids=["tasks", "skip-tasks"])
def test_dynamodb_copy_is_ready_after_the_printed_steps(
    template_src: Path, tmp_path: Path, *, skip_tasks: bool
) -> None:
    """The README's `copier copy` of a DynamoDB project (answers given as flags), then
    exactly the steps it prints (but the project's own tests, which `test_rendered_suite`
    runs): `/health/ready` answers 200 on a machine with no DynamoDB and no AWS
    credentials."""
    project = tmp_path / "project"
    copy = copy_command(template_src, project)
    answers = ["--defaults", "--data", "database=dynamodb"]
    environment = reader_environment(tmp_path / "tools", sys.executable)
    result = support.run(
        [*copy, *answers, *(["--skip-tasks"] if skip_tasks else [])], cwd=tmp_path, env=environment
    )
    assert result.returncode == 0, result.tail()
    steps = next_steps(result.output)
    assert steps[0] == f"cd {project}", steps
    assert steps[-1] == "uv run pytest", steps
    *setup, serve = steps[1:-1]
    assert serve == "uv run bastion-service serve", steps
    setup_result = support.run(bash("\n".join(setup)), cwd=project, env=environment)
    assert setup_result.returncode == 0, setup_result.tail()
    port = free_port_pair()
    log = tmp_path / "serve.log"
    with background(serve_on(serve, port), project, environment, log) as server:
        wait_until_ready(server, port, log)
    assert "in-memory DynamoDB" in log.read_text(), log.read_text()
