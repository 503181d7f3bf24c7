"""Deployment files of the rendered project, checked statically (no Docker engine here).

The Dockerfile is parsed into instructions and held to the rules (non-root user
before CMD, a readiness HEALTHCHECK, no `.env` copied, no secret in ENV or ARG) and
linted with hadolint; `.dockerignore` is evaluated with Docker's matching rules;
`compose.yaml` is validated against the Compose specification and read as data
(no literal secrets, the database service of the variant, healthchecks, settings
that the production checks of the rendered `Settings` accept).
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import template_support as support
from template_support import Rendered
from variant_marks import covering_variants

SECRET_NAME = re.compile(r"SECRET|PASSW|TOKEN|PRIVATE|CREDENTIAL|KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([?-])([^}]*))?\}")
ONLY_INTERPOLATION = re.compile(r"^\$\{\w+(?::?[?-][^}]*)?\}$")
URL_PASSWORD = re.compile(r"^[a-z0-9+.-]+://[^:/@\s]+:(?P<password>[^@\s]+)@")
ENV_FILE = ".env.production"
# Names in .env.production.example that are not settings of the service.
NOT_SETTINGS = {"POSTGRES_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


# ----------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def exec_form(arguments: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT, or None for the shell form."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def env_names(keyword: str, arguments: str) -> list[str]:
    """Variable names an ENV or ARG instruction sets."""
    if keyword == "ARG":
        return [arguments.split("=", 1)[0]]
    parts = shlex.split(arguments)
    if parts and "=" not in parts[0]:  # legacy `ENV NAME value`
        return [parts[0]]
    return [part.split("=", 1)[0] for part in parts]


def env_values(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """The values the `ENV NAME=value` instructions among `instructions` set (last wins)."""
    return {
        part.split("=", 1)[0]: part.split("=", 1)[1]
        for keyword, arguments in instructions
        if keyword == "ENV"
        for part in shlex.split(arguments)
        if "=" in part
    }


def dockerfile_problems(text: str, slug: str) -> list[str]:
    """Breaches of the image rules, for the final stage of a multi-stage Dockerfile."""
    instructions = dockerfile_instructions(text)
    stages = [index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    problems = []
    if len(stages) < 2:
        problems.append("not a multi-stage build")
    final = instructions[stages[-1] :] if stages else instructions
    for keyword, arguments in instructions:
        if keyword in {"ENV", "ARG"}:
            problems += [
                f"{keyword} {name} looks like a secret"
                for name in env_names(keyword, arguments)
                if SECRET_NAME.search(name)
            ]
        if keyword in {"COPY", "ADD"}:
            sources = [s for s in shlex.split(arguments) if not s.startswith("--")][:-1]
            problems += [f"{keyword} {s} copies a .env file" for s in sources if ".env" in s]
    users = [(i, arguments) for i, (keyword, arguments) in enumerate(final) if keyword == "USER"]
    cmds = [(i, arguments) for i, (keyword, arguments) in enumerate(final) if keyword == "CMD"]
    if not cmds:
        problems.append("no CMD")
    elif not users or users[-1][0] > cmds[-1][0]:
        problems.append("no USER before CMD")
    elif users[-1][1].split(":", 1)[0] in {"root", "0"}:
        problems.append("runs as root")
    expected_command = [slug, "serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104 - in a container
    if cmds and exec_form(cmds[-1][1]) != expected_command:
        problems.append(f"CMD is not `{slug} serve --host 0.0.0.0 --port 8000`: {cmds[-1][1]}")
    checks = [arguments for keyword, arguments in final if keyword == "HEALTHCHECK"]
    if not checks or "/health/ready" not in checks[-1]:
        problems.append("no HEALTHCHECK on /health/ready")
    elif re.search(r"\b(curl|wget)\b", checks[-1]):
        problems.append("HEALTHCHECK needs curl or wget, which the slim image lacks")
    envs = env_values(final)
    if envs.get("ENVIRONMENT") != "production":
        problems.append("ENVIRONMENT=production is not the image's default")
    return problems


@covering_variants
def test_dockerfile_follows_the_rules(rendered: Rendered) -> None:
    """Multi-stage, non-root USER before CMD, readiness HEALTHCHECK, no secrets or .env."""
    text = (rendered.path / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile_problems(text, rendered.answers["project_slug"]) == []


def test_dockerfile_check_catches_breaches() -> None:
    """The rule check rejects root, a copied .env, a secret ENV and a curl healthcheck."""
    bad = """
