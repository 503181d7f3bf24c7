"""Host names as the `Host` header and `ALLOWED_HOSTS` give them, compared alike.

`api/middleware/allowed_hosts.py` answers 400 for a host this service does not serve.
"""

import ipaddress

# Names a developer's own machine answers to: allowed hosts outside production.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def normalize_host(name: str) -> str:
    """A host name as compared: lower case, without IPv6 brackets or a trailing dot."""
    return name.strip().lower().removeprefix("[").removesuffix("]").removesuffix(".")


def is_host_name(name: str) -> bool:
    """An IP address, or a DNS name of ASCII letters, digits, hyphens and dots."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return all(
            0 < len(label) <= 63 and label.isascii() and label.replace("-", "").isalnum()
            for label in name.split(".")
        )
    return True


def host_of(header: str) -> str:
    """The host name of a `Host` header value, without its port."""
    value = header.strip()
    if value.startswith("["):  # an IPv6 literal: [::1]:8000
        closing = value.find("]")
        return normalize_host(value[: closing + 1]) if closing > 0 else ""
    return normalize_host(value.partition(":")[0])
