"""Releases: splits that keep roots and clusters whole, immutability, diffs, withdrawn records."""

from __future__ import annotations

from collections import defaultdict

import pytest

from qianmo.circulate import create_release, diff_releases, get_release, snapshot
from qianmo.circulate._release import members_digest
from qianmo.errors import PolicyRefused, QianmoError
from qianmo.standard import Record, Status
from qianmo.store import Database, add_records, save_version, set_status
from tests.helpers.circulate import accepted, add_orgs, request

DOMAINS = ("vuln", "threat", "appsec")
KINDS = ("document", "qa", "mcq")


def corpus(n: int = 240) -> list[Record]:
    """Records in several strata; every 3 share a lineage root, every 7 a duplicate cluster."""
    out = []
    for i in range(n):
        flags = {"duplicate": {"cluster": f"c{i // 7}", "representative": "x", "resolved": True}}
        out.append(
            accepted(
                KINDS[i % 3],
                domain=DOMAINS[(i // 3) % 3],
                lang="zh" if i % 5 == 0 else "en",
                lineage={"root": f"root-{i // 3}"},
                quality={"score": 0.5 + (i % 5) / 10, "flags": flags if i % 4 == 0 else {}},
                eval_only=i % 17 == 0,
            )
        )
    return out


def load(db: Database, records: list[Record]) -> None:
    add_orgs(db)
    with db.write() as s:
        add_records(s, records, actor="test")


def test_roots_and_clusters_never_straddle_splits(db: Database) -> None:
    records = corpus()
    load(db, records)
    result = create_release(db, request(), "1.0.0", actor="t")
    assert all(result["splits"][s] > 0 for s in ("train", "validation", "test"))
    assert 0.65 < result["splits"]["train"] / result["records"] < 0.9
    with db.read() as s:
        split = {m.record_id: m.split for m in snapshot(s, result["id"])}
    by_record = {r.id: r for r in records}
    groups: dict[str, set[str]] = defaultdict(set)
    for rid, sp in split.items():
        rec = by_record[rid]
        groups[f"root:{rec.lineage.root}"].add(sp)
        if "duplicate" in rec.quality.flags:
            groups[f"cluster:{rec.quality.flags['duplicate']['cluster']}"].add(sp)
        if rec.eval_only:
            assert sp != "train"
    assert all(len(s) == 1 for s in groups.values()), "a root or cluster straddles splits"


def test_splits_are_deterministic_and_seeded(db: Database) -> None:
    load(db, corpus(120))
    a = create_release(db, request(), "1.0.0", actor="t")
    b = create_release(db, request(), "1.0.1", actor="t")
    assert a["members_digest"] == b["members_digest"]
    # Another seed deals the groups out differently; any single seed can, by chance, deal this
    # small corpus the same way (it did, about one run in six), five in a row hardly ever.
    others = {
        create_release(db, request(seed=seed), f"1.0.{seed}", actor="t")["members_digest"]
        for seed in range(2, 7)
    }
    assert others - {a["members_digest"]}


def test_releases_are_immutable_and_refusals_build_nothing(db: Database) -> None:
    load(db, [accepted(), accepted(source={"tlp": "RED"}, restrictions=["user:alice"])])
    create_release(db, request(), "1.0.0", actor="t")
    with pytest.raises(QianmoError, match="immutable"):
        create_release(db, request(), "1.0.0", actor="t")
    with pytest.raises(PolicyRefused, match=r"tlp\.red"):
        create_release(db, request(filters=("tlp=RED",)), "2.0.0", actor="t")
    with pytest.raises(QianmoError, match=r"X\.Y\.Z"):
        create_release(db, request(), "1.0", actor="t")
    with db.read() as s:
        assert get_release(s, "rel").version == "1.0.0"


def test_withdrawn_never_enters_and_diff_shows_changes(db: Database) -> None:
    records = [accepted() for _ in range(4)]
    load(db, records)
    create_release(db, request(), "1.0.0", actor="t")
    with db.write() as s:
        set_status(s, [records[0].id], Status.WITHDRAWN, reason="contributor", actor="org-a")
        edited = records[1].model_copy(update={"content": {"text": "A corrected note."}})
        save_version(s, edited, actor="t", change="records.edit")
        add_records(s, [extra := accepted()], actor="t")
    second = create_release(db, request(), "1.1.0", actor="t")
    with db.read() as s:
        assert records[0].id not in {m.record_id for m in snapshot(s, second["id"])}
        diff = diff_releases(s, "rel@1.0.0", "rel")
    assert diff.added == [extra.id] and diff.removed == [records[0].id]
    assert [c["id"] for c in diff.changed] == [records[1].id]
    assert diff.changed[0]["content_changed"] and diff.unchanged + len(diff.moved) == 2
    assert second["left_out"] == {"status.withdrawn": 1}


def test_evaluation_only_release_is_all_held_out(db: Database) -> None:
    load(db, corpus(30))
    result = create_release(db, request(use="evaluation-only"), "1.0.0", actor="t")
    assert result["splits"] == {"train": 0, "validation": 0, "test": result["records"]}


def _stored_as_digested(db: Database, version: str) -> list[str]:
    """A new release's stored member ids, checked against its members digest."""
    result = create_release(db, request(), version, actor="t")
    with db.read() as s:
        stored = snapshot(s, result["id"])
    assert len(stored) == result["records"]
    assert members_digest(stored) == result["members_digest"]
    return [m.record_id for m in stored]


def test_stored_members_are_what_the_members_digest_says(db: Database) -> None:
    # the digest is hashed from the check's columns and the rows go in as JSON arrays the
    # database reads: both must give the same rows, also for an id JSON escapes (its page goes
    # row by row)
    load(db, corpus(60))
    _stored_as_digested(db, "1.0.0")
    odd = accepted(id='odd"\\id')
    with db.write() as s:
        add_records(s, [odd], actor="t")
    assert odd.id in _stored_as_digested(db, "1.1.0")
