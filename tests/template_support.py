"""Helpers shared by the template's tests and `scripts/test`.

- `variants()` reads the variant matrix from `copier.yml`: every question with
  `choices`, except those in `FIXED_QUESTIONS`, multiplied out.
- `snapshot_template()` copies the working tree (tracked and untracked files that
  git does not ignore) into a fresh one-commit git repository, so renders include
  uncommitted work and `_commit` still names a real revision.
- `render()` runs `copier.run_copy` the way the tests do.
- `expected_paths()` works out, from the conditional file names under
  `template/`, which paths a variant must and must not contain.
- `run()` runs a subprocess and keeps its combined output for assertion messages.

Run as a script (`python tests/template_support.py install-rendered-deps`) it
installs the union of the rendered projects' runtime and dev dependencies into
the current interpreter's environment; `scripts/test` does that before pytest.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
# Questions with choices that are held at their default instead of multiplied out.
FIXED_QUESTIONS = frozenset({"python_version"})
OUTPUT_TAIL_CHARS = 4000
# pytest-xdist workers of a rendered suite's PostgreSQL rerun (`tests/test_variants.py`):
# the README's `uv run pytest -n auto`, each worker on a database of its own.
RENDERED_SUITE_WORKERS = 2
# Copier's own default `_exclude` patterns (matched against each path part).
DEFAULT_EXCLUDES = (
    "copier.yaml",
    "copier.yml",
    "~*",
    "*.py[co]",
    "__pycache__",
    ".git",
    ".DS_Store",
    ".svn",
)
# Unrendered Jinja in file contents. A bare `}}` is ordinary Python (`{"a": {"b": 1}}`),
# so a closing `}}` counts only when whitespace precedes it, as Jinja style writes it.
JINJA_IN_CONTENT = re.compile(r"\{\{|\{%|%\}|\{#|#\}|(?:^|\s)\}\}", re.MULTILINE)
# `.mako` files (Alembic) are Mako templates: only Jinja's opening markers and `%}` count.
JINJA_IN_MAKO = re.compile(r"\{\{|\{%|%\}|\{#")
JINJA_IN_PATH = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
# GitHub Actions expressions are legitimate in workflow files.
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
CONDITIONAL_NAME = re.compile(r"\{%-?\s*if\b.*?-?%\}(.*?)\{%-?\s*endif\s*-?%\}", re.DOTALL)


# --------------------------------------------------------------------------- matrix


def copier_config(root: Path = REPO_ROOT) -> dict[str, Any]:
    """`copier.yml` as data."""
    for name in ("copier.yml", "copier.yaml"):
        path = root / name
        if path.exists():
            loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
            return loaded
    raise FileNotFoundError(f"no copier.yml in {root}")


def choice_values(question: Mapping[str, Any]) -> list[Any]:
    """The values a question's `choices` allow (list, or mapping of label to value)."""
    choices = question["choices"]
    if isinstance(choices, Mapping):
        values = []
        for label, value in choices.items():
            if isinstance(value, Mapping):
                values.append(value.get("value", label))
            else:
                values.append(value)
        return values
    return [item[1] if isinstance(item, list | tuple) else item for item in choices]


def matrix_questions(config: Mapping[str, Any] | None = None) -> dict[str, list[Any]]:
    """Questions that make up the variant matrix, in `copier.yml` order, with their values."""
    config = copier_config() if config is None else config
    return {
        name: choice_values(spec)
        for name, spec in config.items()
        if not name.startswith("_")
        and isinstance(spec, Mapping)
        and "choices" in spec
        and name not in FIXED_QUESTIONS
    }


def variant_id(variant: Mapping[str, Any]) -> str:
    """`sql-jwt-totp`: the values in question order."""
    return "-".join(str(value) for value in variant.values())


