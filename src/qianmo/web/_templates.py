"""Jinja2 with autoescape always on; every page gets the user, the CSRF token and the nav."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from qianmo.web._markdown import render_markdown

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """One entry in the layout's navigation bar; `permission` hides it from those without."""

    label: str
    href: str
    order: int = 50


def make_environment() -> Environment:
    # autoescape=True for every template, whatever its extension: record content is hostile.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = render_markdown
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    principal = getattr(request.state, "principal", None)
    base = {
        "request": request,
        "user": principal.name if principal is not None else None,
        "csrf_token": request.session.get("csrf", "") if "session" in request.scope else "",
        "nav": sorted(request.app.state.nav, key=lambda n: (n.order, n.label)),
    }
    html = env.get_template(template).render({**base, **(context or {})})
    return HTMLResponse(html, status_code=status_code, headers=headers)
