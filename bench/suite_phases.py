"""Where the template suite's time goes: a JUnit report summed by phase and by variant.

`.ci/run` writes the report of every run (`$BASTION_JUNIT`, by default
`.ci/last-run.xml`); this reads it and prints two Markdown tables:

- by phase: each test function (`test_rendered_suite`, `test_mypy_strict`, ...) with
  its summed seconds over every variant, its count and its longest single run;
- by variant: the seconds each variant's tests took, summed, split into the rendered
  suite on its own store, the PostgreSQL rerun, and everything else.

Summed seconds are per test, on the worker that ran it; with two workers the run's
wall time is about half the total.

Usage: .venv/bin/python bench/suite_phases.py [REPORT.xml]
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

DEFAULT_REPORT = Path(__file__).resolve().parent.parent / ".ci" / "last-run.xml"
PARAMETER = re.compile(r"^(?P<name>[^\[]+)(?:\[(?P<param>.*)\])?$")
SUITE_PHASES = {
    "test_rendered_suite": "own suite",
    "test_rendered_suite_on_postgresql": "PostgreSQL",
}


def cases(report: Path) -> list[tuple[str, str, float]]:
    """(test function, parameter, seconds) of every test case in a JUnit report."""
    root = ElementTree.parse(report).getroot()  # noqa: S314 - our own pytest's report
    found = []
    for case in root.iter("testcase"):
        match = PARAMETER.match(case.get("name", ""))
        if match is None:
            continue
        found.append((match["name"], match["param"] or "", float(case.get("time", "0"))))
    return found


def by_phase(rows: list[tuple[str, str, float]]) -> str:
    """Markdown: seconds per test function, heaviest first."""
    totals: dict[str, list[float]] = defaultdict(list)
    for name, _, seconds in rows:
        totals[name].append(seconds)
    lines = [
        "| phase (test function) | total s | runs | longest s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, times in sorted(totals.items(), key=lambda item: -sum(item[1])):
        lines.append(f"| `{name}` | {sum(times):.0f} | {len(times)} | {max(times):.0f} |")
    lines.append(f"| **all** | **{sum(s for *_, s in rows):.0f}** | {len(rows)} | |")
    return "\n".join(lines)


def by_variant(rows: list[tuple[str, str, float]]) -> str:
    """Markdown: seconds per variant, split into its suites and the rest."""
    split: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, param, seconds in rows:
        variant = param.split("@")[0] if param.count("-") == 2 else ""
        if not variant:
            continue
        split[variant][SUITE_PHASES.get(name, "render, lint, types, checks")] += seconds
    columns = ["own suite", "PostgreSQL", "render, lint, types, checks"]
    lines = [
        "| variant | " + " | ".join(columns) + " | total s |",
        "| --- |" + " ---: |" * (len(columns) + 1),
    ]
    for variant, parts in sorted(split.items(), key=lambda item: -sum(item[1].values())):
        cells = " | ".join(f"{parts.get(column, 0):.0f}" for column in columns)
        lines.append(f"| {variant} | {cells} | {sum(parts.values()):.0f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print both tables for the report named in `argv` (or the last `.ci/run`)."""
    report = Path(argv[0]) if argv else DEFAULT_REPORT
    if not report.exists():
        print(f"no report at {report}: run .ci/run (or pytest --junitxml) first", file=sys.stderr)
        return 2
    rows = cases(report)
    print(by_phase(rows))
    print()
    print(by_variant(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
