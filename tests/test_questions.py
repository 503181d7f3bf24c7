"""The questions: validators reject bad names clearly; names derive from the project name."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import template_support as support


def _render_error(template_src: Path, destination: Path, data: dict[str, Any]) -> str:
    with pytest.raises(ValueError, match="Validation error") as raised:
        support.render(template_src, destination, data)
    return str(raised.value)


@pytest.mark.parametrize(
    ("data", "question", "reason"),
    [
        pytest.param({"project_name": ""}, "project_name", "cannot be empty", id="name-empty"),
        pytest.param({"project_name": "   "}, "project_name", "cannot be empty", id="name-blank"),
        pytest.param(
            {"project_name": "1st Service"},
            "project_name",
            "starting with a letter",
            id="name-starts-with-digit",
        ),
        pytest.param({"project_name": "A" * 51}, "project_name", "at most 50", id="name-too-long"),
        pytest.param({"project_slug": "Bad Slug"}, "project_slug", "Bad Slug", id="slug-space"),
        pytest.param(
            {"project_slug": "bad--slug"}, "project_slug", "single '-'", id="slug-double-dash"
        ),
        pytest.param(
            {"package_name": "1pkg"},
            "package_name",
            "Python identifier",
            id="package-starts-with-digit",
        ),
        pytest.param(
            {"package_name": "my-pkg"}, "package_name", "Python identifier", id="package-dash"
        ),
        pytest.param({"package_name": "json"}, "package_name", "shadow", id="package-reserved"),
        pytest.param(
            {"author_email": "not-an-email"}, "author_email", "e-mail", id="email-invalid"
        ),
    ],
)
def test_invalid_answer_is_rejected(
    template_src: Path, tmp_path: Path, data: dict[str, Any], question: str, reason: str
) -> None:
    """A bad answer stops the copy with an error naming the question and the reason."""
    message = _render_error(template_src, tmp_path / "project", data)
    assert f"'{question}'" in message, message
    assert reason in message, message
    assert not (tmp_path / "project" / "pyproject.toml").exists(), "rendered despite the error"


@pytest.mark.parametrize(
    ("question", "value"),
    [
        pytest.param("database", "mongodb", id="database"),
        pytest.param("token_style", "basic", id="token_style"),
        pytest.param("mfa", "sms", id="mfa"),
    ],
)
def test_unknown_choice_is_rejected(
    template_src: Path, tmp_path: Path, question: str, value: str
) -> None:
    """A value outside a question's choices is refused, not rendered."""
    with pytest.raises(ValueError, match=question):
        support.render(template_src, tmp_path / "project", {question: value})


def test_custom_name_derives_slug_and_package(template_src: Path, tmp_path: Path) -> None:
    """`Acme Accounts` renders as `acme-accounts` / `acme_accounts`, no trace of the default."""
    project = support.render(template_src, tmp_path / "project", {"project_name": "Acme Accounts"})
    answers = support.load_answers(project)
    assert answers["project_slug"] == "acme-accounts", answers
    assert answers["package_name"] == "acme_accounts", answers
    assert (project / "src" / "acme_accounts" / "__init__.py").is_file()
    assert not (project / "src" / "bastion_service").exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "acme-accounts"
    assert "acme-accounts" in pyproject["project"].get("scripts", {}), pyproject["project"]
    leftovers = [
        str(relative)
        for relative, text in support.iter_text_files(project, support.files_under(project))
        if "bastion_service" in text or "bastion-service" in text
    ]
    assert not leftovers, f"default names left in {leftovers}"
    imported = support.run(
        [sys.executable, "-c", "import acme_accounts.main as m; print(m.create_app().title)"],
        cwd=tmp_path,
        env=support.clean_environment(PYTHONPATH=str(project / "src")),
    )
    assert imported.returncode == 0, imported.tail()
    assert "Acme Accounts" in imported.output, imported.tail()


def test_edited_slug_and_package_are_used(template_src: Path, tmp_path: Path) -> None:
    """Explicit slug and package answers win over the derived ones."""
    project = support.render(
        template_src,
        tmp_path / "project",
        {"project_name": "Acme Accounts", "project_slug": "acme-auth", "package_name": "acme_auth"},
    )
    assert (project / "src" / "acme_auth").is_dir()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "acme-auth"


def test_matrix_comes_from_copier_yml() -> None:
    """The variant matrix multiplies every choice question except the fixed ones."""
    config = support.copier_config()
    questions = support.matrix_questions(config)
    expected = {
        name for name, spec in config.items() if isinstance(spec, dict) and "choices" in spec
    } - support.FIXED_QUESTIONS
    assert set(questions) == expected
    count = 1
    for values in questions.values():
        count *= len(values)
    ids = [support.variant_id(variant) for variant in support.variants(config)]
    assert len(ids) == len(set(ids)) == count
    covered = support.covering_variants(config)
    for name, values in questions.items():
        assert {variant[name] for variant in covered} == set(values), name
