"""`qianmo users|orgs|tokens` and the demo's accounts step."""

from __future__ import annotations

import json

from tests.conftest import CliResult


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
