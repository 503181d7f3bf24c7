"""The service's own middleware: pure ASGI classes, one concern per module.

`main.build_middleware` declares the stack once, outermost first, and hands the list
to the application. Every class passes non-HTTP scopes through untouched, checks its
options once in `__init__`, and edits a response by wrapping `send`: it changes the
`http.response.start` message's raw header list in one pass (`messages.py`) rather
than building header objects, since each of these runs on every request.
"""
