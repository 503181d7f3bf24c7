"""`scripts/demo`: progress on every step, `--port`, and a fresh render after a template change.

It runs as a reader runs it, from a copy of this checkout, with the suite's environment
as its `VENV` (Copier and uv are there, so nothing is downloaded but what `uv sync`
finds in uv's cache). The demo's own README is the default variant's, whose walkthrough
tests/test_walkthroughs.py runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import template_support as support
from walkthroughs import background, free_port_pair, reader_environment, wait_until_ready


def serve_demo(template_src: Path, destination: Path, tmp_path: Path, name: str) -> str:
    """Run `scripts/demo --port P DEST` until `/health/ready` answers; its output."""
    port = free_port_pair()
    environment = reader_environment(tmp_path / "tools", sys.executable)
    environment["VENV"] = sys.prefix
    log = tmp_path / f"{name}.log"
    script = f"scripts/demo --port {port} {destination}"
    with background(script, template_src, environment, log) as server:
        wait_until_ready(server, port, log)
    return log.read_text(errors="replace")


def test_demo_serves_on_its_port_and_renders_again_after_a_template_change(
    tmp_path: Path,
) -> None:
    """First run: renders and serves on `--port`, saying what it does. Second run: reuses
    the render. After a template change: renders afresh."""
    # A checkout of its own: the session's `template_src` must not see the change below.
    template_src = support.snapshot_template(tmp_path / "checkout")
    destination = tmp_path / "demo"
    first = serve_demo(template_src, destination, tmp_path, "first")
    assert "demo: [2/4] rendering the default project" in first, first
    assert "demo: [4/4] serving" in first, first
    assert (destination / ".venv" / "bin" / "pytest").exists(), "README's tools not installed"
    (destination / "marker").write_text("from the first render", encoding="utf-8")

    second = serve_demo(template_src, destination, tmp_path, "second")
    assert "template unchanged" in second, second
    assert (destination / "marker").exists()

    readme = template_src / "template" / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA change.\n", encoding="utf-8")
    support.git("commit", "-q", "-am", "a template change", cwd=template_src)
    third = serve_demo(template_src, destination, tmp_path, "third")
    assert "the template changed: rendering" in third, third
    assert not (destination / "marker").exists()
    assert (destination / "README.md").read_text(encoding="utf-8").endswith("A change.\n")
