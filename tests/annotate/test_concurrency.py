"""Many annotators at once: every item ends with exactly k labels from k distinct people.

On PostgreSQL (the `db` fixture under QIANMO_TEST_DATABASE_URL) 50 threads claim with
`FOR UPDATE SKIP LOCKED`; on SQLite 8 threads go through the single-writer path. Each runs
twice: claim → submit, and claim once then submit-with-next (the claim inside the submit's
transaction), as the labelling page and API clients do.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from qianmo.annotate import claim, progress, submit, submit_next
from qianmo.store import (
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationSlotRow,
    AuditRow,
    Database,
    verify_chain,
)
from tests.helpers.annotate import add_corpus, add_people, make_campaign

K = 3


def _annotate_until_done(
    db: Database,
    who: str,
    errors: list[BaseException],
    barrier: threading.Barrier,
    with_next: bool,
) -> None:
    try:
        barrier.wait()
        if with_next:
            task = claim(db, "race", who)
            while task is not None:
                both = submit_next(db, task.assignment_id, who, {"correct": "yes"})
                assert not both.refused, both.refused
                task = both.task
            return
        while (task := claim(db, "race", who)) is not None:
            submit(db, task.assignment_id, who, {"correct": "yes"})
    except BaseException as e:  # hand any failure to the main thread
        errors.append(e)


@pytest.mark.parametrize("with_next", [False, True], ids=["claim-submit", "submit-next"])
def test_exactly_k_labels_under_concurrency(db: Database, with_next: bool) -> None:
    threads_n = 8 if db.is_sqlite else 50
    items_n = 12 if db.is_sqlite else 40
    people = [f"p{n:02d}" for n in range(threads_n)]
    add_people(db, "annotator", *people)
    add_corpus(db, items_n)
    make_campaign(db, "race", overlap=K)
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)
    threads = [
        threading.Thread(target=_annotate_until_done, args=(db, who, errors, barrier, with_next))
        for who in people
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    with db.read() as s:
        per_item = s.execute(
            select(
                AnnotationLabelRow.item_id,
                func.count(),
                func.count(AnnotationLabelRow.annotator_id.distinct()),
            ).group_by(AnnotationLabelRow.item_id)
        ).all()
        slots = Counter(s.execute(select(AnnotationSlotRow.state)).scalars())
        twice = s.execute(
            select(AnnotationLabelRow.item_id, AnnotationLabelRow.annotator_id)
            .group_by(AnnotationLabelRow.item_id, AnnotationLabelRow.annotator_id)
            .having(func.count() > 1)
        ).all()
    assert len(per_item) == items_n
    assert all(n == K and distinct == K for _, n, distinct in per_item)
    assert twice == []
    assert slots == {"done": items_n * K}
    p = progress(db, "race")
    assert p.done and p.labels == items_n * K
    assert sum(a["labelled"] for a in p.annotators) == items_n * K
    with db.read() as s:
        # every item settled (the last of its k submits saw the others' counts) and every
        # submit audited, in one unbroken chain (on PostgreSQL each entry commits in a pipeline)
        states = Counter(s.execute(select(AnnotationItemRow.state)).scalars())
        actions = Counter(s.execute(select(AuditRow.action)).scalars())
        chain = verify_chain(s)
    assert states == {"settled": items_n}
    assert actions["annotate.label"] == items_n * K
    assert actions["annotate.writeback"] == items_n  # each settled record's status change
    assert chain.ok, chain.problem
