"""Security primitives: pure functions and small classes, plus the ASGI middleware."""
