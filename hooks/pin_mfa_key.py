"""Copier migration for 0.2.0 (TOTP projects): pin MFA_ENCRYPTION_KEY in `.env`.

Up to 0.1.x, a development `.env` had no MFA_ENCRYPTION_KEY, so the service derived
the key of TOTP secrets from SECRET_KEY (HKDF-SHA256), and rotating SECRET_KEY
voided every enrollment. From 0.2.0 the copy task writes a separate key. For an
existing project a fresh key would make today's enrollments unreadable, so this
writes the key the service already uses: the one derived from the current
SECRET_KEY. Enrollments keep working, and SECRET_KEY can be rotated from now on.

Runs in the project after `copier update` (see `_migrations` in copier.yml). Never
fails the update: when it cannot act it says what to do by hand. It never prints
a key. The derivation is done by `cryptography` (the project's own dependency), in
Copier's interpreter when it has the package, else in the project's `.venv`.
"""

import base64
import subprocess
import sys
from pathlib import Path

ENV_FILE = Path(".env")
PROJECT_PYTHON = Path(".venv/bin/python")
# Must match KEY_DERIVATION_INFO in security/totp.py of the releases up to 0.1.x.
KEY_DERIVATION_INFO = b"bastion mfa secret encryption v1"
KEY_BYTES = 32
MANUAL_STEP = (
    "pin_mfa_key: add MFA_ENCRYPTION_KEY to .env by hand (see CHANGELOG.md, 0.2.0) "
    "before you change SECRET_KEY."
)


def env_value(lines: list[str], name: str) -> str | None:
    """The value of `name` in .env lines (last assignment wins), or None."""
    value = None
    for line in lines:
        key, separator, rest = line.partition("=")
        if separator and key.strip() == name:
            value = rest.strip().strip("'\"")
    return value


def derive(secret_key: str) -> str:
    """The MFA key 0.1.x derived from `secret_key`, as MFA_ENCRYPTION_KEY takes it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=KEY_DERIVATION_INFO
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(key).decode()


def derive_anywhere(secret_key: str) -> str | None:
    """`derive` here, or in the project's virtual environment; None when neither can."""
    try:
        return derive(secret_key)
    except ImportError:
        pass
    if not PROJECT_PYTHON.exists():
        return None
    # The secret goes through stdin, never the command line (visible to other users).
    result = subprocess.run(
        [str(PROJECT_PYTHON), __file__, "--derive-from-stdin"],
        input=secret_key,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def main(arguments: list[str]) -> int:
    """Append the derived MFA_ENCRYPTION_KEY to .env when it has none."""
    if arguments == ["--derive-from-stdin"]:
        print(derive(sys.stdin.read()))
        return 0
    if not ENV_FILE.exists():
        print("pin_mfa_key: no .env here; nothing to do.")
        return 0
    text = ENV_FILE.read_text(encoding="utf-8")
    lines = text.splitlines()
    if env_value(lines, "MFA_ENCRYPTION_KEY"):
        print("pin_mfa_key: .env already sets MFA_ENCRYPTION_KEY; leaving it unchanged.")
        return 0
    secret_key = env_value(lines, "SECRET_KEY")
    if not secret_key:
        print("pin_mfa_key: .env sets no SECRET_KEY; nothing was derived from it.")
        return 0
    key = derive_anywhere(secret_key)
    if key is None:
        print(MANUAL_STEP)
        return 0
    separator = "\n" if text and not text.endswith("\n") else ""
    with ENV_FILE.open("a", encoding="utf-8") as env:
        env.write(
            f"{separator}# Pinned by the 0.2.0 update: the key TOTP secrets were encrypted"
            f" with so far.\nMFA_ENCRYPTION_KEY={key}\n"
        )
    print("pin_mfa_key: pinned MFA_ENCRYPTION_KEY in .env (derived from SECRET_KEY).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