def variants(config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every combination of the matrix questions' choices."""
    questions = matrix_questions(config)
    return [
        dict(zip(questions, combo, strict=True)) for combo in itertools.product(*questions.values())
    ]


def covering_variants(config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """A few variants that between them use every choice of every matrix question."""
    questions = matrix_questions(config)
    width = max((len(values) for values in questions.values()), default=1)
    return [
        {name: values[index % len(values)] for name, values in questions.items()}
        for index in range(width)
    ]


# ------------------------------------------------------------------------ rendering


# A fixed identity and no signing: the scratch repositories are the tests' own.
GIT_IDENTITY = (
    "-c", "user.name=Bastion tests", "-c", "user.email=tests@example.invalid",
    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
)  # fmt: skip


def git(*args: str, cwd: Path) -> str:
    """Run git with the tests' identity and return its standard output; raise on failure."""
    command = ["git", *GIT_IDENTITY, *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout


def working_tree_files(root: Path = REPO_ROOT) -> list[str]:
    """Tracked and untracked-but-not-ignored files of the working tree."""
    listing = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=root)
    return sorted({name for name in listing.split("\0") if name and (root / name).is_file()})


def snapshot_template(destination: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the working tree into `destination` as a fresh one-commit git repository."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in working_tree_files(root):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target, follow_symlinks=False)
    git("init", "-q", "-b", "main", cwd=destination)
    # Forced: a tracked file may match a .gitignore (e.g. the template's own
    # `template/.gitignore`), and tracked files belong in the snapshot all the same.
    git("add", "--force", "--all", ".", cwd=destination)
    git("commit", "-q", "-m", "snapshot", cwd=destination)
    return destination


def render(
    src: Path,
    dst: Path,
    data: Mapping[str, Any] | None = None,
    *,
    skip_tasks: bool = True,
    vcs_ref: str | None = "HEAD",
) -> Path:
    """Render the template at `src` into `dst` with Copier's API, non-interactively.

    `vcs_ref` picks the template's revision (`None`: its newest tag, as `copier copy`
    without `--vcs-ref` does).
    """
    from copier import run_copy  # imported late: `scripts/test` may run before it is installed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(
            str(src),
            dst,
            data=dict(data or {}),
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref=vcs_ref,
            skip_tasks=skip_tasks,
        )
    return dst


def files_under(root: Path) -> list[Path]:
    """Every file below `root` (relative), `.git` excluded."""
    return sorted(
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def load_answers(project: Path) -> dict[str, Any]:
    """The rendered project's `.copier-answers.yml`."""
    loaded: dict[str, Any] = yaml.safe_load(
        (project / ".copier-answers.yml").read_text(encoding="utf-8")
    )
    return loaded


@dataclass(frozen=True)
class Rendered:
    """A rendered variant and the files Copier wrote (before any tool ran in it)."""

    variant: dict[str, Any]
    path: Path
    files: list[Path]
    answers: dict[str, Any]

    @property
    def id(self) -> str:
        """The variant id, e.g. `sql-jwt-totp`."""
        return variant_id(self.variant)

    @property
    def package(self) -> str:
        """The rendered import package."""
        return str(self.answers["package_name"])


# -------------------------------------------------------------- conditional names


def _excluded(relative: Path, patterns: list[str]) -> bool:
    import pathspec  # a dependency of copier

    if any(
        fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in DEFAULT_EXCLUDES
    ):
        return True
    spec = pathspec.PathSpec.from_lines("gitwildmatch", patterns)
    return spec.match_file(relative.as_posix())


def _render_name(env: Any, name: str, context: Mapping[str, Any]) -> str:
    return str(env.from_string(name).render(**context))


@dataclass
class ExpectedPaths:
    """What a variant's conditional file names say must, and must not, be rendered."""

    present: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    # target path -> the template paths whose condition decided it (for messages)
    sources: dict[str, list[str]] = field(default_factory=dict)


def expected_paths(src: Path, answers: Mapping[str, Any]) -> ExpectedPaths:
    """Render every template path's name with `answers`, as Copier does.

    A path with an empty part is skipped by Copier; its "condition held" target is
    the name with every `{% if %}X{% endif %}` replaced by X. Targets that no
    template path renders for this variant must be absent.
    """
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    config = copier_config(src)
    subdirectory = src / str(config.get("_subdirectory", ""))
    suffix = str(config.get("_templates_suffix", ".jinja"))
    context = {
        **answers,
        "_copier_conf": {"answers_file": ".copier-answers.yml"},
        "_copier_operation": "copy",
    }
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    excludes = [_render_name(env, pattern, context) for pattern in config.get("_exclude", [])]
    expected = ExpectedPaths()
    candidates: set[str] = set()
    for template_path in sorted(subdirectory.rglob("*")):
        if not template_path.is_file():
            continue
        relative = template_path.relative_to(subdirectory)
        name = relative.as_posix()
        if name.endswith(suffix):
            name = name[: -len(suffix)]
        parts = [_render_name(env, part, context) for part in name.split("/")]
        rendered = "/".join(parts)
        if all(parts) and not _excluded(Path(rendered), excludes):
            expected.present.add(rendered)
            expected.sources.setdefault(rendered, []).append(relative.as_posix())
        if CONDITIONAL_NAME.search(name):
            forced = CONDITIONAL_NAME.sub(r"\1", name)
            target = "/".join(_render_name(env, part, context) for part in forced.split("/"))
            candidates.add(target)
            expected.sources.setdefault(target, []).append(relative.as_posix())
    expected.absent = candidates - expected.present
    return expected


# -------------------------------------------------------------------- subprocesses


@dataclass
class Result:
    """A finished subprocess."""

    args: list[str]
    returncode: int
    output: str

    def __repr__(self) -> str:
        return f"<{Path(self.args[0]).name} ... exit {self.returncode}>"

    def tail(self, chars: int = OUTPUT_TAIL_CHARS) -> str:
        """The command, the failed tests it names, and the end of its output."""
        text = self.output if len(self.output) <= chars else "...\n" + self.output[-chars:]
        failed = [
            line for line in self.output.splitlines() if line.startswith(("FAILED ", "ERROR "))
        ]
        summary = "".join(f"  {line}\n" for line in failed[:20])
        return f"$ {' '.join(self.args)}\n(exit {self.returncode})\n{summary}{text}"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Bytecode of everything the rendered projects' processes import, kept outside their
# trees. Without it, a machine that sets PYTHONDONTWRITEBYTECODE (CI's does) compiles
# FastAPI, pydantic, SQLAlchemy and the project again in every process: 10-20 s of CPU
# per rendered suite before its first test.
PYCACHE_PREFIX = Path(tempfile.gettempdir()) / "bastion-tests-pycache"
# Hypothesis's storage, shared by the rendered suites instead of a `.hypothesis/` in
# each fresh render. What it caches there costs every fresh render seconds of CPU: the
# tables of the characters UTF-8 can encode (3.4 s), and the literals it collects from
# each source module for generation, filed by the module's content hash, so variants
# share the modules they share. Files are replaced atomically; parallel suites may race
# to write the same one. The suites keep no example database (`database=None` in
# `test_api_contract.py`), so no example of one variant's run is replayed in another's.
HYPOTHESIS_STORAGE = Path(tempfile.gettempdir()) / "bastion-tests-hypothesis"


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment for a rendered project's tools: ours, minus test-runner state,
    with compiled bytecode cached in `PYCACHE_PREFIX` and Hypothesis's caches
    in `HYPOTHESIS_STORAGE`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "COV_", "COVERAGE_"))
        and name
        not in {
            "PYTHONPATH",
            "TEST_DATABASE_URL",
            "SECRET_KEY",
            "DATABASE_URL",
            "ENVIRONMENT",
            "PYTHONDONTWRITEBYTECODE",
        }
    }
    environment["PYTHONPYCACHEPREFIX"] = str(PYCACHE_PREFIX)
    environment["HYPOTHESIS_STORAGE_DIRECTORY"] = str(HYPOTHESIS_STORAGE)
    environment.update(extra)
    return environment


