"""Submit-with-next: the submit and the claim of the next item in one transaction, with the
claim's rules unchanged (never an item you labelled, skips come back, discards never do)."""

from __future__ import annotations

import pytest

from qianmo.annotate import claim, let_go, mark_gold, progress, submit, submit_next
from qianmo.errors import QianmoError
from qianmo.store import Database
from tests.helpers.annotate import add_corpus, add_people, make_campaign


def test_each_submit_returns_the_next_item_until_none_is_left(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_corpus(db, 3)
    make_campaign(db, overlap=2)
    for who in ("ann", "bob"):
        task = claim(db, "c1", who)
        seen: list[str] = []
        while task is not None:
            seen.append(task.item_id)
            both = submit_next(db, task.assignment_id, who, {"correct": "yes"})
            assert both.submitted.item_id == seen[-1] and both.submitted.labels == 1
            assert not both.refused
            task = both.task
            if task is not None:
                assert task.item_id not in seen  # never an item they labelled
                again = claim(db, "c1", who)  # a real lease: a claim shows the same one
                assert again is not None and again.assignment_id == task.assignment_id
        assert len(seen) == 3
        assert claim(db, "c1", who) is None
    p = progress(db, "c1")
    assert p.done and p.items["settled"] == 3 and p.labels == 6


def test_skipped_items_come_back_last_and_discarded_ones_never(db: Database) -> None:
    add_people(db, "annotator", "ann")
    add_corpus(db, 3)
    make_campaign(db, overlap=1)
    skipped = claim(db, "c1", "ann")
    assert skipped is not None
    let_go(db, skipped.assignment_id, "ann", discard=False)
    discarded = claim(db, "c1", "ann")
    assert discarded is not None and discarded.item_id != skipped.item_id
    let_go(db, discarded.assignment_id, "ann", discard=True)
    third = claim(db, "c1", "ann")
    assert third is not None and third.item_id not in (skipped.item_id, discarded.item_id)
    back = submit_next(db, third.assignment_id, "ann", {"correct": "no"}).task
    assert back is not None and back.item_id == skipped.item_id
    assert submit_next(db, back.assignment_id, "ann", {"correct": "no"}).task is None


def test_a_refused_submit_claims_nothing(db: Database) -> None:
    add_people(db, "annotator", "ann")
    add_corpus(db, 2)
    make_campaign(db, overlap=1)
    task = claim(db, "c1", "ann")
    assert task is not None
    with pytest.raises(QianmoError, match="'nope'"):
        submit_next(db, task.assignment_id, "ann", {"correct": "nope"})
    again = claim(db, "c1", "ann")  # rolled back as a whole: still the same lease, no other
    assert again is not None and again.assignment_id == task.assignment_id


def test_the_submit_that_pauses_you_is_kept_and_says_why(db: Database) -> None:
    add_people(db, "annotator", "bad")
    ids = add_corpus(db, 26)
    make_campaign(db, overlap=2, gold_rate=0.5, gold_min=4)
    for rid in ids[20:]:
        mark_gold(db, "c1", rid, {"correct": "yes"}, actor="maintainer")
    task = claim(db, "c1", "bad")
    while task is not None:
        both = submit_next(db, task.assignment_id, "bad", {"correct": "no"})
        task = both.task
    assert "paused" in both.refused
    bad = next(a for a in progress(db, "c1").annotators if a["annotator"] == "bad")
    assert bad["status"] == "paused" and bad["gold_seen"] == 4  # the last submit counted


def test_a_lease_of_another_campaign_is_refused_when_one_is_named(db: Database) -> None:
    add_people(db, "annotator", "ann")
    add_corpus(db, 2)
    make_campaign(db, "c1", overlap=1)
    make_campaign(db, "c2", overlap=1)
    task = claim(db, "c1", "ann")
    assert task is not None
    with pytest.raises(QianmoError, match="belongs to campaign c1"):
        submit_next(db, task.assignment_id, "ann", {"correct": "yes"}, campaign="c2")
    assert progress(db, "c1").labels == 0  # rolled back
    both = submit_next(db, task.assignment_id, "ann", {"correct": "yes"}, campaign="c1")
    assert both.submitted.labels == 1 and both.task is not None and both.task.campaign == "c1"


def test_gold_comes_at_the_campaign_s_rate_as_with_separate_claims(db: Database) -> None:
    # The claim after a counted submit works from the annotator's standing as the submit left
    # it (one more labelled, one lease fewer; read with the lease on PostgreSQL): gold items
    # come in the same order as for someone who submits and claims separately.
    add_people(db, "annotator", "ann", "bob")
    ids = add_corpus(db, 12)
    make_campaign(db, overlap=2, gold_rate=0.3, gold_min=50)
    gold = set()
    for rid in ids[8:]:
        mark_gold(db, "c1", rid, {"correct": "yes"}, actor="maintainer")
        gold.add(rid)

    def pattern(who: str, together: bool) -> list[bool]:
        task, kinds = claim(db, "c1", who), []
        while task is not None:
            kinds.append(task.record.id in gold)
            if together:
                task = submit_next(db, task.assignment_id, who, {"correct": "yes"}).task
            else:
                submit(db, task.assignment_id, who, {"correct": "yes"})
                task = claim(db, "c1", who)
        return kinds

    separate = pattern("ann", together=False)
    assert separate == pattern("bob", together=True)
    assert sum(separate) == 4 and len(separate) == 12
    assert separate != sorted(separate, reverse=True)  # mixed in, not all first
