"""Render time: `copier copy` of each variant, as a user runs it.

Each of the variants in `copier.yml`'s matrix is rendered `--runs` times with the
copier command line (`copier copy --trust --defaults --vcs-ref HEAD`, so the working
tree, uncommitted changes included, and with the `.env` task), and the median wall
time is printed. The variants take turns within each round.

`--suite` also times the template's whole test suite (`scripts/test`: every variant
rendered, linted, type-checked and tested; 12+ minutes on 2 cores), once.

Usage: .venv/bin/python bench/render.py [--runs 3] [--suite]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import common

COPIER = Path(sys.executable).with_name("copier")


def copier_copy(variant: dict[str, str], destination: Path) -> float:
    """Seconds that one `copier copy` of `variant` takes."""
    command = [
        str(COPIER),
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "HEAD",
    ]
    for name, value in variant.items():
        command += ["--data", f"{name}={value}"]
    command += [str(common.REPO_ROOT), str(destination)]
    started = time.perf_counter()
    result = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"copier copy failed for {variant}:\n{result.stderr[-3000:]}")
    return elapsed


def time_suite(log_path: Path) -> float:
    """Seconds of one run of `scripts/test`; its output goes to `log_path`."""
    started = time.perf_counter()
    with log_path.open("wb") as log:
        result = subprocess.run(
            [str(common.REPO_ROOT / "scripts" / "test")],
            cwd=common.REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(f"scripts/test failed (exit {result.returncode}); see {log_path}")
    return elapsed


def main() -> None:
    """Render every variant `--runs` times; print the medians (and the suite's time)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="renders per variant (default 3)")
    parser.add_argument("--suite", action="store_true", help="also time scripts/test (slow)")
    parser.add_argument("--suite-log", default="bench-suite.log", help="scripts/test output")
    args = parser.parse_args()
    if not COPIER.exists():
        sys.exit(f"copier is not installed next to {sys.executable}: pip install copier")
    common.print_machine()
    variants = common.variants()
    timings: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        for round_number in range(1, args.runs + 1):
            for variant in variants:
                name = common.variant_id(variant)
                destination = Path(tmp) / f"{name}-{round_number}"
                timings[name].append(copier_copy(variant, destination))
            print(f"round {round_number} done", flush=True)
    rows = [[name, f"{common.median(values):.2f}"] for name, values in timings.items()]
    all_runs = [value for values in timings.values() for value in values]
    rows.append(["all variants (median of every run)", f"{common.median(all_runs):.2f}"])
    print()
    common.print_table(["variant", "copier copy, s (median)"], rows)
    if args.suite:
        seconds = time_suite(Path(args.suite_log).resolve())
        print(f"\nscripts/test (whole suite): {seconds:.0f} s")


if __name__ == "__main__":
    main()
