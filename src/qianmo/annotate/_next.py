"""Submit, then claim the annotator's next item, in one write transaction.

How the labelling page and API clients work in steady state: one request per label instead of
a claim and a submit. The claim is `claim`'s own code (`claim_in`), after the submit stored its
labels in the same transaction, so leases, blindness, exactly-k, skips and discards behave as
with a separate claim; the transaction's begin and commit (an fsync on SQLite) are paid once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qianmo.annotate._claim import Task, claim_in, retry_lost_races
from qianmo.annotate._submit import Submitted, count_and_commit, store_labels
from qianmo.errors import QianmoError
from qianmo.standard import utcnow
from qianmo.store import Database


@dataclass(frozen=True)
class SubmittedNext:
    """The stored submit, the next item under a lease (None when nothing is left), and why no
    item could be claimed when the claim was refused (e.g. this submit paused the annotator)."""

    submitted: Submitted
    task: Task | None
    refused: str = ""


def _once(
    db: Database,
    assignment_id: str,
    user: str,
    answers: dict[str, Any],
    duration_ms: int | None,
    now: datetime | None,
    expected: str | None,
) -> SubmittedNext:
    with db.write() as s:
        stored = store_labels(db, s, assignment_id, user, answers, duration_ms, with_who=True)
        campaign = stored.info.name
        if expected is not None and campaign != expected:  # raising rolls the submit back
            raise QianmoError(
                f"this assignment belongs to campaign {campaign}", object_id=assignment_id
            )
        try:
            when = now or utcnow()
            conn = s.connection()
            task = claim_in(db, conn, campaign, user, when, info=stored.info, known=stored.who_rows)
            refused = ""
        except QianmoError as e:
            # A refused claim (paused, campaign closed, deadline) raises before it writes
            # anything: the submit still commits, and the refusal is reported beside it.
            task, refused = None, str(e)
        # Then the item's count on SQLite (on PostgreSQL the submit's statement took it:
        # `_counted`) and the audit entries with the COMMIT: both lock rows every writer of
        # the item, or every writer, queues for (`count_and_commit`), so not before the claim.
        return SubmittedNext(count_and_commit(s, stored, user), task, refused)


def submit_next(
    db: Database,
    assignment_id: str,
    user: str,
    answers: dict[str, Any],
    *,
    duration_ms: int | None = None,
    now: datetime | None = None,
    campaign: str | None = None,
) -> SubmittedNext:
    """`submit`, then `claim` the user's next item of the same campaign, in one transaction.

    With `campaign`, a lease of another campaign is refused (the page names its campaign).
    """
    # A claim that loses a race rolls the whole transaction back, the submit with it, so
    # both are tried again.
    return retry_lost_races(
        lambda: _once(db, assignment_id, user, answers, duration_ms, now, campaign),
        "claim the next item",
        assignment_id,
    )
