"""A pytest plugin: where a rendered suite's time goes, per test module.

Load it into a rendered project's suite (BENCHMARKS.md, section 5):

    PYTHONPATH=/path/to/bastion/bench SUITE_CPU_OUT=/tmp/suite-cpu.txt \\
        .venv/bin/python -m pytest -q -p no:cacheprovider -p suite_cpu

Per module it adds up the wall time, the CPU time of pytest (`time.process_time()`), the
CPU time of its live descendants (moto's server) and the *idle* time: wall time minus
the CPU of pytest and its descendants and the run-queue waits of their live threads
(`/proc/PID/task/*/schedstat`), i.e. time in which no process of the suite ran or waited
for a core. Idle time does not grow with the machine's load; it is what another xdist
worker could use. Linux only. The CPU of a subprocess that has exited between two
readings is not seen, so it counts as idle (a CLI run, a server start).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
ME = os.getpid()


@dataclass(slots=True)
class Totals:
    """Seconds summed over a module's tests."""

    tests: int = 0
    wall: float = 0.0
    pytest_cpu: float = 0.0
    children_cpu: float = 0.0
    idle: float = 0.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at the clocks."""

    wall: float
    pytest_cpu: float
    children_cpu: float
    busy: float  # CPU of the whole tree + run-queue waits of its live threads


TOTALS: defaultdict[str, Totals] = defaultdict(Totals)
STARTED: dict[str, Reading] = {}


def _process(pid: str) -> tuple[int, float, float] | None:
    """(parent, CPU seconds, run-queue wait seconds of the live threads), or None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        waited = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            waited += int((task / "schedstat").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, waited / 1e9


def _read() -> Reading:
    processes = {
        int(entry.name): found
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (found := _process(entry.name)) is not None
    }
    children = busy = 0.0
    for pid, (_, cpu, waited) in processes.items():
        ancestor = pid
        while ancestor not in (0, 1, ME) and ancestor in processes:
            ancestor = processes[ancestor][0]
        if ancestor == ME:
            busy += cpu + waited
            if pid != ME:
                children += cpu
    return Reading(time.perf_counter(), time.process_time(), children, busy)


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    """Read the clocks before a test's setup."""
    STARTED[nodeid] = _read()


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    """Add the test's share to its module."""
    before = STARTED.pop(nodeid, None)
    if before is None:
        return
    after = _read()
    totals = TOTALS[nodeid.split("::", 1)[0]]
    wall = after.wall - before.wall
    totals.tests += 1
    totals.wall += wall
    totals.pytest_cpu += after.pytest_cpu - before.pytest_cpu
    totals.children_cpu += max(0.0, after.children_cpu - before.children_cpu)
    totals.idle += max(0.0, wall - max(0.0, after.busy - before.busy))


def pytest_sessionfinish() -> None:
    """Write the table, heaviest module (pytest + children CPU) first."""
    rows = sorted(TOTALS.items(), key=lambda row: -(row[1].pytest_cpu + row[1].children_cpu))
    everything = Totals(
        tests=sum(t.tests for _, t in rows),
        wall=sum(t.wall for _, t in rows),
        pytest_cpu=sum(t.pytest_cpu for _, t in rows),
        children_cpu=sum(t.children_cpu for _, t in rows),
        idle=sum(t.idle for _, t in rows),
    )
    lines = [f"{'module':60} {'tests':>5} {'wall':>7} {'pytest':>7} {'child':>7} {'idle':>7}"]
    for module, t in [*rows, ("TOTAL", everything)]:
        lines.append(
            f"{module:60} {t.tests:5d} {t.wall:7.1f} {t.pytest_cpu:7.1f}"
            f" {t.children_cpu:7.1f} {t.idle:7.1f}"
        )
    Path(os.environ.get("SUITE_CPU_OUT", "suite-cpu.txt")).write_text("\n".join(lines) + "\n")
