"""Authenticated request throughput: `GET /api/v1/users/me` with a valid credential.

For each token style (jwt, opaque, cookie) on SQLite, PostgreSQL and DynamoDB (moto's
server), the rendered service (mfa=none) runs with one uvicorn worker and wrk loads
it from loopback; a bare FastAPI app returning the same JSON (`ceiling_app.py`) runs
beside them as the framework ceiling. The targets take turns within each round, so a
noisy moment hits one run of each rather than all runs of one; the ratio to the
ceiling is taken within a round, then the median over rounds. `app-health` is the
first service's `GET /health`: the middleware stack, routing and the access log, with
no authentication and no database, which splits the gap in two.

Every request is authenticated in full: token or cookie checked, session and user
read from the database (no cache), as in production.

`--baseline REV` also renders the template at that git revision (a commit, branch or
tag) and serves it beside the working tree, as `<target>@base`: before and after, in
the same rounds, under the same load.

Needs wrk (`apt-get install -y wrk`, or `brew install wrk`). `--profile TARGET`
also samples that target's server with py-spy (`pip install py-spy`) during one more
wrk run and prints where the CPU time goes.

Usage: .venv/bin/python bench/throughput.py [--runs 3] [--duration 10] [--only postgresql]
       [--baseline main]
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import common

BENCH_DIR = Path(__file__).resolve().parent
REPORT_SCRIPT = BENCH_DIR / "wrk" / "report.lua"
CEILING = "ceiling"
APP_HEALTH = "app-health"
DATABASES = ("sqlite", "postgresql", "dynamodb")
TOKEN_STYLES = ("jwt", "opaque", "cookie")
WARM_UP_SECONDS = 2
PROFILE_TOP = 25
# Where a request's time goes, by the function whose inclusive share tells it. A frame
# matches when it contains the text; nested centres overlap (checkout holds pre-ping).
APP_MARKER = "FastAPI.__call__ ("
COST_CENTRES = (
    ("the ASGI app: middleware, routing, dependencies, endpoint", APP_MARKER),
    ("FastAPI dependency resolution (credential check inside)", "solve_dependencies ("),
    ("credential check: current_session", "current_session ("),
    ("JWT signature and claims (PyJWT)", "AccessTokenCodec.verify ("),
    ("session read (store.get)", "SessionStore.get ("),
    ("user read (store.get)", "UserStore.get ("),
    ("connection checkout (SQLAlchemy pool)", "AsyncConnection.start ("),
    ("pool pre-ping (BEGIN; ';'; ROLLBACK)", "_async_ping ("),
    ("SQL statement execution (SQLAlchemy + asyncpg)", "AsyncConnection.execute ("),
    ("connection return (ROLLBACK)", "AsyncConnection.close ("),
    ("DynamoDB client calls (aiobotocore)", "AioBaseClient._make_api_call ("),
    ("response model validation and JSON", "serialize_response ("),
    ("logging (access log and audit)", "Logger._log ("),
)


@dataclass
class Target:
    """One server under load, the header that authenticates to it and its results."""

    name: str
    server: common.Server
    token_style: str | None = None
    account: common.Account | None = None
    header: tuple[str, str] | None = None
    path: str = f"{common.API}/users/me"
    runs: list[dict[str, float]] = field(default_factory=list)

    def refresh_credential(self) -> None:
        """Log in again, so an access token never expires in the middle of a run."""
        if self.token_style is not None and self.account is not None:
            self.header = common.sign_in(self.server.url, self.token_style, self.account)


def require(tool: str, install_hint: str) -> str:
    """The path of `tool`, or exit with how to install it."""
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"{tool} is not installed (or not on PATH): {install_hint}")
    return path


def run_wrk(wrk: str, target: Target, *, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run against the target's `/api/v1/users/me`; its figures."""
    command = [
        wrk,
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(REPORT_SCRIPT),
        f"{target.server.url}{target.path}",
    ]
    if target.header is not None:
        command += ["--", *target.header]
    cpu_before = common.cpu_seconds(target.server.pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_used = common.cpu_seconds(target.server.pid) - cpu_before
    report = next(line for line in output.splitlines() if line.startswith("BENCH "))
    figures: dict[str, float] = json.loads(report.removeprefix("BENCH "))
    figures["cpu_ms_per_request"] = cpu_used * 1000 / max(1, figures["requests"])
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"{target.name}: failed requests during the run: {figures}")
    return figures


