"""Claim, submit, leases, skip and discard, blind labelling, gold scoring, review, write-back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from qianmo.annotate import (
    add_question,
    claim,
    export_rows,
    let_go,
    mark_gold,
    parse_spec,
    progress,
    review_queue,
    settle,
    submit,
    visible_labels,
)
from qianmo.annotate._cache import CampaignInfo
from qianmo.annotate._claim import claim_statement
from qianmo.annotate._config import CampaignConfig
from qianmo.errors import PolicyRefused, QianmoError
from qianmo.standard import LineageStep, Record, Status, utcnow
from qianmo.store import (
    AnnotationLabelRow,
    AnnotationQuestionRow,
    Database,
    Viewer,
    get_record,
    get_versions,
)
from tests.helpers.annotate import add_corpus, add_people, make_campaign


def _label_all(db: Database, campaign: str, people: dict[str, Any]) -> None:
    """Each person labels until nothing is left for them, always with their fixed answer(s)."""
    for who, answer in people.items():
        while (task := claim(db, campaign, who)) is not None:
            answers = {
                q.name: answer[q.name] if isinstance(answer, dict) else answer
                for q in task.questions
            }
            submit(db, task.assignment_id, who, answers)


def _written_back(db: Database, rid: str) -> tuple[Record, LineageStep]:
    """The record as the campaign left it, and the last lineage step of its newest version."""
    with db.read() as s:
        versions = get_versions(s, rid)
        return get_record(s, rid), versions[-1].lineage.steps[-1]


def test_each_item_gets_exactly_k_labels_from_distinct_people(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob", "cat", "dan")
    add_corpus(db, 4)
    make_campaign(db, overlap=3)
    _label_all(db, "c1", {"ann": "yes", "bob": "yes", "cat": "yes", "dan": "yes"})
    with db.read() as s:
        rows = s.execute(
            select(
                AnnotationLabelRow.item_id,
                func.count(),
                func.count(AnnotationLabelRow.annotator_id.distinct()),
            ).group_by(AnnotationLabelRow.item_id)
        ).all()
    assert len(rows) == 4 and all(n == 3 and people == 3 for _, n, people in rows)
    p = progress(db, "c1")
    assert p.done and p.items == {"settled": 4} and p.labels == 12
    assert sum(a["labelled"] for a in p.annotators) == 12


def test_each_label_stores_its_own_question_s_answer(db: Database) -> None:
    # On PostgreSQL the labels are written by one statement joining the filled slots to the
    # answers given (`_counted`): each answer must land on its own question's slot.
    add_people(db, "annotator", "ann")
    add_corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", "quality:rating[1-5]", "note:text", overlap=1)
    task = claim(db, "c1", "ann")
    assert task is not None
    answers = {"correct": "no", "quality": "4", "note": 'a "quoted" note'}
    done = submit(db, task.assignment_id, "ann", answers, duration_ms=1234)
    assert done.labels == 3
    with db.read() as s:
        rows = s.execute(
            select(
                AnnotationQuestionRow.name,
                AnnotationLabelRow.answer,
                AnnotationLabelRow.duration_ms,
                AnnotationLabelRow.state,
                AnnotationLabelRow.assignment_id,
            ).join(
                AnnotationQuestionRow, AnnotationQuestionRow.id == AnnotationLabelRow.question_id
            )
        ).all()
    assert {r.name: r.answer for r in rows} == {
        "correct": "no",
        "quality": 4,
        "note": 'a "quoted" note',
    }
    assert {(r.duration_ms, r.state, r.assignment_id) for r in rows} == {
        (1234, "counted", task.assignment_id)
    }


def test_agreed_items_are_accepted_with_reasons_naming_people(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    (rid,) = add_corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", overlap=2, reject_if=["correct=no"])
    _label_all(db, "c1", {"ann": "no", "bob": "no"})
    with db.read() as s:
        rec = get_record(s, rid)
    assert rec.status is Status.REJECTED
    assert rec.status_reason == "campaign c1: agreed by ann, bob"


def test_an_agreed_rewrite_is_written_back_by_the_last_submit(db: Database) -> None:
    # the settle that a submit runs for a question type that edits the record (`EDITING`)
    add_people(db, "annotator", "ann", "bob")
    (rid,) = add_corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", "fix:rewrite[answer]", overlap=2)
    _label_all(
        db,
        "c1",
        {"ann": {"correct": "yes", "fix": "Agreed."}, "bob": {"correct": "yes", "fix": "Agreed."}},
    )
    rec, step = _written_back(db, rid)
    assert rec.status is Status.ACCEPTED and rec.content["answer"] == "Agreed."
    assert (step.type, step.name) == ("campaign", "c1")
    assert step.detail["annotators"] == ["ann", "bob"] and step.detail["reviewer"] is None
    assert progress(db, "c1").items.get("settled") == 1


def test_a_live_lease_returns_the_same_item_and_an_expired_one_returns_it(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_corpus(db, 1)
    make_campaign(db, overlap=1, lease_seconds=60)
    first = claim(db, "c1", "ann")
    assert first is not None
    again = claim(db, "c1", "ann")
    assert again is not None and again.assignment_id == first.assignment_id
    assert claim(db, "c1", "bob") is None  # the only slot is leased to ann
    later = utcnow() + timedelta(seconds=61)
    taken = claim(db, "c1", "bob", now=later)
    assert taken is not None and taken.item_id == first.item_id
    with pytest.raises(QianmoError, match="lease expired"):
        submit(db, first.assignment_id, "ann", {"correct": "yes"})
    submit(db, taken.assignment_id, "bob", {"correct": "yes"})
    assert progress(db, "c1").done


def test_skip_comes_back_and_discard_never_does(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_corpus(db, 2)
    make_campaign(db, overlap=1)
    t1 = claim(db, "c1", "ann")
    assert t1 is not None
    let_go(db, t1.assignment_id, "ann", discard=False)
    t2 = claim(db, "c1", "ann")
    assert t2 is not None and t2.item_id != t1.item_id  # the skipped one goes last
    let_go(db, t2.assignment_id, "ann", discard=True)
    t3 = claim(db, "c1", "ann")
    assert t3 is not None and t3.item_id == t1.item_id  # skipped comes back
    submit(db, t3.assignment_id, "ann", {"correct": "yes"})
    assert claim(db, "c1", "ann") is None  # the discarded item left ann's queue
    t4 = claim(db, "c1", "bob")  # and did not count towards k: bob gets it
    assert t4 is not None and t4.item_id == t2.item_id
    with pytest.raises(QianmoError, match="already discarded"):
        let_go(db, t2.assignment_id, "ann", discard=False)


def test_labelling_is_blind_until_you_submit(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_people(db, "reviewer", "rev")
    add_corpus(db, 1)
    make_campaign(db, overlap=2)
    ta = claim(db, "c1", "ann")
    assert ta is not None
    submit(db, ta.assignment_id, "ann", {"correct": "yes"})
    tb = claim(db, "c1", "bob")
    assert tb is not None and tb.item_id == ta.item_id
    assert not hasattr(tb, "labels")
    with pytest.raises(PolicyRefused, match="hidden"):
        visible_labels(db, "c1", tb.item_id, "bob")
    submit(db, tb.assignment_id, "bob", {"correct": "no"})
    assert {v.annotator for v in visible_labels(db, "c1", tb.item_id, "bob")} == {"ann", "bob"}
    assert len(visible_labels(db, "c1", tb.item_id, "rev")) == 2


def test_nobody_labels_an_item_twice_even_through_the_database(db: Database) -> None:
    add_people(db, "annotator", "ann")
    add_corpus(db, 1)
    make_campaign(db, overlap=3)
    task = claim(db, "c1", "ann")
    assert task is not None
    submit(db, task.assignment_id, "ann", {"correct": "yes"})
    assert claim(db, "c1", "ann") is None
    with pytest.raises(QianmoError, match="already submitted"):
        submit(db, task.assignment_id, "ann", {"correct": "yes"})
    # The constraint refuses what Python would not even try.
    with db.read() as s:
        label = s.execute(select(AnnotationLabelRow)).scalar_one()
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.write() as s:
        s.add(
            AnnotationLabelRow(
                id="x" * 26,
                campaign_id=label.campaign_id,
                item_id=label.item_id,
                question_id=label.question_id,
                slot=1,
                annotator_id=label.annotator_id,
                assignment_id="a",
                answer="no",
            )
        )


def _gold_campaign(db: Database, n_gold: int, **options: object) -> list[str]:
    ids = add_corpus(db, 20 + n_gold)
    make_campaign(db, overlap=2, gold_rate=0.5, gold_min=4, **options)
    for rid in ids[20:]:
        mark_gold(db, "c1", rid, {"correct": "yes"}, actor="maintainer")
    return ids


def test_a_bad_annotator_is_paused_and_their_pending_labels_held(db: Database) -> None:
    add_people(db, "annotator", "bad", "good", "fine")
    _gold_campaign(db, 6)
    with pytest.raises(PolicyRefused, match="paused"):
        _label_all(db, "c1", {"bad": "no"})
    p = progress(db, "c1")
    bad = next(a for a in p.annotators if a["annotator"] == "bad")
    assert bad["status"] == "paused" and bad["gold_seen"] == 4 and bad["gold_correct"] == 0
    rows = list(export_rows(db, "c1"))
    assert not any(lab["state"] == "counted" for r in rows for lab in r["labels"])
    held = [lab for r in rows for lab in r["labels"] if lab["state"] == "held"]
    assert held and all(lab["annotator"] == "bad" for lab in held)
    assert p.items.get("settled", 0) == 0  # nothing bad labelled was written back
    _label_all(db, "c1", {"good": "yes", "fine": "yes"})
    assert progress(db, "c1").items["settled"] == 20
    rows = [r for r in export_rows(db, "c1") if not r["gold"]]
    assert all(len([x for x in r["labels"] if x["state"] == "counted"]) == 2 for r in rows)


def test_qualification_comes_first(db: Database) -> None:
    add_people(db, "annotator", "new", "dud")
    ids = add_corpus(db, 5)
    make_campaign(db, overlap=1, qualification=2)
    for rid in ids[:2]:
        mark_gold(db, "c1", rid, {"correct": "yes"}, actor="m", qualification=True)
    for who, answer, status in (("new", "yes", "active"), ("dud", "no", "failed")):
        for _ in range(2):
            task = claim(db, "c1", who)
            assert task is not None and task.record.id in ids[:2]
            result = submit(db, task.assignment_id, who, {"correct": answer})
        assert result.annotator_status == status
    assert claim(db, "c1", "new") is not None
    with pytest.raises(PolicyRefused):
        claim(db, "c1", "dud")


def test_review_settles_a_disagreement_by_someone_else(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_people(db, "reviewer", "rev", "ann2")
    (rid,) = add_corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", "fix:rewrite[answer]", overlap=2)
    for who, ans in (("ann", "yes"), ("bob", "no")):
        task = claim(db, "c1", who)
        assert task is not None
        submit(db, task.assignment_id, who, {"correct": ans, "fix": ""})
    (item,) = review_queue(db, "c1", "rev")
    assert {v.annotator for v in item.labels} == {"ann", "bob"}
    with pytest.raises(PolicyRefused, match="may not take part"):
        settle(db, "c1", item.item_id, "ann", "accept")  # an annotator, not a reviewer
    settle(
        db, "c1", item.item_id, "rev", "correct", {"correct": "yes", "fix": "A corrected answer."}
    )
    rec, step = _written_back(db, rid)
    assert rec.status is Status.ACCEPTED and rec.content["answer"] == "A corrected answer."
    assert (step.type, step.name) == ("campaign", "c1")
    assert step.detail["annotators"] == ["ann", "bob"] and step.detail["reviewer"] == "rev"
    assert review_queue(db, "c1", "ann2") == []


def test_a_reviewer_cannot_review_an_item_they_labelled(db: Database) -> None:
    add_people(db, "reviewer", "rev", "rev2")
    add_people(db, "annotator", "ann")
    (rid,) = add_corpus(db, 1)
    make_campaign(db, overlap=2)
    for who, ans in (("rev", "yes"), ("ann", "no")):
        task = claim(db, "c1", who)
        assert task is not None
        submit(db, task.assignment_id, who, {"correct": ans})
    assert review_queue(db, "c1", "rev") == []
    (item,) = review_queue(db, "c1", "rev2")
    with pytest.raises(PolicyRefused, match="labelled this item"):
        settle(db, "c1", item.item_id, "rev", "accept")
    settle(db, "c1", item.item_id, "rev2", "reject")
    with db.read() as s:
        assert get_record(s, rid).status is Status.REJECTED


def test_a_new_question_version_needs_k_more_labels(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_corpus(db, 2)
    make_campaign(db, overlap=2)
    _label_all(db, "c1", {"ann": "yes", "bob": "yes"})
    assert progress(db, "c1").done
    assert add_question(db, "c1", parse_spec("quality:rating[1-3]"), actor="m") == 1
    assert add_question(db, "c1", parse_spec("correct:choice[yes,no,unsure]"), actor="m") == 2
    p = progress(db, "c1")
    assert not p.done and {q["name"]: q["needed"] for q in p.questions} == {
        "correct": 4,
        "quality": 4,
    }
    both = {"correct": "yes", "quality": "2"}
    _label_all(db, "c1", {"ann": both, "bob": both})
    assert progress(db, "c1").done


def test_outsiders_and_the_deadline_are_refused(db: Database) -> None:
    add_people(db, "annotator", "ann")
    add_people(db, "annotator", "out", org="org-b")
    add_people(db, "viewer", "vic")
    add_corpus(db, 1)
    make_campaign(db, orgs=["org-a"])
    with pytest.raises(PolicyRefused):
        claim(db, "c1", "out")
    with pytest.raises(PolicyRefused):
        claim(db, "c1", "vic")
    make_campaign(db, "late", deadline=(utcnow() - timedelta(days=1)).isoformat())
    with pytest.raises(PolicyRefused, match="deadline"):
        claim(db, "late", "ann")


def test_amber_records_only_go_to_those_who_may_see_them(db: Database) -> None:
    add_people(db, "annotator", "inside")
    add_people(db, "annotator", "outside", org="org-b")
    add_corpus(db, 1, source={"tlp": "AMBER+STRICT"})
    make_campaign(db, overlap=2)
    assert claim(db, "c1", "outside") is None
    assert claim(db, "c1", "inside") is not None


def test_one_claim_statement_serves_every_member_on_postgresql() -> None:
    # There the organisations are array parameters (the test above checks each member's are
    # the ones used): members of other organisations do not each build and compile their own.
    info = CampaignInfo("c", "c", "open", CampaignConfig(), (), 0, {})
    a = Viewer("a", orgs=frozenset({"org-a"}))
    b = Viewer("b", orgs=frozenset({"org-b"}), partner_orgs=frozenset({"org-c"}))
    for variant in ("first", "again", "more"):
        pg = claim_statement(info, a, "postgresql", variant)
        assert pg is claim_statement(info, b, "postgresql", variant)
        assert claim_statement(info, a, "sqlite", variant) is not claim_statement(
            info, b, "sqlite", variant
        )


def test_red_records_go_only_to_the_people_they_name(db: Database) -> None:
    # The claim statement is compiled once for everyone in an organisation, the name being a
    # parameter: the person named claims first, so a name baked into it would show the record
    # to the next one. `_` in the name must not match another character either.
    add_people(db, "annotator", "a_n", "abn")
    add_corpus(db, 1, source={"tlp": "RED"}, restrictions=["user:a_n"])
    make_campaign(db, overlap=2)
    assert claim(db, "c1", "a_n") is not None
    assert claim(db, "c1", "abn") is None
