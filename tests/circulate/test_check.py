"""Checks over the store: share-alike settling, the audit entry, outright refusals, the CLI."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from qianmo.circulate import check, decide, evaluate, refusal
from qianmo.errors import QianmoError
from qianmo.settings import get_settings
from qianmo.standard import Record
from qianmo.store import ArtifactRow, AuditRow, Database, add_records, open_workspace
from tests.conftest import CliResult
from tests.helpers.circulate import accepted, add_orgs, request


def _add(db: Database, records: list[Record]) -> None:
    with db.write() as s:
        add_records(s, records, actor="test")


def test_share_alike_licence_is_chosen_and_conflicts_left_out(db: Database) -> None:
    add_orgs(db)
    licences = ["CC-BY-SA-4.0", "CC-BY-SA-4.0", "ODbL-1.0", "MIT", "CC-BY-NC-4.0"]
    records = [accepted(source={"license": lic}) for lic in licences]
    _add(db, records)
    report = evaluate(db, request())
    assert report.request.license == "CC-BY-SA-4.0"
    assert report.license_expression() == "CC-BY-SA-4.0"
    kept = {m.id for m in report.members}
    assert kept == {records[0].id, records[1].id, records[3].id}
    assert {d.rule for d in report.denied} == {"license.share_alike"}
    for rec in records:  # the settled report agrees with decide() under the final request
        assert decide(rec, report.request).allowed == (rec.id in kept)


def test_licence_expression_and_attribution_without_share_alike(db: Database) -> None:
    add_orgs(db)
    _add(db, [accepted(source={"license": "MIT"}), accepted(source={"license": "CC0-1.0"})])
    report = evaluate(db, request())
    assert report.license_expression() == "CC0-1.0 AND MIT"
    assert [a["license"] for a in report.attributions()] == ["MIT"]


def test_check_writes_one_audit_entry_with_the_decision_table(db: Database) -> None:
    add_orgs(db)
    _add(db, [accepted() for _ in range(3)] + [accepted(status="withdrawn")])
    report = check(db, request(), actor="tester")
    assert len(report.members) == 3 and [d.rule for d in report.denied] == ["status.withdrawn"]
    with db.read() as s:
        entries = s.execute(select(AuditRow).where(AuditRow.action == "release.check")).scalars()
        (entry,) = list(entries)
        art = s.get(ArtifactRow, entry.artifact)
        assert art is not None
        table = gzip.decompress(art.data)
    assert entry.digest == report.decision_digest == hashlib.sha256(table).hexdigest()
    lines = table.splitlines()
    assert orjson.loads(lines[0])["request"]["name"] == "rel"
    assert len(lines) == 5 and b"status.withdrawn" in table and b"document" not in table


def test_unknown_audience_is_an_error(db: Database) -> None:
    add_orgs(db)
    with pytest.raises(QianmoError, match="no organisation 'org-z'"):
        evaluate(db, request("org:org-z"))
    with pytest.raises(QianmoError, match="no user 'zed'"):
        evaluate(db, request("user:zed"))


@pytest.mark.parametrize(
    ("filters", "audience", "refused"),
    [
        (["tlp=RED"], "members", "tlp.red"),
        (["status=raw,withdrawn"], "members", "status"),
        (["classification=core"], "org:org-a", "classification.core"),
        (["tlp=AMBER"], "members", "tlp.audience"),
        (["tlp=AMBER"], "org:org-b", None),
        (["tlp=AMBER", "org=org-c"], "org:org-b", "tlp.audience"),
        (["tlp=GREEN,RED"], "members", None),
        (["kind=qa"], "public", None),
    ],
)
def test_outright_refusals(filters: list[str], audience: str, refused: str | None) -> None:
    reason = refusal(request(audience, filters=tuple(filters)))
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


def _workspace_with_records(cli, records: list[Record]) -> Database:  # type: ignore[no-untyped-def]
    assert cli("init").code == 0
    db = open_workspace(get_settings())
    add_orgs(db)
    _add(db, records)
    return db


def test_cli_check_lists_left_out_records_by_rule(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    payload = accepted(
        quality={"flags": {"payload": {"resolved": False}}},
        content={"text": "<script>alert(1)</script> [bold]x[/bold]"},
    )
    green = accepted(source={"tlp": "GREEN"})
    _workspace_with_records(cli, [accepted(), payload, green])
    res: CliResult = cli("release", "check", "r1", "--audience", "public", "--use", "research")
    assert res.code == 0, res.err
    assert "1 released" in res.out and "2 left out" in res.out
    assert f"{payload.id}  payload-flagged" in res.out and "tlp.audience" in res.out
    res = cli("release", "check", "r1", "--audience", "vetted", "--use", "research", "--json")
    data = orjson.loads(res.out)
    assert data["released"] == 3 and data["left_out"] == {} and data["refused"] is None


def test_cli_check_refuses_outright(cli, workspace_home: Path) -> None:  # type: ignore[no-untyped-def]
    _workspace_with_records(cli, [accepted(source={"tlp": "RED"}, restrictions=["user:alice"])])
    args = ["release", "check", "r", "--audience", "members", "--use", "research"]
    res = cli(*args, "--filter", "tlp=RED")
    assert res.code == 1 and "tlp.red" in res.err and len(res.err.strip().splitlines()) == 1
    res = cli(*args)  # no filter, but everything selected is left out
    assert res.code == 1 and "leave out all 1 selected" in res.err
    res = cli("release", "check", "r", "--audience", "everyone", "--use", "research")
    assert res.code == 1 and "audience" in res.err
