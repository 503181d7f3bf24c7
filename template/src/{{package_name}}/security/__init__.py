"""Security primitives: pure functions and small classes, without I/O.

The middleware that applies them to requests is in `api/middleware/`.
"""
