"""`qianmo users|orgs|tokens`: accounts, organisations and API tokens; the demo's accounts."""

from __future__ import annotations

import secrets

import typer
from rich.table import Table

from qianmo.cli._common import actor, console, print_json, safe, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.errors import NotFound, QianmoError
from qianmo.store import (
    ROLES,
    create_org,
    create_token,
    create_user,
    get_org,
    get_user,
    list_orgs,
    list_sessions,
    list_tokens,
    list_users,
    revoke_sessions,
    revoke_token,
    set_membership,
    set_password,
)

users_app = typer.Typer(help="Platform users and their roles.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations, their partners and vetted mark.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (stored hashed, shown once).", no_args_is_help=True)


def _ask_password() -> str:
    first = str(typer.prompt("password", hide_input=True))
    if str(typer.prompt("again", hide_input=True)) != first:
        raise QianmoError("the two passwords differ", field="password")
    return first


@users_app.command("add")
def users_add(
    name: str,
    org: str = typer.Option(..., "--org"),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    password: str | None = typer.Option(None, "--password", help="Prompted for when absent."),
) -> None:
    """Add a user as a member of an organisation (an existing user joins another one)."""
    with workspace().write() as s:
        try:
            get_user(s, name)
        except NotFound:
            secret = password or _ask_password()
            create_user(s, name, actor=actor(), password=secret, org=org, role=role)
        else:
            set_membership(s, name, org, role, actor=actor())
    console.print(f"{safe(name)}: {safe(role)} in {safe(org)}")


