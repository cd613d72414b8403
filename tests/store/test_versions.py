"""Batched versions and hierarchy removals, as a sync writes them."""

from __future__ import annotations

import pytest

from qianmo.errors import NotFound
from qianmo.standard import LineageStep
from qianmo.store import (
    Database,
    add_records,
    add_relations,
    all_relations,
    audit_entries,
    get_record,
    get_versions,
    remove_relations_of,
    save_edits,
)
from tests.helpers.records import make_record


def test_save_edits_writes_each_edit_and_one_audit_entry(db: Database) -> None:
    a, b = make_record(), make_record()
    with db.write() as s:
        add_records(s, [a, b], actor="t")
    a2 = a.model_copy(update={"content": {"text": "a, second"}})
    a3 = a.model_copy(update={"content": {"text": "a, third"}})
    b2 = b.model_copy(update={"tags": ["edited"]})
    step = LineageStep(type="import", name="test")
    with db.write() as s:
        saved = save_edits(s, [(a2, step), (b2, None), (a3, None)], actor="sync", change="x.up")
    assert [(r.id, r.version) for r in saved] == [(a.id, 2), (b.id, 2), (a.id, 3)]
    with db.read() as s:
        assert [v.content["text"] for v in get_versions(s, a.id)] == [
            a.content["text"],
            "a, second",
            "a, third",
        ]
        assert get_record(s, a.id).version == 3 and get_record(s, b.id).tags == ["edited"]
        assert get_versions(s, a.id)[1].lineage.steps[-1].name == "test"
        assert len(audit_entries(s, action="x.up")) == 1


def test_save_edits_of_an_unknown_record_writes_nothing(db: Database) -> None:
    held, ghost = make_record(), make_record()
    with db.write() as s:
        add_records(s, [held], actor="t")
    with pytest.raises(NotFound), db.write() as s:
        save_edits(s, [(held, None), (ghost, None)], actor="t", change="x")
    with db.read() as s:
        assert get_record(s, held.id).version == 1
        assert save_edits(s, [], actor="t", change="x") == []


def test_remove_relations_of_many_children(db: Database) -> None:
    edges = [
        ("cwe", "CWE-79", "ChildOf", "CWE-74"),
        ("cwe", "CWE-89", "ChildOf", "CWE-74"),
        ("attack", "CWE-79", "tactic-of", "TA0001"),  # same child, other scheme: kept
        ("cwe", "CWE-120", "ChildOf", "CWE-119"),
    ]
    with db.write() as s:
        add_relations(s, edges)
        assert remove_relations_of(s, [("cwe", "CWE-79"), ("cwe", "CWE-89"), ("cwe", "x")]) == 2
    with db.read() as s:
        assert sorted(all_relations(s)) == sorted([edges[2], edges[3]])


def test_add_relations_counts_only_new_edges_across_schemes(db: Database) -> None:
    first = [("cwe", f"CWE-{n}", "ChildOf", "CWE-1") for n in range(2, 5)]  # 3: a padded list
    more = [*first[:2], ("cwe", "CWE-9", "ChildOf", "CWE-1"), ("attack", "T1", "tactic-of", "TA1")]
    with db.write() as s:
        assert add_relations(s, first, source="cwe") == 3
        assert add_relations(s, more, source="cwe") == 2
        assert add_relations(s, more) == 0
    with db.read() as s:
        assert sorted(all_relations(s)) == sorted({*first, *more})


def test_add_records_finds_held_keys_per_source_and_by_content(db: Database) -> None:
    held = [make_record(source={"name": "src", "original_id": k}) for k in "abc"]
    with db.write() as s:
        assert add_records(s, held, actor="t").added == [r.id for r in held]
    again = [make_record(source={"name": "src", "original_id": k}) for k in "abcd"]
    elsewhere = make_record(source={"name": "other", "original_id": "a"})
    with db.write() as s:
        result = add_records(s, [*again, elsewhere], actor="t")
    assert result.duplicates == [r.id for r in again[:3]]
    assert result.added == [again[3].id, elsewhere.id]  # the same original id in another source
    # a record without an original id is held by its content
    c = make_record(source={"name": "src"}, content={"text": "no original id"})
    same = make_record(source={"name": "src"}, content={"text": "no original id"})
    with db.write() as s:
        assert add_records(s, [c], actor="t").added == [c.id]
        assert add_records(s, [same], actor="t").duplicates == [same.id]
