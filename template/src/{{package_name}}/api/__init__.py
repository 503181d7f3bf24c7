"""HTTP: routers, dependencies and the mapping of service errors to responses."""
