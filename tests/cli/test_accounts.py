"""`qianmo users|orgs|tokens` and the demo's accounts step."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from qianmo.cli._demo_context import DemoContext
from qianmo.settings import Settings
from qianmo.store import Database, authenticate, list_orgs, load_viewer, start_session
from tests.conftest import CliResult
from tests.helpers import accounts as _cheap_hashing  # noqa: F401 — argon2 at test cost


def test_orgs_users_and_tokens_from_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    assert cli("orgs", "add", "lab", "--vetted").code == 0
    assert cli("orgs", "add", "red", "--partner", "lab").code == 0
    orgs = json.loads(cli("orgs", "list", "--json").out)
    assert orgs == [
        {"name": "lab", "vetted": True, "partners": ["red"], "members": 0},
        {"name": "red", "vetted": False, "partners": ["lab"], "members": 0},
    ]
    add = cli("users", "add", "al", "--org", "lab", "--role", "admin", "--password", "s3cret-pw")
    assert add.code == 0
    assert cli("users", "add", "al", "--org", "red", "--role", "viewer").code == 0
    users = json.loads(cli("users", "list", "--json").out)
    assert users == [{"name": "al", "active": True, "roles": {"lab": "admin", "red": "viewer"}}]
    members = json.loads(cli("orgs", "members", "red", "--json").out)
    assert members == [{"name": "al", "role": "viewer"}]
    assert cli("users", "passwd", "al", "--password", "another-pw").code == 0

    created: CliResult = cli("tokens", "create", "--user", "al", "--read-only")
    assert created.code == 0
    secret = created.out.split()[-1]
    assert secret.startswith("qm_") and len(secret) > 40
    listed = json.loads(cli("tokens", "list", "--json").out)
    assert len(listed) == 1 and listed[0]["read_only"] and secret not in json.dumps(listed)
    assert listed[0]["last_used_at"] is None  # never used yet
    assert "never" in cli("tokens", "list").out
    assert cli("tokens", "revoke", listed[0]["id"]).code == 0
    assert json.loads(cli("tokens", "list", "--json").out)[0]["revoked"] is True


def test_account_errors_are_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    assert cli("orgs", "add", "lab").code == 0
    bad_role = cli(
        "users", "add", "bo", "--org", "lab", "--role", "boss", "--password", "pw-123456"
    )
    assert bad_role.code == 1 and "unknown role 'boss'" in bad_role.err
    no_org = cli("orgs", "members", "nope")
    assert no_org.code == 1 and "no organisation 'nope'" in no_org.err
    short = cli("users", "add", "bo", "--org", "lab", "--role", "viewer", "--password", "x")
    assert short.code == 1 and "at least 8" in short.err
    assert "Traceback" not in bad_role.err + no_org.err + short.err


def test_demo_accounts_step_is_repeatable_and_hands_over_the_password(
    db: Database, tmp_path: Path
) -> None:
    from qianmo.cli import accounts, serve

    ctx = DemoContext(db=db, settings=Settings(home=tmp_path), console=Console(), serve=False)
    accounts.demo_step(ctx)
    first = ctx.state["admin_password"]
    accounts.demo_step(ctx)  # a second demo run: nothing duplicated, a fresh password
    second = ctx.state["admin_password"]
    with db.write() as s:
        orgs = {o.name: o for o in list_orgs(s)}
        assert set(orgs) == {name for name, _, _ in accounts.DEMO_ORGS}
        assert [o for o in orgs.values() if o.vetted] == [orgs["qianmo-lab"]]
        assert orgs["red-sec"].partners == ["qianmo-lab"]
        assert authenticate(s, "admin", second) is not None
        assert authenticate(s, "admin", first) is None
        # "all with the admin's password": the annotators too, on the second run as well
        assert authenticate(s, "dave", second) is not None
        for name, _, _ in accounts.DEMO_USERS:  # every one of them, and none keeps the first
            assert authenticate(s, name, second) is not None, name
            assert authenticate(s, name, first) is None, name
        assert load_viewer(s, "admin").roles == {"qianmo-lab": "admin"}
    serve.demo_step(ctx)  # ctx.serve is False (`--no-serve`): returns at once


def test_sessions_from_the_command_line(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    assert cli("orgs", "add", "lab").code == 0
    assert cli("users", "add", "al", "--org", "lab", "--role", "viewer", "--password", "pw-123456")
    db = Database(f"sqlite:///{workspace_home / 'qianmo.db'}")
    with db.write() as s:
        start_session(s, "al", ttl_s=3600)
        start_session(s, "al", ttl_s=3600)
    assert len(json.loads(cli("users", "sessions", "al", "--json").out)) == 2
    revoked = cli("users", "sessions", "al", "--revoke")
    assert revoked.code == 0 and "2 browser session(s) ended" in revoked.out
    assert json.loads(cli("users", "sessions", "al", "--json").out) == []
    with db.write() as s:
        start_session(s, "al", ttl_s=3600)
    passwd = cli("users", "passwd", "al", "--password", "another-pw")
    assert passwd.code == 0 and "1 browser session(s) ended" in passwd.out
    db.dispose()
