"""Organisations and users for tests: a small world with partners and every role."""

from __future__ import annotations

from qianmo.store import ROLES, Database, configure_password_hashing, create_org, create_user

# Still argon2id, at its cheapest: the default cost is for attackers, not for a test suite.
configure_password_hashing(time_cost=1, memory_cost_kib=1024)

PASSWORD = "correct-horse-battery"
# own org, a partner of it, and an unrelated org
ORGS = ("org-a", "org-b", "org-c")


def make_world(db: Database) -> dict[str, str]:
    """org-a and org-b are partners, org-c stands alone; one user per role in org-a
    (named `a-<role>`), plus `b-viewer`, `b_viewer`, `c-viewer` and `loner` (no organisation).
    Returns user name → their org."""
    users: dict[str, str] = {}
    with db.write() as s:
        create_org(s, "org-a", actor="test", vetted=True)
        create_org(s, "org-b", actor="test", partners=["org-a"])
        create_org(s, "org-c", actor="test")
        for role in ROLES:
            create_user(s, f"a-{role}", actor="test", password=PASSWORD, org="org-a", role=role)
            users[f"a-{role}"] = "org-a"
        for org in ("org-b", "org-c"):
            name = f"{org[-1]}-viewer"
            create_user(s, name, actor="test", password=PASSWORD, org=org, role="viewer")
            users[name] = org
        # differs from `b-viewer` only where a LIKE wildcard `_` would match `-`
        create_user(s, "b_viewer", actor="test", password=PASSWORD, org="org-b", role="viewer")
        users["b_viewer"] = "org-b"
        create_user(s, "loner", actor="test", password=PASSWORD)
        users["loner"] = ""
    return users
