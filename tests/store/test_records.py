"""Records in the store: insert, idempotence, versions, status, listing, stats, search."""

from __future__ import annotations

from typing import Any

import pytest

from qianmo.errors import NotFound, QianmoError
from qianmo.standard import Status
from qianmo.store import (
    Database,
    RecordFilter,
    add_records,
    count_records,
    get_record,
    get_versions,
    list_records,
    record_stats,
    restore_records,
    save_version,
    search_records,
    set_status,
)
from tests.helpers.records import make_record


def test_add_is_idempotent_by_original_id_or_content(db: Database) -> None:
    a = make_record(source={"original_id": "x-1"})
    b = make_record()
    with db.write() as s:
        assert add_records(s, [a, b], actor="t").added == [a.id, b.id]
    same_original = make_record(source={"original_id": "x-1"})
    same_content_no_id = make_record(content=b.content)
    other_source = make_record(content=b.content, source={"name": "elsewhere"})
    same_content_new_id = make_record(content=a.content, source={"original_id": "x-2"})
    with db.write() as s:
        result = add_records(
            s, [same_original, same_content_no_id, other_source, same_content_new_id], actor="t"
        )
    assert result.duplicates == [same_original.id, same_content_no_id.id]
    # a distinct submission saying the same thing is kept, for exact dedup to settle openly
    assert result.added == [other_source.id, same_content_new_id.id]


def test_versions_stay_readable(db: Database) -> None:
    rec = make_record()
    with db.write() as s:
        add_records(s, [rec], actor="t")
    rec.content["text"] = "edited text"
    with db.write() as s:
        new = save_version(s, rec, actor="editor", change="records.edit")
    assert new.version == 2
    with db.read() as s:
        versions = get_versions(s, rec.id)
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].content["text"] != "edited text"
        assert get_record(s, rec.id).content["text"] == "edited text"


def test_reject_and_restore(db: Database) -> None:
    rec = make_record()
    with db.write() as s:
        add_records(s, [rec], actor="t")
        set_status(s, [rec.id], Status.REJECTED, reason="near duplicate of X", actor="quality")
    with db.read() as s:
        got = get_record(s, rec.id)
        assert got.status is Status.REJECTED and got.status_reason == "near duplicate of X"
    with db.write() as s:
        restored = restore_records(s, [rec.id], actor="alice")
    assert restored[0].status is Status.NEEDS_REVIEW
    assert restored[0].lineage.steps[-1].name == "alice"
    with db.write() as s, pytest.raises(QianmoError, match="not rejected"):
        restore_records(s, [rec.id], actor="alice")


def test_filters_and_keyset_paging(db: Database) -> None:
    recs = [make_record("qa", lang="zh", domain="vuln.web") for _ in range(5)]
    recs += [make_record("mcq", domain="threat.intel") for _ in range(3)]
    with db.write() as s:
        add_records(s, recs, actor="t")
    with db.read() as s:
        assert count_records(s, RecordFilter.parse(["domain=vuln"])) == 5
        assert count_records(s, RecordFilter.parse(["kind=qa,mcq", "lang=en"])) == 3
        first = list_records(s, limit=4)
        rest = list_records(s, limit=10, after=first[-1].id)
        assert [r.id for r in first + rest] == sorted(r.id for r in recs)
        assert dict(record_stats(s, "domain:top")) == {"vuln": 5, "threat": 3}


def test_filter_errors_name_the_key() -> None:
    with pytest.raises(QianmoError, match="unknown filter key 'colour'"):
        RecordFilter.parse(["colour=red"])
    with pytest.raises(QianmoError, match="KEY=VALUE"):
        RecordFilter.parse(["kind"])


def test_freshness_stats_by_month(db: Database) -> None:
    with db.write() as s:
        add_records(
            s,
            [make_record(published_at=d) for d in ("2024-01-05", "2024-01-20", "2025-03-01")],
            actor="t",
        )
    with db.read() as s:
        assert record_stats(s, "published_at:month") == [("2024-01", 2), ("2025-03", 1)]


@pytest.mark.parametrize(
    "query", ["注入", "跨站脚本攻击", "站脚本", "<script>alert(1)", "cve-2021-44228"]
)
def test_search_finds_chinese_substrings(db: Database, query: str) -> None:
    hit = make_record(
        lang="zh",
        content={"title": "XSS", "text": "反射型跨站脚本攻击与SQL注入：<script>alert(1)</script>"},
        refs={"cve": ["CVE-2021-44228"]},
    )
    miss = make_record(content={"text": "unrelated network note"})
    with db.write() as s:
        add_records(s, [hit, miss], actor="t")
    with db.read() as s:
        assert [r.id for r in search_records(s, query)] == [hit.id]


def test_search_escapes_like_wildcards(db: Database) -> None:
    with db.write() as s:
        add_records(s, [make_record(content={"text": "plain words"})], actor="t")
    with db.read() as s:
        assert search_records(s, "%") == [] and search_records(s, "_") == []


def test_missing_record_is_not_found(db: Database) -> None:
    with db.read() as s, pytest.raises(NotFound):
        get_record(s, "01NOPE")


def test_ids_statement_pads_to_a_power_of_two_and_finds_exactly_the_ids(db: Database) -> None:
    from sqlalchemy import select

    from qianmo.store import PreparedCache, RecordRow, ids_in, ids_statement

    records = [make_record() for _ in range(5)]
    with db.write() as s:
        add_records(s, records, actor="t")
    cache = PreparedCache(4)

    def of(n: int) -> Any:
        return select(RecordRow.id).where(ids_in(RecordRow.id, n))

    ids = [r.id for r in records]
    three, args = ids_statement(cache, of, ids[:3])
    assert len(args) == 4 and args["i3"] == ids[2]  # padded with a repeat
    four, _ = ids_statement(cache, of, ids[:4])
    assert four is three  # one statement for 3 and 4 ids
    with db.read() as s:
        assert {r[0] for r in three.on_session(s, args).rows} == set(ids[:3])
        one, single = ids_statement(cache, of, ids[4:])
        assert len(single) == 1 and [r[0] for r in one.on_session(s, single).rows] == ids[4:]
