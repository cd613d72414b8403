"""Review rules beyond the queue: a reviewer never labels the item they settled (even when a new
question reopens it), and reviewers only see records the access rule lets them see."""

from __future__ import annotations

import pytest

from qianmo.annotate import (
    add_question,
    claim,
    parse_spec,
    review_item,
    review_queue,
    settle,
    submit,
)
from qianmo.errors import NotFound
from qianmo.store import Database
from tests.helpers.annotate import add_corpus, add_people, make_campaign


def _disagree(db: Database, campaign: str = "c1") -> None:
    for who, answer in (("ann", "yes"), ("bob", "no")):
        task = claim(db, campaign, who)
        assert task is not None
        submit(db, task.assignment_id, who, {"correct": answer})


def test_a_reviewer_never_labels_the_item_they_settled(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob")
    add_people(db, "reviewer", "rev")
    add_corpus(db, 1)
    make_campaign(db, "c1", "correct:choice[yes,no]", overlap=2)
    _disagree(db)
    (item,) = review_queue(db, "c1", "rev")
    assert review_item(db, "c1", item.item_id, "rev").proposal == item.proposal
    settle(db, "c1", item.item_id, "rev", "accept")
    add_question(db, "c1", parse_spec("note:text"), actor="maintainer")  # reopens the item
    assert claim(db, "c1", "rev") is None  # the reviewer: never this item
    task = claim(db, "c1", "ann")
    assert task is not None and task.item_id == item.item_id


def test_reviewers_only_see_records_they_may_see(db: Database) -> None:
    add_people(db, "annotator", "ann", "bob", org="org-c")
    add_people(db, "reviewer", "outsider", org="org-z")
    add_corpus(db, 1, source={"org": "org-c", "tlp": "AMBER+STRICT"})
    make_campaign(db, "c1", "correct:choice[yes,no]", overlap=2)
    _disagree(db)
    assert review_queue(db, "c1", "outsider") == []
    add_people(db, "reviewer", "insider", org="org-c")
    (item,) = review_queue(db, "c1", "insider")
    with pytest.raises(NotFound):
        review_item(db, "c1", item.item_id, "outsider")
    with pytest.raises(NotFound):
        settle(db, "c1", item.item_id, "outsider", "accept")
