"""Executable documentation: the shell walkthroughs of a rendered README, run as written.

A README marks a fenced ```bash block as part of its walkthrough with an HTML comment
on the line before it (invisible once the Markdown is rendered):

- `<!-- walkthrough: serve -->`: the block starts the service; it runs in the
  background (a second terminal, for the reader) until the next `serve` block
  replaces it (Ctrl-C for the reader: SIGINT here) or the walkthrough ends.
- `<!-- walkthrough -->`: the block runs in the foreground. Consecutive foreground
  blocks run as one bash script (`set -euo pipefail`), so variables carry from one
  block to the next as in the reader's terminal; any failing line fails the test.

The one rewrite: tests run in parallel, so the documented ports (`serve` on 8000, and
`serve`'s in-memory DynamoDB on the port after it) become free ports, as
`--port` on the `serve` line and in every `127.0.0.1:8000`/`:8001` address.

uv runs for real (`uv sync`, `uv run`): the project was copied with its tasks (`.env`
and `uv.lock` written), and `uv sync` installs from uv's cache, which the template's
own install (`scripts/test`, `uv pip install` at the same pins) has warmed. Measured on
the reference machine: `uv sync` of a whole project from the warm cache costs 0.4 s
of CPU (hard links; no download, no build but the project's own editable wheel), and
`uv run` adds a few hundredths of a second to the command it runs, so faking uv would
save nothing and prove less.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import template_support as support

MARKER = re.compile(r"^<!--\s*walkthrough(?::\s*(?P<role>serve))?\s*-->\s*$")
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)```bash\s*$")
DOCUMENTED_PORT = 8000
# `serve` in development starts an in-memory DynamoDB on the port after its own.
DOCUMENTED_DYNAMODB_PORT = DOCUMENTED_PORT + 1
SERVE_LINE = re.compile(r"^(?P<command>.*\bserve)\b(?P<rest>.*)$", re.MULTILINE)
READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 15
SCRIPT_TIMEOUT_SECONDS = 300
PORTS_BELOW_EPHEMERAL = (20000, 32000)


@dataclass(frozen=True)
class Block:
    """A marked bash block: its role (`serve` or `run`), its text, its first line."""

    role: str
    text: str
    line: int


def walkthrough_blocks(markdown: str) -> list[Block]:
    """The marked ```bash blocks of `markdown`, in order."""
    lines = markdown.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if match is None:
            continue
        opening = FENCE_OPEN.match(lines[index + 1]) if index + 1 < len(lines) else None
        if opening is None:
            raise ValueError(f"line {index + 1}: a walkthrough marker must precede ```bash")
        body = []
        for inner in lines[index + 2 :]:
            if inner.strip() == "```":
                break
            body.append(inner.removeprefix(opening.group("indent")))
        else:
            raise ValueError(f"line {index + 2}: the ```bash block is never closed")
        blocks.append(Block(match.group("role") or "run", "\n".join(body) + "\n", index + 3))
    return blocks


def with_ports(text: str, port: int) -> str:
    """`text` with the documented ports replaced by `port` and the one after it."""
    text = text.replace(f"127.0.0.1:{DOCUMENTED_DYNAMODB_PORT}", f"127.0.0.1:{port + 1}")
    return text.replace(f"127.0.0.1:{DOCUMENTED_PORT}", f"127.0.0.1:{port}")


def serve_on(text: str, port: int) -> str:
    """A serve block with `--port` added to its `serve` command."""
    rewritten, count = SERVE_LINE.subn(rf"\g<command> --port {port}\g<rest>", text)
    if count != 1:
        raise ValueError(f"a serve block needs exactly one `serve` command:\n{text}")
    return with_ports(rewritten, port)


def free_port_pair() -> int:
    """A free loopback port whose successor is free too (`serve` and its DynamoDB).

    Drawn below Linux's ephemeral range (32768 and up), where every outgoing connection
    takes its local port, so no client socket takes one of them before `serve` binds it.
    """
    for _ in range(200):
        port = random.randrange(*PORTS_BELOW_EPHEMERAL)  # noqa: S311 - a port, not a secret
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two consecutive free ports")


