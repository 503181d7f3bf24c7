"""The rendered SECURITY.md cites real proofs and maps every ASVS requirement it claims to.

Its threat table and its OWASP ASVS map name tests as `tests/<path>.py::test_<name>`
in backticks. In every variant each such reference must name a test function of that
render (a map entry for another token style or factor must not be rendered there), and
the ASVS map must hold one row for each Level 1 and Level 2 requirement of the chapters
it covers, each with a test or a stated reason.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from variant_marks import every_variant

if TYPE_CHECKING:
    from template_support import Rendered

TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
ASVS_MAP_HEADING = "## OWASP ASVS 5.0 Level 2 map"
ASVS_ROW = re.compile(r"^\| (\d+\.\d+\.\d+) \|(.*)$", re.MULTILINE)
# A row without a test says why: the requirement does not apply, or is not met.
STATED_REASONS = ("Not applicable", "Not met")

# OWASP ASVS 5.0.0: how many requirements of level 1 or 2 each section covered by the
# map has. In each of them these are numbered 1..n; the level 3 ones follow (V6.7 has
# only level 3 requirements).
LEVEL_2_COUNTS = {
    "3.3": 4, "3.4": 6, "3.5": 5,
    "6.1": 3, "6.2": 12, "6.3": 4, "6.4": 4, "6.5": 5, "6.6": 3, "6.8": 4,
    "7.1": 3, "7.2": 4, "7.3": 2, "7.4": 5, "7.5": 2, "7.6": 2,
    "9.1": 3, "9.2": 4,
}  # fmt: skip
LEVEL_2_REQUIREMENTS = frozenset(
    f"{section}.{number}"
    for section, count in LEVEL_2_COUNTS.items()
    for number in range(1, count + 1)
)


def security_doc(rendered: Rendered) -> str:
    """The rendered project's SECURITY.md."""
    return (rendered.path / "SECURITY.md").read_text(encoding="utf-8")


def defined_tests(module: Path) -> frozenset[str]:
    """Names of the test functions a rendered test module defines (in classes too)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def broken_references(text: str, project: Path) -> list[str]:
    """The test references in `text` that name no test function of `project`."""
    broken = []
    for path, name in TEST_REFERENCE.findall(text):
        module = project / path
        if not module.is_file() or name not in defined_tests(module):
            broken.append(f"{path}::{name}")
    return broken


def asvs_map(text: str) -> str:
    """The ASVS map section of SECURITY.md, up to the next section."""
    _, heading, rest = text.partition(ASVS_MAP_HEADING)
    assert heading, f"SECURITY.md has no {ASVS_MAP_HEADING!r} section"
    return rest.split("\n## ", 1)[0]


def asvs_map_problems(text: str) -> list[str]:
    """Requirements missing from the map, listed twice, unknown, or without proof or reason."""
    rows = ASVS_ROW.findall(asvs_map(text))
    counts = Counter(requirement for requirement, _ in rows)
    problems = [f"{r}: missing" for r in sorted(LEVEL_2_REQUIREMENTS - counts.keys())]
    problems += [
        f"{r}: not a Level 2 requirement" for r in sorted(counts.keys() - LEVEL_2_REQUIREMENTS)
    ]
    problems += [f"{r}: listed {n} times" for r, n in sorted(counts.items()) if n > 1]
    problems += [
        f"{requirement}: neither a test nor a reason"
        for requirement, cells in rows
        if not TEST_REFERENCE.search(cells) and not any(s in cells for s in STATED_REASONS)
    ]
    return problems


@every_variant
def test_every_cited_test_exists(rendered: Rendered) -> None:
    """Each `tests/...py::test_name` in SECURITY.md is a test function of this render."""
    text = security_doc(rendered)
    assert len(TEST_REFERENCE.findall(text)) > len(LEVEL_2_REQUIREMENTS) // 2
    assert broken_references(text, rendered.path) == []


@every_variant
def test_asvs_map_names_each_level_2_requirement_once(rendered: Rendered) -> None:
    """One row per Level 1 and 2 requirement of V3.3-V3.5, V6, V7 and V9, none twice."""
    assert asvs_map_problems(security_doc(rendered)) == []


@every_variant
def test_made_up_references_are_caught(rendered: Rendered) -> None:
    """The negative control: a missing function or module is reported, a real test is not."""
    cited = (
        "`tests/test_login.py::test_login_then_read_me`, "
        "`tests/test_login.py::test_login_then_read_me_backwards` and "
        "`tests/security/test_no_such_attack.py::test_anything`"
    )
    assert broken_references(cited, rendered.path) == [
        "tests/test_login.py::test_login_then_read_me_backwards",
        "tests/security/test_no_such_attack.py::test_anything",
    ]


@every_variant
def test_asvs_map_gaps_are_caught(rendered: Rendered) -> None:
    """The negative control: a dropped, a doubled and an unproved row are reported."""
    text = security_doc(rendered)
    dropped = re.sub(r"^\| 7\.3\.1 \|.*\n", "", text, flags=re.MULTILINE)
    doubled = re.sub(r"^(\| 6\.2\.1 \|.*\n)", r"\1\1", text, flags=re.MULTILINE)
    unproved = re.sub(r"^\| 3\.4\.4 \|.*$", "| 3.4.4 | nosniff | trust us | — |", text, flags=re.M)
    assert asvs_map_problems(dropped) == ["7.3.1: missing"]
    assert asvs_map_problems(doubled) == ["6.2.1: listed 2 times"]
    assert asvs_map_problems(unproved) == ["3.4.4: neither a test nor a reason"]
