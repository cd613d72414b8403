"""Accounts in the store: organisations, partners, users, roles and API tokens."""

from __future__ import annotations

import pytest

from qianmo.errors import NotFound, QianmoError
from qianmo.store import (
    Database,
    UserRow,
    audit_entries,
    authenticate,
    create_org,
    create_token,
    create_user,
    list_orgs,
    list_tokens,
    list_users,
    load_viewer,
    permits,
    revoke_token,
    role_table,
    set_membership,
    set_password,
    user_for_token,
)
from tests.helpers.accounts import PASSWORD, make_world


def test_passwords_are_argon2_hashes_and_verify(db: Database) -> None:
    make_world(db)
    with db.read() as s:
        row = s.query(UserRow).filter_by(name="a-admin").one()
        assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash
    with db.write() as s:
        assert authenticate(s, "a-admin", PASSWORD) is not None
        assert authenticate(s, "a-admin", "wrong-password") is None
        assert authenticate(s, "nobody", PASSWORD) is None
        set_password(s, "a-admin", "a-new-password", actor="t")
    with db.write() as s:
        assert authenticate(s, "a-admin", PASSWORD) is None
        assert authenticate(s, "a-admin", "a-new-password") is not None


def test_partners_are_mutual_and_shape_the_viewer(db: Database) -> None:
    make_world(db)
    with db.read() as s:
        orgs = {o.name: o for o in list_orgs(s)}
        assert orgs["org-a"].partners == ["org-b"] and orgs["org-b"].partners == ["org-a"]
        assert orgs["org-a"].vetted and not orgs["org-b"].vetted
        viewer = load_viewer(s, "b-viewer")
    assert viewer.orgs == {"org-b"} and viewer.partner_orgs == {"org-a"}


def test_memberships_roles_and_bad_input(db: Database) -> None:
    make_world(db)
    with db.write() as s:
        set_membership(s, "c-viewer", "org-a", "reviewer", actor="t")
        with pytest.raises(QianmoError, match="unknown role"):
            set_membership(s, "c-viewer", "org-a", "boss", actor="t")
        with pytest.raises(QianmoError, match="exists"):
            create_org(s, "org-a", actor="t")
        with pytest.raises(QianmoError, match="name"):
            create_user(s, "bad name<script>", actor="t", password=PASSWORD)
        with pytest.raises(QianmoError, match="at least"):
            create_user(s, "shorty", actor="t", password="123")
        with pytest.raises(NotFound):
            set_membership(s, "ghost", "org-a", "viewer", actor="t")
    with db.read() as s:
        roles = {u.name: u.roles for u in list_users(s)}
        assert roles["c-viewer"] == {"org-a": "reviewer", "org-c": "viewer"}
        assert [u.name for u in list_users(s, org="org-c")] == ["c-viewer"]


def test_role_table_is_enforced_per_organisation(db: Database) -> None:
    make_world(db)
    with db.read() as s:
        admin, viewer = load_viewer(s, "a-admin"), load_viewer(s, "a-viewer")
        reviewer = load_viewer(s, "a-reviewer")
    assert permits(admin, "audit.read") and not permits(viewer, "audit.read")
    assert permits(reviewer, "records.review", "org-a")
    assert not permits(reviewer, "records.review", "org-b")  # the role is held in org-a only
    assert not permits(reviewer, "records.edit", "org-a")
    assert role_table()["viewer"] == frozenset()
    with pytest.raises(QianmoError, match="unknown permission"):
        permits(admin, "records.delete")


def test_tokens_are_stored_hashed_scoped_and_revocable(db: Database) -> None:
    make_world(db)
    with db.write() as s:
        row, secret = create_token(s, "a-viewer", actor="t", name="ci", read_only=True)
    with db.read() as s:
        assert secret not in str(s.get(type(row), row.id).token_hash)  # type: ignore[union-attr]
        found = user_for_token(s.connection(), secret)
        assert found is not None and found.user == "a-viewer" and found.read_only
        assert user_for_token(s.connection(), secret + "x") is None
        assert [t.name for t in list_tokens(s, user="a-viewer")] == ["ci"]
    with db.write() as s:
        with pytest.raises(NotFound):  # someone else's token looks absent
            revoke_token(s, row.id, actor="t", user="a-admin")
        revoke_token(s, row.id, actor="t", user="a-viewer")
    with db.read() as s:
        assert user_for_token(s.connection(), secret) is None
        actions = [e.action for e in audit_entries(s)]
    assert "token.create" in actions and "token.revoke" in actions


def test_a_token_is_looked_up_on_a_bare_connection_and_its_revocation_holds(db: Database) -> None:
    # What every API request does (`Database.lookup_connection`): no session around the query.
    make_world(db)
    with db.write() as s:
        row, secret = create_token(s, "a-viewer", actor="t")
    with db.lookup_connection() as conn:
        found = user_for_token(conn, secret)
        assert found is not None and found.user == "a-viewer" and not found.read_only
        assert user_for_token(conn, secret + "x") is None
    with db.write() as s:
        revoke_token(s, row.id, actor="t", user="a-viewer")
    with db.lookup_connection() as conn:
        assert user_for_token(conn, secret) is None