def check_answer(target: Target) -> str:
    """The body of one request with the credential (which must be a 200)."""
    headers = dict([target.header]) if target.header else {}
    response = httpx.get(f"{target.server.url}{target.path}", headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{target.name}: {response.status_code} {response.text}")
    return response.text


def start_targets(
    stack: ExitStack,
    work_dir: Path,
    selected: list[tuple[str, str]],
    revisions: dict[str, str],
) -> list[Target]:
    """Render the variants at each of `revisions` (suffix: git revision), start their
    databases and servers, register one account each."""
    mail_dir = work_dir / "mail"
    projects: dict[tuple[str, str, str], common.Project] = {}
    targets = []
    moto: common.Server | None = None
    for (database, style), (suffix, revision) in itertools.product(selected, revisions.items()):
        adapter = "dynamodb" if database == "dynamodb" else "sql"
        if (adapter, style, suffix) not in projects:
            projects[adapter, style, suffix] = common.render(
                work_dir / f"render-{adapter}-{style}{suffix}",
                revision,
                database=adapter,
                token_style=style,
                mfa="none",
            )
        url = ""
        if database == "postgresql":
            url = stack.enter_context(common.postgres_database(style))
        elif database == "dynamodb":
            if moto is None:
                moto = stack.enter_context(common.moto_server(work_dir))
            url = moto.url
        name = f"{database}-{style}{suffix}"
        data_dir = work_dir / name
        data_dir.mkdir()
        settings = {
            **common.database_settings(database, work_dir=data_dir, url=url),
            **common.mail_settings(mail_dir),
            **common.UNTHROTTLED_LIMITS,
        }
        project = projects[adapter, style, suffix]
        server = stack.enter_context(common.service(project, settings, log_dir=work_dir, name=name))
        account = common.register(server.url, mail_dir)
        targets.append(Target(name, server, style, account))
    return targets


def start_ceiling(stack: ExitStack, work_dir: Path, body: str) -> Target:
    """The bare FastAPI app, answering with `body`."""
    port = common.free_port()
    server = common.Server(
        CEILING,
        [sys.executable, str(BENCH_DIR / "ceiling_app.py"), str(port)],
        port=port,
        log_path=work_dir / "ceiling.log",
        environment={"BENCH_CEILING_BODY": body},
    )
    return Target(CEILING, stack.enter_context(server))


def measure(args: argparse.Namespace, wrk: str, targets: list[Target]) -> None:
    """Warm every target up, then `args.runs` rounds of one wrk run per target."""
    for target in targets:
        target.refresh_credential()
        run_wrk(wrk, target, seconds=WARM_UP_SECONDS, connections=args.connections)
    for round_number in range(1, args.runs + 1):
        for target in targets:
            target.refresh_credential()
            figures = run_wrk(wrk, target, seconds=args.duration, connections=args.connections)
            target.runs.append(figures)
            print(
                f"round {round_number} {target.name:>18}: {figures['rps']:8.1f} req/s"
                f"  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms",
                flush=True,
            )


def report(targets: list[Target]) -> None:
    """Medians per target and the median of the per-round ratios to the ceiling."""
    ceiling = next(target for target in targets if target.name == CEILING)
    rows = []
    for target in targets:
        ratios = [
            run["rps"] / ceiling_run["rps"]
            for run, ceiling_run in zip(target.runs, ceiling.runs, strict=True)
        ]
        rows.append(
            [
                target.name,
                f"{common.median(run['rps'] for run in target.runs):.0f}",
                f"{common.median(ratios):.0%}",
                f"{common.median(run['p50_ms'] for run in target.runs):.2f}",
                f"{common.median(run['p99_ms'] for run in target.runs):.2f}",
                f"{common.median(run['cpu_ms_per_request'] for run in target.runs):.2f}",
            ]
        )
    print()
    common.print_table(
        [
            "target",
            "req/s (median)",
            "of ceiling",
            "p50 ms",
            "p99 ms",
            "server CPU ms/req",
        ],
        rows,
    )


def profile(args: argparse.Namespace, wrk: str, target: Target, work_dir: Path) -> None:
    """Sample the target's server with py-spy during one wrk run; print the top costs."""
    py_spy = require("py-spy", "pip install py-spy")
    raw = work_dir / f"profile-{target.name}.txt"
    target.refresh_credential()
    sampler = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(target.server.pid),
            "--duration",
            str(args.duration),
            "--rate",
            "250",
            "--gil",
            "--format",
            "raw",
            "--function",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    figures = run_wrk(wrk, target, seconds=args.duration, connections=args.connections)
    sampler.wait()
    print(f"\nprofile of {target.name} (while serving {figures['rps']:.0f} req/s under py-spy)")
    if args.keep_profile:
        kept = Path(args.keep_profile).with_suffix(f".{target.name}.txt")
        shutil.copyfile(raw, kept)
        print(f"collapsed stacks written to {kept}")
    print_profile(raw.read_text().splitlines())


def parse_stacks(lines: list[str]) -> Iterator[tuple[list[str], int]]:
    """py-spy `raw` output: `frame;frame;... count`, outermost frame first."""
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if stack:
            yield stack.split(";"), int(count)


def component(frame: str) -> str:
    """The library (or stdlib module, or service layer) a frame's code belongs to."""
    location = frame.rpartition("(")[2].rstrip(")").rpartition(":")[0]
    parts = Path(location).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if "src" in parts:
        package = parts[parts.index("src") + 1 :]
        return "service: " + "/".join(package[1:-1] or package[-1:])
    if location.startswith("<"):
        return location
    for index, part in enumerate(parts):
        if part.startswith("python3"):
            return "stdlib: " + "/".join(parts[index + 1 :])
    return location


def print_profile(lines: list[str]) -> None:
    """Cost centres, own time by component and the costliest functions (inclusive)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    centres: Counter[str] = Counter()
    total = 0
    for frames, count in parse_stacks(lines):
        total += count
        own[component(frames[-1])] += count
        for frame in set(frames):
            inclusive[frame] += count
        for label, marker in COST_CENTRES:
            if any(marker in frame for frame in frames):
                centres[label] += count
    if not total:
        print("no samples (is ptrace allowed? py-spy needs it)")
        return
    print(f"{total} samples of the thread holding the GIL; cost centres (inclusive):")
    outside = total - sum(count for frame, count in inclusive.items() if APP_MARKER in frame)
    print(f"  {outside / total:6.1%}  outside the app: uvicorn's HTTP protocol, the event loop")
    for label, _ in COST_CENTRES:
        if centres[label]:
            print(f"  {centres[label] / total:6.1%}  {label}")
    print("own time by component:")
    for name, count in own.most_common(PROFILE_TOP):
        print(f"  {count / total:6.1%}  {name}")
    print("inclusive time by function:")
    for frame, count in inclusive.most_common(PROFILE_TOP * 2):
        print(f"  {count / total:6.1%}  {frame}")


def main() -> None:
    """Parse the options, run the rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="keep targets whose name contains this",
    )
    parser.add_argument(
        "--profile",
        metavar="TARGET",
        action="append",
        default=[],
        help="e.g. postgresql-jwt",
    )
    parser.add_argument(
        "--keep-profile",
        metavar="FILE",
        help="save py-spy's collapsed stacks (FILE.TARGET.txt)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every run's figures here")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve the template at this git revision, as TARGET@base",
    )
    args = parser.parse_args()
    wrk = require("wrk", "apt-get install -y wrk (Debian, Ubuntu) or brew install wrk")

    selected = [
        (database, style)
        for database in DATABASES
        for style in TOKEN_STYLES
        if not args.only or any(part in f"{database}-{style}" for part in args.only)
    ]
    common.print_machine()
    with (
        tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp,
        ExitStack() as stack,
    ):
        work_dir = Path(tmp)
        revisions = {"": "HEAD"} | ({"@base": args.baseline} if args.baseline else {})
        targets = start_targets(stack, work_dir, selected, revisions)
        for target in targets:
            target.refresh_credential()
        body = check_answer(targets[0]) if targets else ""
        if targets:
            # The same server's /health: middleware, routing, access log; no auth, no database.
            targets.insert(0, Target(APP_HEALTH, targets[0].server, path="/health"))
        targets.insert(0, start_ceiling(stack, work_dir, body))
        measure(args, wrk, targets)
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "machine": common.machine_summary(),
                        "runs": {target.name: target.runs for target in targets},
                    },
                    indent=2,
                )
            )
        report(targets)
        for name in args.profile:
            chosen = next(target for target in targets if target.name == name)
            profile(args, wrk, chosen, work_dir)


if __name__ == "__main__":
    main()
