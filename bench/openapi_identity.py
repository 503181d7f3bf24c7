"""Does a change leave every variant's OpenAPI document byte for byte as it was?

Renders all variants twice, from a git revision (default `main`) and from the working
tree, and in each render dumps `create_app(settings).openapi()` as JSON, with the docs
on and off and, for JWT, with ES256 (which adds `/.well-known/jwks.json`). Each dump
also checks that a second application built in the same process serves the same
document (routes that are built once per process must not drift). Prints one line
per variant and exits 1 on any difference.

Usage: .venv/bin/python bench/openapi_identity.py [REVISION]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import template_support as support

# Runs inside a render, with the render's package importable.
DUMP = """
import importlib, json, sys
render, package = sys.argv[1], sys.argv[2]
main = importlib.import_module(package + ".main")
make_settings = importlib.import_module("tests.conftest").make_settings
cases = {"docs": {"serve_docs": True}, "no-docs": {"serve_docs": False}}
if hasattr(main, "build_key_set"):
    cases["es256"] = {"serve_docs": True, "jwt_algorithm": "ES256"}
documents = {}
for name, overrides in cases.items():
    document = main.create_app(make_settings(**overrides)).openapi()
    again = main.create_app(make_settings(**overrides)).openapi()
    assert json.dumps(again) == json.dumps(document), f"{name}: a second app differs"
    documents[name] = document
sys.stdout.write(json.dumps(documents, indent=1))
"""


def dump(project: Path) -> str:
    """The render's OpenAPI documents as one JSON text."""
    package = next(path.name for path in (project / "src").iterdir() if (path / "main.py").exists())
    result = support.run(
        [sys.executable, "-c", DUMP, str(project), package],
        cwd=project,
        env=support.clean_environment(PYTHONPATH=f"{project / 'src'}:{project}"),
    )
    if result.returncode != 0:
        raise RuntimeError(result.tail())
    return result.output


def main(argv: list[str]) -> int:
    """Compare every variant; 0 when all documents are identical."""
    revision = argv[0] if argv else "main"
    differing = 0
    with tempfile.TemporaryDirectory(prefix="bastion-openapi-") as scratch_name:
        scratch = Path(scratch_name)
        checkout = scratch / "checkout"
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(support.REPO_ROOT),
                        str(checkout)], check=True)  # fmt: skip
        commit = support.git("rev-parse", f"{revision}^{{commit}}", cwd=support.REPO_ROOT).strip()
        subprocess.run(["git", "checkout", "-q", commit], cwd=checkout, check=True)
        sources = {
            revision: support.snapshot_template(scratch / "before", checkout),
            "working tree": support.snapshot_template(scratch / "after"),
        }
        for variant in support.variants():
            name = support.variant_id(variant)
            before, after = (
                dump(support.render(source, scratch / f"{label}-{name}", variant))
                for label, source in zip(("before", "after"), sources.values(), strict=True)
            )
            same = before == after
            differing += not same
            print(f"{name}: {'identical' if same else 'DIFFERENT'} ({len(after)} characters)")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