class WalkthroughStoppedError(Exception):
    """A foreground part of the walkthrough exited non-zero."""


@dataclass
class Walk:
    """What a walkthrough printed, and the README line of the part that failed, if any."""

    transcript: str = ""
    failed_at: int | None = None

    def add(self, title: str, output: str) -> None:
        """Append a step's title and output."""
        self.transcript += f"\n===== {title}\n{output}"


def bash(script: str) -> list[str]:
    """bash running `script` with errors fatal, as the reader's careful terminal would."""
    return ["bash", "-c", "set -euo pipefail\n" + script]


@contextmanager
def background(
    script: str, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `script` in its own process group; SIGINT (Ctrl-C), then SIGKILL, on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            bash(script),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # Whatever the group started (uv's child) goes too.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def wait_until_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll `/health/ready` until it answers 200; raise with the server's log if not."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    url = f"http://127.0.0.1:{port}/health/ready"
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise AssertionError(
        f"not ready on port {port} (exit status {server.poll()}):\n"
        + log.read_text(errors="replace")[-support.OUTPUT_TAIL_CHARS :]
    )


def run_walkthrough(blocks: list[Block], project: Path, env: dict[str, str], logs: Path) -> Walk:
    """Run `blocks` in `project` as a reader would, stopping at the first failure."""
    walk = Walk()
    port = free_port_pair()
    pending: list[Block] = []

    def run_pending() -> None:
        if not pending:
            return
        script = "\n".join(with_ports(block.text, port) for block in pending)
        first = pending[0].line
        pending.clear()
        result = support.run(bash(script), cwd=project, env=env, timeout=SCRIPT_TIMEOUT_SECONDS)
        walk.add(f"README line {first} and on (exit {result.returncode})", result.output)
        if result.returncode != 0:
            walk.failed_at = first
            raise WalkthroughStoppedError

    try:
        server = ExitStack()
        with server:
            for number, block in enumerate(blocks):
                if block.role == "run":
                    pending.append(block)
                    continue
                run_pending()
                server.close()  # the reader's Ctrl-C before starting it again
                log = logs / f"serve-{number}.log"
                script = serve_on(block.text, port)
                process = server.enter_context(background(script, project, env, log))
                wait_until_ready(process, port, log)
                walk.add(f"README line {block.line}: serving on {port}", block.text)
            run_pending()
    except WalkthroughStoppedError:
        pass
    finally:
        for log in sorted(logs.glob("serve-*.log")):
            walk.add(log.name, log.read_text(errors="replace")[-3000:])
    return walk


def reader_environment(tools: Path, python: str) -> dict[str, str]:
    """A reader's shell: uv and uvx on PATH (linked in `tools`), no test-runner, virtualenv
    or AWS state.

    `UV_PYTHON` makes `uv sync` build `.venv` on the interpreter the suite tests.
    """
    tools.mkdir(parents=True, exist_ok=True)
    uv = Path(support.uv_executable())
    for tool in (uv, uv.with_name("uvx")):
        link = tools / tool.name
        if tool.exists() and not link.exists():
            link.symlink_to(tool)
    env = {
        name: value
        for name, value in support.clean_environment(UV_PYTHON=python).items()
        if name != "VIRTUAL_ENV" and not name.startswith(("AWS_", "DYNAMODB_"))
    }
    # A developer's machine with no AWS account set up: nothing for botocore to find.
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
    return env


class _NoBreachHandler(BaseHTTPRequestHandler):
    """Answers every Have I Been Pwned range query with no match."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path.startswith("/range/") else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@contextmanager
def breach_range_stand_in() -> Iterator[str]:
    """A local stand-in for the breached-password range API, over HTTP: its base URL.

    A walkthrough registers passwords; the test sends none of them (not even a hash
    prefix) to the real service. `BREACHED_PASSWORD_API_URL` points the project here.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoBreachHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
