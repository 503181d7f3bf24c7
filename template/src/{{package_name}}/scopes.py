"""The scopes a personal access token can be given: the one list the project declares.

A token may call a route only when it holds every scope the route names with
`RequireScopes` (`api/scopes.py`). Add the project's own scopes here; a name is
`<resource>:<action>`. Nothing here reaches account management: a token is refused
on every such route whatever its scopes.
"""

from enum import StrEnum


class Scope(StrEnum):
    """What a personal access token may do."""

    # `GET /api/v1/users/me`, and nothing else of the account routes.
    PROFILE_READ = "profile:read"
    # `GET /api/v1/examples/reports`, the example of a project route (`api/routers/examples.py`).
    REPORTS_READ = "reports:read"