@users_app.command("list")
def users_list(
    org: str | None = typer.Option(None, "--org"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Users and their role in each organisation."""
    with workspace().read() as s:
        users = list_users(s, org=org)
    if as_json:
        print_json([{"name": u.name, "active": u.active, "roles": u.roles} for u in users])
        return
    table = Table()
    for col in ("user", "active", "roles"):
        table.add_column(col)
    for u in users:
        roles = ", ".join(f"{o}: {r}" for o, r in sorted(u.roles.items()))
        table.add_row(safe(u.name), "yes" if u.active else "no", safe(roles))
    console.print(table)


@users_app.command("passwd")
def users_passwd(
    name: str,
    password: str | None = typer.Option(None, "--password", help="Prompted for when absent."),
) -> None:
    """Set a user's password; their signed-in browser sessions end."""
    with workspace().write() as s:
        ended = set_password(s, name, password or _ask_password(), actor=actor())
    console.print(f"{safe(name)}: password changed, {ended} browser session(s) ended")


@users_app.command("sessions")
def users_sessions(
    name: str,
    revoke: bool = typer.Option(False, "--revoke", help="End all of them."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A user's signed-in browser sessions; `--revoke` ends them all."""
    if revoke:
        with workspace().write() as s:
            ended = revoke_sessions(s, name, actor=actor())
        console.print(f"{safe(name)}: {ended} browser session(s) ended")
        return
    with workspace().read() as s:
        rows = [
            {
                "id": i.session_id[:16],
                "created_at": str(i.created_at),
                "expires_at": str(i.expires_at),
                "last_seen_at": str(i.last_seen_at or ""),
            }
            for i in list_sessions(s, name)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for col in rows[0] if rows else ("id", "created_at", "expires_at", "last_seen_at"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(safe(v) for v in r.values()))
    console.print(table)


@orgs_app.command("add")
def orgs_add(
    name: str,
    partner: list[str] = typer.Option([], "--partner", help="A partner organisation (repeat)."),
    vetted: bool = typer.Option(False, "--vetted", help="Mark the organisation as vetted."),
) -> None:
    """Add an organisation, optionally with partners (mutual) and the vetted mark."""
    with workspace().write() as s:
        create_org(s, name, actor=actor(), partners=partner, vetted=vetted)
    console.print(f"organisation {safe(name)} added")


@orgs_app.command("list")
def orgs_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Organisations with their partners, vetted mark and member count."""
    with workspace().read() as s:
        orgs = list_orgs(s)
    if as_json:
        print_json(
            [
                {"name": o.name, "vetted": o.vetted, "partners": o.partners, "members": o.members}
                for o in orgs
            ]
        )
        return
    table = Table()
    for col in ("organisation", "vetted", "partners", "members"):
        table.add_column(col)
    for o in orgs:
        vetted = "yes" if o.vetted else ""
        table.add_row(safe(o.name), vetted, safe(", ".join(o.partners)), str(o.members))
    console.print(table)


@orgs_app.command("members")
def orgs_members(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """The members of one organisation and their roles."""
    with workspace().read() as s:
        get_org(s, name)  # an unknown organisation is an error, an empty one is not
        members = [(u.name, u.roles[name]) for u in list_users(s, org=name)]
    if as_json:
        print_json([{"name": n, "role": r} for n, r in members])
        return
    table = Table()
    table.add_column("user")
    table.add_column("role")
    for n, r in members:
        table.add_row(safe(n), r)
    console.print(table)


@tokens_app.command("create")
def tokens_create(
    user: str = typer.Option(..., "--user"),
    name: str = typer.Option("", "--name", help="A label to recognise the token by."),
    read_only: bool = typer.Option(False, "--read-only", help="Only GET requests."),
) -> None:
    """Create an API token; it is printed once, as the last word of the output."""
    with workspace().write() as s:
        row, secret = create_token(s, user, actor=actor(), name=name, read_only=read_only)
    mode = "read-only" if read_only else "read-write"
    console.print(f"token {row.id} for {safe(user)} ({mode}), shown once: {secret}")


@tokens_app.command("list")
def tokens_list(
    user: str | None = typer.Option(None, "--user"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Tokens (never their secrets)."""
    with workspace().read() as s:
        tokens = list_tokens(s, user=user)
    rows = [
        {
            "id": t.id,
            "user": t.user,
            "name": t.name,
            "read_only": t.read_only,
            "revoked": t.revoked,
            "created_at": str(t.created_at),
            # written at most once a minute per token, so good to the minute
            "last_used_at": str(t.last_used_at) if t.last_used_at else None,
        }
        for t in tokens
    ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for col in ("id", "user", "name", "read-only", "revoked", "created", "last used"):
        table.add_column(col)
    for t in tokens:
        last = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        flags = ("yes" if t.read_only else "no", "yes" if t.revoked else "no")
        table.add_row(
            safe(t.id), safe(t.user), safe(t.name), *flags, f"{t.created_at:%Y-%m-%d %H:%M}", last
        )
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token: requests presenting it are refused from now on."""
    with workspace().write() as s:
        revoke_token(s, token_id, actor=actor())
    console.print(f"token {safe(token_id)} revoked")


# The demo's organisations: (name, partners, vetted), and users: (name, org, role).
DEMO_ORGS = [
    ("qianmo-lab", [], True),
    ("red-sec", ["qianmo-lab"], False),
    ("blue-cert", ["qianmo-lab"], False),
    ("campus-ctf", [], False),
    ("cloud-guard", ["blue-cert"], False),
]
DEMO_USERS = [
    ("admin", "qianmo-lab", "admin"),
    ("alice", "qianmo-lab", "maintainer"),
    ("bob", "red-sec", "contributor"),
    ("carol", "blue-cert", "reviewer"),
    ("dave", "campus-ctf", "annotator"),
    ("erin", "cloud-guard", "annotator"),
    ("frank", "red-sec", "viewer"),
]


def demo_step(ctx: DemoContext) -> None:
    """Create the demo organisations and users; the admin's password goes to ctx.state."""
    password = secrets.token_urlsafe(12)
    with ctx.db.write() as s:
        known = {o.name for o in list_orgs(s)}
        for name, partners, vetted in DEMO_ORGS:
            if name not in known:
                create_org(s, name, actor="demo", partners=partners, vetted=vetted)
        users = {u.name for u in list_users(s)}
        for name, org, role in DEMO_USERS:
            if name not in users:
                create_user(s, name, actor="demo", password=password, org=org, role=role)
            else:  # a later demo run prints a fresh password: every demo user gets it
                set_password(s, name, password, actor="demo")
    ctx.state["admin_user"] = "admin"
    ctx.state["admin_password"] = password
    ctx.console.print(
        f"accounts: {len(DEMO_ORGS)} organisations, {len(DEMO_USERS)} users "
        "(all with the admin's password in the demo)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(tokens_app, name="tokens")
