"""JSON API routers under /api/v1: every public module with a `router` is included."""