FROM python:3.12-slim
ENV SECRET_KEY=hunter2 ENVIRONMENT=development
COPY .env /app/.env
USER root
HEALTHCHECK CMD curl -f http://localhost:8000/health/ready
CMD uvicorn app:app
"""
    problems = dockerfile_problems(bad, "svc")
    for expected in (
        "not a multi-stage build",
        "ENV SECRET_KEY looks like a secret",
        "COPY .env copies a .env file",
        "runs as root",
        "HEALTHCHECK needs curl",
        "CMD is not",
        "ENVIRONMENT=production",
    ):
        assert any(expected in problem for problem in problems), (expected, problems)
    assert "no USER before CMD" in dockerfile_problems('FROM a AS b\nFROM c\nCMD ["x"]\n', "x")


@covering_variants
def test_dockerfile_matches_the_project(rendered: Rendered) -> None:
    """The base image is the project's Python, the CMD's script and the probe's route exist."""
    text = (rendered.path / "Dockerfile").read_text(encoding="utf-8")
    assert f"ARG PYTHON_VERSION={rendered.answers['python_version']}\n" in text
    froms = [a for k, a in dockerfile_instructions(text) if k == "FROM"]
    assert all(a.startswith("python:${PYTHON_VERSION}-slim") for a in froms), froms
    pyproject = (rendered.path / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\n{rendered.answers["project_slug"]} = "{rendered.package}.__main__:main"' in pyproject
    health = rendered.path / "src" / rendered.package / "api" / "routers" / "health.py"
    source = health.read_text(encoding="utf-8")
    assert 'prefix="/health"' in source
    assert '"/ready"' in source


UV_FROM_THE_INDEX = re.compile(r'^pip install --no-cache-dir "uv==\d+\.\d+\.\d+"$')


def _index_of(instructions: list[tuple[str, str]], keyword: str, needle: str) -> int:
    found = [i for i, (k, a) in enumerate(instructions) if k == keyword and needle in a]
    assert len(found) == 1, f"expected one {keyword} with {needle!r}: {instructions}"
    return found[0]


@covering_variants
def test_image_installs_exactly_the_lock(rendered: Rendered) -> None:
    """The builder installs uv as a pinned wheel from the package index (no binary from
    elsewhere), then the locked dependencies without dev tools in a layer of their own
    before the project's code, with compiled bytecode, into the venv the runtime copies."""
    text = (rendered.path / "Dockerfile").read_text(encoding="utf-8")
    instructions = dockerfile_instructions(text)
    runtime = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"][1]
    builder = instructions[:runtime]
    assert any(UV_FROM_THE_INDEX.match(a) for k, a in builder if k == "RUN"), builder
    assert not any(k == "ADD" or (k == "COPY" and "--from=" in a) for k, a in builder), builder
    lock = _index_of(builder, "COPY", "uv.lock")
    dependencies = _index_of(builder, "RUN", "uv sync --locked --no-dev --no-install-project")
    code = _index_of(builder, "COPY", "src")
    project = _index_of(builder, "RUN", "uv sync --locked --no-dev --no-editable")
    assert lock < dependencies < code < project
    assert "src" not in builder[lock][1], "the code would invalidate the dependency layer"
    env = env_values(builder)
    assert env["UV_COMPILE_BYTECODE"] == "1", "the read-only runtime cannot write bytecode"
    assert env["UV_PYTHON_DOWNLOADS"] == "never", "the image's own Python, not a download"
    assert env["UV_PROJECT_ENVIRONMENT"] == "/opt/venv"
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in instructions[runtime:]


@covering_variants
def test_dockerfile_passes_hadolint(rendered: Rendered) -> None:
    """hadolint (the Dockerfile linter) reports nothing."""
    hadolint = Path(sys.executable).parent / "hadolint"
    result = support.run([str(hadolint), "--no-color", "Dockerfile"], cwd=rendered.path)
    assert result.returncode == 0, result.tail()


# ---------------------------------------------------------------------- .dockerignore


def _docker_pattern(pattern: str) -> re.Pattern[str]:
    """Docker's `.dockerignore` pattern syntax (`**` spans directories) as a regex."""
    out, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context (a parent's match counts)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        regex = _docker_pattern(pattern.strip().strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def dockerignore_patterns(project: Path) -> list[str]:
    """The patterns of a project's `.dockerignore`."""
    lines = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_matcher_follows_docker() -> None:
    """The matcher: root-anchored `*`, `**` across directories, parents, and `!`."""
    assert dockerignored(".env", [".env"])
    assert not dockerignored("sub/.env", [".env"])
    assert dockerignored("a/b/c.db", ["**/*.db"])
    assert dockerignored(".git/objects/ab", [".git"])
    assert not dockerignored("keep.db", ["*.db", "!keep.db"])


@covering_variants
def test_dockerignore_keeps_secrets_and_state_out(rendered: Rendered) -> None:
    """`.env` files, git, venvs, caches, tests, databases and mail never enter the image."""
    patterns = dockerignore_patterns(rendered.path)
    package = f"src/{rendered.package}"
    for path in (
        ".env",
        ".env.production",
        ".git/config",
        ".venv/bin/python",
        f"{package}/__pycache__/main.cpython-311.pyc",
        ".mypy_cache/x",
        ".pytest_cache/x",
        ".ruff_cache/x",
        "tests/test_login.py",
        f"{rendered.answers['project_slug']}.db",
        "data/dev.db",
        "mail/0001.eml",
    ):
        assert dockerignored(path, patterns), f"{path} would be sent to the Docker build"


@covering_variants
def test_dockerignore_keeps_what_the_build_copies(rendered: Rendered) -> None:
    """Everything the Dockerfile copies from the context is in it, package files included."""
    patterns = dockerignore_patterns(rendered.path)
    text = (rendered.path / "Dockerfile").read_text(encoding="utf-8")
    sources = [
        source
        for keyword, arguments in dockerfile_instructions(text)
        if keyword == "COPY" and "--from=" not in arguments
        for source in shlex.split(arguments)[:-1]
    ]
    assert sources, "the Dockerfile copies nothing from the context"
    package_files = [
        path.as_posix()
        for path in rendered.files
        if path.parts[0] == "src" and "__pycache__" not in path.parts
    ]
    for path in [*sources, *package_files]:
        assert not dockerignored(path, patterns), f"{path} is excluded but the build needs it"


# -------------------------------------------------------------------------- compose


LOCAL_COMPOSE = "compose.local.yaml"


def load_compose(project: Path, name: str = "compose.yaml") -> dict[str, Any]:
    """A compose file as data (YAML merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load((project / name).read_text())
    return loaded


def merge_compose(base: Any, override: Any) -> Any:
    """`docker compose -f base -f override`: mappings merge key by key, the rest replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge_compose(base[key], value) if key in base else value
        return merged
    return override


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, as a mapping whichever form it is written in."""
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(str(item).split("=", 1) for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


def literal_secrets(compose: dict[str, Any]) -> list[str]:
    """Secret-looking values written into the file instead of interpolated."""
    found = []
    for name, service in compose.get("services", {}).items():
        for key, value in environment_of(service).items():
            if SECRET_NAME.search(key) and not ONLY_INTERPOLATION.match(value):
                found.append(f"{name}.{key}")
            url = URL_PASSWORD.match(value)
            if url and not ONLY_INTERPOLATION.match(url.group("password")):
                found.append(f"{name}.{key} (password in URL)")
    return found


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` substitution."""

    def substitute(match: re.Match[str]) -> str:
        name, kind, text = match.group(1), match.group(2), match.group(3)
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise KeyError(f"{name}: {text}")
        return text or ""

    return INTERPOLATION.sub(substitute, value)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_secret_check_catches_literals() -> None:
    """The literal-secret check flags a written SECRET_KEY and a password inside a URL."""
    compose = {
        "services": {
            "app": {
                "environment": {
                    "SECRET_KEY": "changeme",
                    "DATABASE_URL": "postgresql://app:hunter2@db/app",
                    "SMTP_PASSWORD": "${SMTP_PASSWORD:?set it}",
                }
            },
            "db": {"environment": ["POSTGRES_PASSWORD=postgres"]},
        }
    }
    assert literal_secrets(compose) == [
        "app.SECRET_KEY",
        "app.DATABASE_URL (password in URL)",
        "db.POSTGRES_PASSWORD",
    ]


@covering_variants
def test_compose_matches_the_compose_spec(rendered: Rendered) -> None:
    """compose.yaml is valid against the Compose specification (offline schema)."""
    checker = Path(sys.executable).parent / "check-jsonschema"
    files = ["compose.yaml"]
    if (rendered.path / LOCAL_COMPOSE).exists():
        files.append(LOCAL_COMPOSE)
    result = support.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", *files], cwd=rendered.path
    )
    assert result.returncode == 0, result.tail()


@covering_variants
def test_compose_holds_no_literal_secret(rendered: Rendered) -> None:
    """Secrets come from .env.production: none is written into compose.yaml."""
    compose = load_compose(rendered.path)
    assert literal_secrets(compose) == []
    for name in ("app", "migrate"):
        service = compose["services"][name]
        assert service["env_file"] == [{"path": ENV_FILE, "required": True}]
        assert "SECRET_KEY" not in environment_of(service)


def database_services(services: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The names of the PostgreSQL services and of the DynamoDB Local services."""
    images = {name: str(service.get("image", "")) for name, service in services.items()}
    postgres = [name for name, image in images.items() if image.startswith("postgres:")]
    dynamodb = [name for name, image in images.items() if image.startswith("amazon/dynamodb-local")]
    return postgres, dynamodb


def check_database_wiring(services: dict[str, Any], database: str | None) -> None:
    """The app and migrate wait for `database` (if the stack runs one) and redis."""
    for name in ([database] if database else []) + ["redis"]:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert services["app"]["depends_on"][name] == {"condition": "service_healthy"}
    if database:
        assert services["migrate"]["depends_on"][database] == {"condition": "service_healthy"}
    assert services["app"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


@covering_variants
def test_compose_database_service_matches_the_variant(rendered: Rendered) -> None:
    """SQL variants run PostgreSQL; DynamoDB variants use AWS, and only the local profile
    (compose.local.yaml) runs DynamoDB Local, in memory, never restarted."""
    services = load_compose(rendered.path)["services"]
    postgres, dynamodb = database_services(services)
    app = environment_of(services["app"])
    assert app["RATE_LIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert str(services["redis"]["image"]).startswith("redis:")
    assert services["migrate"]["command"] == [rendered.answers["project_slug"], "migrate"]
    assert dynamodb == [], "compose.yaml is production: no in-memory DynamoDB Local in it"
    assert "DYNAMODB_ENDPOINT_URL" not in app, "production talks to AWS itself"
    if rendered.variant["database"] == "sql":
        assert len(postgres) == 1, services
        assert app["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert f"@{postgres[0]}:5432/" in app["DATABASE_URL"]
        assert not (rendered.path / LOCAL_COMPOSE).exists()
        check_database_wiring(services, postgres[0])
        return
    assert postgres == [], services
    assert "DATABASE_URL" not in app
    check_database_wiring(services, None)
    local = merge_compose(load_compose(rendered.path), load_compose(rendered.path, LOCAL_COMPOSE))
    local_services = local["services"]
    _, local_dynamodb = database_services(local_services)
    assert local_dynamodb == ["dynamodb-local"], local_services
    assert "-inMemory" in local_services["dynamodb-local"]["command"]
    assert local_services["dynamodb-local"]["restart"] == "no"
    assert "NEVER PRODUCTION" in (rendered.path / LOCAL_COMPOSE).read_text()
    for name in ("app", "migrate"):
        wiring = environment_of(local_services[name])
        assert wiring["DYNAMODB_ENDPOINT_URL"] == "http://dynamodb-local:8000"
        assert wiring["ENVIRONMENT"] == "production"  # the checks still hold
    check_database_wiring(local_services, "dynamodb-local")


@covering_variants
def test_no_in_memory_store_restarts_as_if_it_kept_data(rendered: Rendered) -> None:
    """A service that keeps its data in memory is never restarted automatically (a
    restart would silently empty it), and none is in the production file."""
    files = ["compose.yaml"] + ([LOCAL_COMPOSE] if (rendered.path / LOCAL_COMPOSE).exists() else [])
    for name in files:
        for service_name, service in load_compose(rendered.path, name)["services"].items():
            command = " ".join(str(part) for part in service.get("command", []))
            if "-inMemory" in command:
                assert name != "compose.yaml", f"{service_name} is in-memory in production"
                assert service.get("restart") == "no", f"{name}: {service_name} restarts"


@covering_variants
def test_compose_publishes_on_loopback_only(rendered: Rendered) -> None:
    """Only the service is published, and on 127.0.0.1 (a TLS proxy goes in front)."""
    published = {
        name: service.get("ports", [])
        for name, service in load_compose(rendered.path)["services"].items()
        if service.get("ports")
    }
    assert list(published) == ["app"], published
    assert all(str(port).startswith("127.0.0.1:") for port in published["app"]), published


@covering_variants
def test_production_example_names_only_settings(rendered: Rendered) -> None:
    """Every name in .env.production.example and compose's environment is a setting."""
    settings = (rendered.path / "src" / rendered.package / "settings.py").read_text()
    fields = set(re.findall(r"^    (\w+): ", settings, re.MULTILINE))
    example = read_env_file(rendered.path / ".env.production.example")
    compose = load_compose(rendered.path)
    names = set(example) | set(environment_of(compose["services"]["app"]))
    unknown = sorted(name for name in names - NOT_SETTINGS if name.lower() not in fields)
    assert unknown == [], f"not settings of the service: {unknown}"
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "SMTP_HOST"):
        assert example.get(name, "") == "", f"{name} must be left for the user to fill in"


PRODUCTION_SETTINGS = """
import importlib, sys
settings = importlib.import_module(sys.argv[1] + ".settings")
try:
    loaded = settings.Settings()
except Exception as error:
    print(settings.describe(error) if hasattr(error, "errors") else error)
    raise SystemExit(1)
print(loaded.environment, loaded.email_backend, loaded.rate_limit_storage_uri)
"""


def _production_environment(rendered: Rendered, filled: dict[str, str]) -> dict[str, str]:
    """The service's environment under compose: .env.production, then `environment`."""
    values = {**read_env_file(rendered.path / ".env.production.example"), **filled}
    compose = load_compose(rendered.path)
    wiring = {
        key: interpolate(value, values)
        for key, value in environment_of(compose["services"]["app"]).items()
    }
    return support.clean_environment(PYTHONPATH=str(rendered.path / "src"), **values, **wiring)


def _load_settings(rendered: Rendered, environment: dict[str, str], cwd: Path) -> support.Result:
    return support.run(
        [sys.executable, "-c", PRODUCTION_SETTINGS, rendered.package], cwd=cwd, env=environment
    )


@covering_variants
def test_compose_settings_pass_the_production_checks(rendered: Rendered, tmp_path: Path) -> None:
    """With the example filled in, the service's Settings accept compose's environment."""
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "SMTP_HOST": "smtp.example.com",
    }
    result = _load_settings(rendered, _production_environment(rendered, filled), tmp_path)
    assert result.returncode == 0, result.tail()
    assert result.output.split()[-3:] == ["production", "smtp", "redis://redis:6379/0"]


@covering_variants
def test_unfilled_example_is_refused_in_production(rendered: Rendered, tmp_path: Path) -> None:
    """Left as shipped, the example stops compose (no database password) and the service
    (empty SECRET_KEY): it carries no usable default secret."""
    if rendered.variant["database"] == "sql":
        with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
            _production_environment(rendered, {})
    filled = {"POSTGRES_PASSWORD": secrets.token_urlsafe(24), "SMTP_HOST": "smtp.example.com"}
    result = _load_settings(rendered, _production_environment(rendered, filled), tmp_path)
    assert result.returncode != 0, result.tail()
    assert "SECRET_KEY" in result.output, result.tail()
