"""Roles and what they permit: one table (data/roles.yaml), checked from one function."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from qianmo._yaml import safe_load
from qianmo.errors import PolicyRefused, QianmoError
from qianmo.store._access import Viewer

ROLES = ("admin", "maintainer", "reviewer", "annotator", "contributor", "viewer")


@lru_cache(maxsize=1)
def role_table() -> dict[str, frozenset[str]]:
    """Role → the permissions it grants, read from the package's roles.yaml."""
    text = resources.files("qianmo.store").joinpath("data/roles.yaml").read_text("utf-8")
    data = safe_load(text)
    known = set(data["permissions"])
    table = {role: frozenset(perms) for role, perms in data["roles"].items()}
    for role, perms in table.items():
        if unknown := perms - known:
            raise QianmoError(f"unknown permissions {sorted(unknown)}", field=f"roles.{role}")
    if set(table) != set(ROLES):
        raise QianmoError(f"roles.yaml must define exactly {ROLES}", field="roles")
    return table


@lru_cache(maxsize=1)
def permission_descriptions() -> dict[str, str]:
    text = resources.files("qianmo.store").joinpath("data/roles.yaml").read_text("utf-8")
    return dict(safe_load(text)["permissions"])


def check_role(role: str) -> str:
    if role not in ROLES:
        raise QianmoError(f"unknown role {role!r} (one of: {', '.join(ROLES)})", field="role")
    return role


def permits(viewer: Viewer, permission: str, org: str | None = None) -> bool:
    """Whether the viewer's role in `org` grants `permission`; `org=None`: in any of their orgs."""
    table = role_table()
    if permission not in permission_descriptions():
        raise QianmoError(f"unknown permission {permission!r}", field="permission")
    roles = viewer.roles.values() if org is None else [viewer.roles.get(org, "")]
    return any(permission in table.get(role, frozenset()) for role in roles)


def require(viewer: Viewer, permission: str, org: str | None = None) -> None:
    """Raise PolicyRefused unless `permits`; the message names what was missing."""
    if not permits(viewer, permission, org):
        where = f" in {org}" if org else ""
        raise PolicyRefused(f"{viewer.name} may not {permission}{where}", field=permission)