def run(
    args: list[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    stdin: str | None = None,
) -> Result:
    """Run `args` in `cwd`, capturing stdout and stderr together.

    Standard input is empty (not a terminal, as on CI) unless `stdin` gives one.
    """
    stdin_kwargs: dict[str, Any] = (
        {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    )
    try:
        completed = subprocess.run(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else clean_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            **stdin_kwargs,
        )
    except subprocess.TimeoutExpired as error:
        output = (
            error.output.decode(errors="replace")
            if isinstance(error.output, bytes)
            else (error.output or "")
        )
        return Result(args, -1, f"{output}\nTIMED OUT after {timeout} s")
    return Result(args, completed.returncode, completed.stdout)


# ------------------------------------------------------- rendered dependencies


def rendered_requirements(root: Path = REPO_ROOT) -> list[str]:
    """Runtime and dev dependencies of a few variants that use every choice, merged."""
    requirements: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="bastion-deps-") as scratch:
        src = snapshot_template(Path(scratch) / "template", root)
        for index, variant in enumerate(covering_variants(copier_config(root))):
            project = render(src, Path(scratch) / f"project-{index}", variant)
            pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
            project_table = pyproject.get("project", {})
            requirements.update(project_table.get("dependencies", []))
            requirements.update(development_requirements(pyproject))
    return sorted(requirements)


def development_requirements(pyproject: Mapping[str, Any]) -> list[str]:
    """The `dev` dependency group (PEP 735), or the `dev` extra of releases before 0.3.0."""
    group = pyproject.get("dependency-groups", {}).get("dev")
    if group is not None:
        return [item for item in group if isinstance(item, str)]
    return list(pyproject.get("project", {}).get("optional-dependencies", {}).get("dev", []))


# ------------------------------------------------------------------ tested pins

# The rendered pyproject's `[tool.uv] constraint-dependencies` hold, between these two
# lines, the exact versions the template's suite ran with (names and versions only: no
# index address). `scripts/refresh-pins` rewrites them; `scripts/test` installs them.
PINNED_PYPROJECT = Path("template/pyproject.toml.jinja")
PINS_BEGIN = "    # tested pins: begin\n"
PINS_END = "    # tested pins: end\n"
PIN_LINE = re.compile(r'^\s*"([A-Za-z0-9][A-Za-z0-9._-]*)==([^";\s]+)",\s*$', re.MULTILINE)
PINNED_DOCKERFILE = Path("template/Dockerfile.jinja")
DOCKERFILE_UV = re.compile(r'"uv==[^"]+"')
# The lowest Python a rendered project may ask for: pins must install there and above.
PINS_PYTHON = "3.11"


def canonical_name(name: str) -> str:
    """A distribution name as PEP 503 compares it (`Foo_Bar` == `foo-bar`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(root: Path = REPO_ROOT) -> dict[str, str]:
    """Every pin in the template (all databases), by canonical name."""
    text = (root / PINNED_PYPROJECT).read_text(encoding="utf-8")
    block = text.split(PINS_BEGIN, 1)[1].split(PINS_END, 1)[0]
    return {canonical_name(name): version for name, version in PIN_LINE.findall(block)}


def uv_executable() -> str:
    """uv beside this interpreter (`scripts/test` installs it there), else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is needed: install it (scripts/test puts it in .venv)")
    return found


def _compile(requirements: list[str], constraints: list[str], scratch: Path) -> dict[str, str]:
    """`uv pip compile --universal` of `requirements`: canonical name -> exact version."""
    (scratch / "in.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    (scratch / "constraints.txt").write_text("\n".join(constraints) + "\n", encoding="utf-8")
    result = run(
        [uv_executable(), "pip", "compile", "--quiet", "--universal",
         "--python-version", PINS_PYTHON, "--no-header", "--no-annotate",
         "--no-emit-index-url", "--no-emit-find-links", "-c", "constraints.txt", "in.txt"],
        cwd=scratch,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.tail())
    versions: dict[str, str] = {}
    for line in result.output.splitlines():
        requirement = line.split(";", 1)[0].strip()
        if not requirement or requirement.startswith(("#", "-")):
            continue
        name, separator, version = requirement.partition("==")
        if not separator:
            raise RuntimeError(f"not an exact pin: {line!r}")
        name = canonical_name(name.split("[", 1)[0])
        if versions.get(name, version) != version:
            raise RuntimeError(f"{name} resolves to two versions (a fork by marker): {line!r}")
        versions[name] = version
    return versions


def _pin_lines(versions: Mapping[str, str], names: set[str]) -> str:
    return "".join(f'    "{name}=={versions[name]}",\n' for name in sorted(names))


def refresh_pins(root: Path = REPO_ROOT, *, keep_installed: bool = False) -> dict[str, str]:
    """Resolve the rendered dependencies afresh and write the pins into the template.

    One universal resolution of every variant's dependencies together (so one test
    environment can hold them all), then each database's share of it: pins both
    databases use are written for every project, the rest under `{% if database %}`.
    The Dockerfile's pinned uv moves to the newest release too.
    `keep_installed` resolves within the versions installed here instead of the newest.
    """
    with tempfile.TemporaryDirectory(prefix="bastion-pins-") as scratch_name:
        scratch = Path(scratch_name)
        src = snapshot_template(scratch / "template", root)
        by_database: dict[str, list[str]] = {}
        for database in matrix_questions(copier_config(root))["database"]:
            # JWT and TOTP bring every optional dependency a project of this database has.
            answers = {"database": database, "token_style": "jwt", "mfa": "totp"}
            project = render(src, scratch / f"project-{database}", answers)
            pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
            by_database[database] = [
                *pyproject["project"]["dependencies"],
                *development_requirements(pyproject),
            ]
        installed = []
        if keep_installed:
            from importlib.metadata import distributions

            installed = sorted(
                f"{distribution.metadata['Name']}=={distribution.version}"
                for distribution in distributions()
            )
        union = sorted({line for lines in by_database.values() for line in lines})
        versions = _compile(union, installed, scratch)
        pins = [f"{name}=={version}" for name, version in sorted(versions.items())]
        shares = {
            database: set(_compile(lines, pins, scratch)) for database, lines in by_database.items()
        }
        uv_version = _compile(["uv"], installed, scratch)["uv"]
    sql, dynamodb = shares["sql"], shares["dynamodb"]
    block = (
        _pin_lines(versions, sql & dynamodb)
        + "{%- if database == 'sql' %}\n"
        + _pin_lines(versions, sql - dynamodb)
        + "{%- else %}\n"
        + _pin_lines(versions, dynamodb - sql)
        + "{%- endif %}\n"
    )
    path = root / PINNED_PYPROJECT
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(PINS_BEGIN, 1)
    tail = rest.split(PINS_END, 1)[1]
    path.write_text(head + PINS_BEGIN + block + PINS_END + tail, encoding="utf-8")
    # The image's uv (installed from the index as a wheel) moves with the pins.
    dockerfile = root / PINNED_DOCKERFILE
    text = dockerfile.read_text(encoding="utf-8")
    dockerfile.write_text(DOCKERFILE_UV.sub(f'"uv=={uv_version}"', text), encoding="utf-8")
    return versions


def _dependency_sources_key(root: Path) -> str:
    digest = hashlib.sha256()
    for name in working_tree_files(root):
        if name in {"copier.yml", "copier.yaml"} or (
            name.startswith("template/") and "pyproject" in name
        ):
            digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _satisfied(requirements: list[str], pins: Mapping[str, str]) -> bool:
    from importlib.metadata import PackageNotFoundError, distributions, version

    from packaging.requirements import Requirement

    # Pins apply to what is installed (some are for other platforms only).
    for distribution in distributions():
        pinned = pins.get(canonical_name(distribution.metadata["Name"]))
        if pinned is not None and distribution.version != pinned:
            return False
    for line in requirements:
        requirement = Requirement(line)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            return False
        if not requirement.specifier.contains(installed, prereleases=True):
            return False
    return True


def install_rendered_dependencies(root: Path = REPO_ROOT) -> None:
    """Install the rendered projects' dependencies unless they already are."""
    stamp = Path(sys.prefix) / ".bastion-rendered-requirements.json"
    key = _dependency_sources_key(root)
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    pins = pinned_versions(root)
    if recorded.get("key") == key and _satisfied(recorded.get("requirements", []), pins):
        return
    requirements = rendered_requirements(root)
    print("Installing the rendered projects' dependencies:", " ".join(requirements), flush=True)
    # uv, installed beside this interpreter by `scripts/test`, when it is there; pip otherwise.
    uv = Path(sys.executable).with_name("uv")
    installer = (
        [str(uv), "pip", "install", "--quiet", "--python", sys.executable]
        if uv.exists()
        else [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    )
    # Exactly the pinned versions: the suite tests what a fresh copy locks.
    with tempfile.TemporaryDirectory(prefix="bastion-pins-") as scratch:
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text(
            "".join(f"{name}=={version}\n" for name, version in sorted(pins.items())),
            encoding="utf-8",
        )
        subprocess.run([*installer, "-c", str(constraints), *requirements], check=True)
    stamp.write_text(json.dumps({"key": key, "requirements": requirements}), encoding="utf-8")


def main(argv: list[str]) -> int:
    """`install-rendered-deps` | `refresh-pins [--keep-installed]` | `requirements` | `variants`."""
    command = argv[0] if argv else ""
    if command == "install-rendered-deps":
        install_rendered_dependencies()
    elif command == "refresh-pins":
        versions = refresh_pins(keep_installed="--keep-installed" in argv[1:])
        print(f"{len(versions)} pins written to {PINNED_PYPROJECT}")
    elif command == "requirements":
        print("\n".join(rendered_requirements()))
    elif command == "variants":
        print("\n".join(variant_id(variant) for variant in variants()))
    else:
        print(main.__doc__, file=sys.stderr)
        return 2
    return 0


def iter_text_files(root: Path, paths: list[Path]) -> Iterator[tuple[Path, str]]:
    """(relative path, text) of every file in `paths` that decodes as UTF-8."""
    for relative in paths:
        try:
            yield relative, (root / relative).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
