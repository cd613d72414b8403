"""Page routers: every public module with a `router` (and optional `NAV`) is included."""
