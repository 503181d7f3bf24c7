"""Every valid answer renders a project that passes its own checks, the longest names too.

The rendered code's line length must not depend on the names: ruff's formatter would
wrap an import of a long package name differently from the template's text, and the
project's CI would fail on its first push. The template therefore writes each import
of the package either on one line that fits at the longest package name the
validators allow, or in the exploded form with a magic trailing comma, which ruff
keeps exploded at any length; strings holding a name sit where the longest still
fits, and the tests' own helpers (`tests.*`) sort in an isort section of their own,
so the import order does not depend on the name either. A line that fits with the
longest name fits with any shorter one, so these renders and the matrix's default
name between them cover every name. (A format pass at copy time was rejected: it
needs ruff wherever Copier runs, is lost with `--skip-tasks`, and `copier update`
would diff formatted output against unformatted renders.)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import template_support as support
from template_support import Rendered
from variant_marks import every_variant, variant_params

# The longest answers `copier.yml` accepts, with digits, '-', '_', '.', spaces and
# a package name that sorts after `tests`.
LONGEST_PROJECT_NAME = "Zeta9 Identity-Access_Service.for the North Region"
LONGEST_SLUG = "zeta9-identity-access-service-for-the-north-region"
LONGEST_PACKAGE = "zeta9_identity_access_service_for_the_north_region"
LONGEST_DESCRIPTION = (
    "Zeta9's sign-in & account service (MFA, sessions, audit): 100% tested; #1 #2 #3!"
)
LONGEST_NAMES: dict[str, Any] = {
    "project_name": LONGEST_PROJECT_NAME,
    "description": LONGEST_DESCRIPTION,
    "author_name": "O'Neill & Søn Identity Team",
}

# Every check of the rendered project on one SQL and one DynamoDB variant with TOTP
# (the variants with the most code); ruff alone on the JWT variants.
TYPE_CHECKED = [
    {"database": "sql", "token_style": "opaque", "mfa": "totp"},
    {"database": "dynamodb", "token_style": "cookie", "mfa": "totp"},
]
LINTED = [
    {"database": "sql", "token_style": "jwt", "mfa": "totp"},
    {"database": "dynamodb", "token_style": "jwt", "mfa": "none"},
]


def test_longest_names_are_at_the_validators_limits(template_src: Path) -> None:
    """The names below are the longest valid ones: one character more is refused."""
    assert len(LONGEST_PROJECT_NAME) == len(LONGEST_SLUG) == len(LONGEST_PACKAGE) == 50
    assert len(LONGEST_DESCRIPTION) == 80
    validators = "\n".join(
        str(spec.get("validator", ""))
        for spec in support.copier_config(template_src).values()
        if isinstance(spec, dict)
    )
    for limit in ("project_name | length > 50", "project_slug | length > 50"):
        assert limit in validators, limit
    assert "package_name | length > 50" in validators
    assert "description | length > 80" in validators


def _render_longest(template_src: Path, tmp_path: Path, variant: dict[str, Any]) -> Path:
    project = support.render(template_src, tmp_path / "project", {**variant, **LONGEST_NAMES})
    answers = support.load_answers(project)
    assert answers["project_slug"] == LONGEST_SLUG, answers
    assert answers["package_name"] == LONGEST_PACKAGE, answers
    return project


def _ruff(project: Path) -> None:
    for command in (["check"], ["format", "--check"]):
        result = support.run(
            [sys.executable, "-m", "ruff", *command, "--no-cache", "."], cwd=project
        )
        assert result.returncode == 0, result.tail()


@pytest.mark.parametrize("variant", variant_params(TYPE_CHECKED))
def test_longest_names_pass_ruff_format_and_mypy(
    template_src: Path, tmp_path: Path, mypy_cache_dir: Path, variant: dict[str, Any]
) -> None:
    """A render with the longest valid names passes `ruff check`, `ruff format --check`
    and `mypy --strict`, as the generated CI runs them."""
    project = _render_longest(template_src, tmp_path, variant)
    _ruff(project)
    result = support.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(mypy_cache_dir)], cwd=project
    )
    assert result.returncode == 0, result.tail()


@pytest.mark.parametrize("variant", variant_params(LINTED))
def test_longest_names_pass_ruff_and_format(
    template_src: Path, tmp_path: Path, variant: dict[str, Any]
) -> None:
    """The other token styles with the longest names pass `ruff check` and `--check`."""
    _ruff(_render_longest(template_src, tmp_path, variant))


SHADOWED_LIST = re.compile(r"set shadowed = (\[.*?\])", re.DOTALL)


def _imported_modules(project: Path) -> set[str]:
    """The top-level modules the project's Python files import (relative imports aside)."""
    modules: set[str] = set()
    for path in project.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.partition(".")[0])
    return modules


@every_variant
def test_package_name_cannot_shadow_an_imported_module(
    rendered: Rendered, template_src: Path
) -> None:
    """Every module a variant imports is refused as `package_name`: a package of that
    name in `src/` would be imported instead of it (by pytest, mypy and the service)."""
    validator = support.copier_config(template_src)["package_name"]["validator"]
    found = SHADOWED_LIST.search(validator)
    assert found, validator
    shadowed = set(ast.literal_eval(found.group(1)))
    imported = _imported_modules(rendered.path) - {rendered.package, "tests", "_typeshed"}
    assert not imported - shadowed, f"add to package_name's list: {sorted(imported - shadowed)}"
