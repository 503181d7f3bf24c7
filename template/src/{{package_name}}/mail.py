"""Outgoing e-mail: the `Mailer` port and its backends (`EMAIL_BACKEND`).

- `console`: prints each message to standard output; development only, since the
  messages hold live verification links.
- `file`: writes one `.eml` file per message to `EMAIL_FILE_DIR`.
- `smtp`: delivers through `SMTP_HOST` with STARTTLS (default) or implicit TLS,
  verifying the server certificate, and logs in when `SMTP_USERNAME` is set.
- `memory`: keeps messages in a list, for tests.
"""

import smtplib
import ssl
import sys
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol

import anyio.to_thread


class Mailer(Protocol):
    """Sends one message."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver `message` or raise."""


def compose(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class ConsoleMailer:
    """Writes messages to standard output."""

    async def send(self, message: EmailMessage) -> None:
        """Print the headers and the decoded text, so links can be copied as they are."""
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        headers = "".join(f"{name}: {message[name]}\n" for name in ("From", "To", "Subject"))
        sys.stdout.write(f"{'-' * 72}\n{headers}\n{text}{'-' * 72}\n")
        sys.stdout.flush()


class FileMailer:
    """Writes one `.eml` file per message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        """Write the message to a new file in the directory."""
        path = self.directory / f"{uuid.uuid4().hex}.eml"

        def write() -> None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(message.as_bytes())

        await anyio.to_thread.run_sync(write)


SmtpSecurity = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    """Sends through an SMTP server; the blocking client runs in a worker thread."""

    host: str
    port: int
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise."""
        await anyio.to_thread.run_sync(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        server = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            if self.security == "tls"
            else smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        )
        with server:
            if self.security == "starttls":
                server.starttls(context=context)
            if self.username is not None:
                server.login(self.username, self.password or "")
            server.send_message(message)


class MemoryMailer:
    """Keeps every message in `outbox`."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        """Append the message to the outbox."""
        self.outbox.append(message)
