"""The web platform: JSON API under /api/v1 and server-rendered pages (Jinja2 + htmx).

Other capabilities add pages by dropping a module with a `router` (and `NAV` entries) into
`qianmo.web.pages`, and API routes into `qianmo.web.api`; see docs/web.md.
"""

from qianmo.web._app import (
    API_PREFIX,
    JobWorkerThread,
    app_from_environment,
    create_app,
    ready_to_serve,
)
from qianmo.web._deps import (
    CurrentUser,
    DbDep,
    OptionalUser,
    Principal,
    SessionDep,
)
from qianmo.web._errors import ErrorPublic, error_response
from qianmo.web._security import CSP, check_csrf, csrf_token
from qianmo.web._templates import NavItem, render

__all__ = [
    "API_PREFIX",
    "CSP",
    "CurrentUser",
    "DbDep",
    "ErrorPublic",
    "JobWorkerThread",
    "NavItem",
    "OptionalUser",
    "Principal",
    "SessionDep",
    "app_from_environment",
    "check_csrf",
    "create_app",
    "csrf_token",
    "error_response",
    "ready_to_serve",
    "render",
]
