"""Copier task: write the new project's `uv.lock` from the tested pins.

Runs in the rendered project's directory on `copier copy` only. `uv lock` resolves
within `[tool.uv] constraint-dependencies` (the exact versions the template's CI
tested), so the lock holds those versions. Idempotent: an existing `uv.lock` is left
alone. Never fails the copy: without uv, or without a network, it prints one line
saying how to create the lock later (`uv lock`, or simply `uv sync`).

Usage: lock_dependencies.py
"""

import shutil
import subprocess
import sys
from pathlib import Path

LOCK_FILE = Path("uv.lock")
# Generous for a cold cache on a slow line; a dead network fails long before this.
LOCK_TIMEOUT_SECONDS = 600
LATER = "run `uv lock` (or `uv sync`) in the project to create uv.lock from the tested pins."


def find_uv() -> str | None:
    """uv on PATH, or beside the Python that runs Copier (a uv- or pipx-installed Copier)."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.is_file() else None


def main() -> int:
    """Write `uv.lock` unless it exists; report, never fail, when that cannot be done now."""
    if LOCK_FILE.exists():
        print("uv.lock exists; leaving it unchanged.")
        return 0
    uv = find_uv()
    if uv is None:
        print(f"uv.lock not created: uv is not installed. Install uv, then {LATER}")
        return 0
    try:
        result = subprocess.run(
            [uv, "lock", "--quiet"],
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"uv.lock not created ({type(error).__name__}): {LATER}")
        return 0
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["uv lock failed"])[-1]
        print(f"uv.lock not created (offline? {reason.strip()}): {LATER}")
        return 0
    print("uv.lock written: the versions the template's CI tested.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
