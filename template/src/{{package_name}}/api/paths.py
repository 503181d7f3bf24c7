"""Route paths that more than one module names, written once."""

API_PREFIX = "/api/v1"
# The OAuth2 password flow's token URL (the OpenAPI schema names it) and the one route
# whose body is a form (`api/middleware/content_type.py`).
LOGIN_PATH = f"{API_PREFIX}/auth/login"
