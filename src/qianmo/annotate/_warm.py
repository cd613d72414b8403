"""Planning a label's statements on a PostgreSQL connection before it serves anyone.

A new connection runs each statement unprepared five times (psycopg prepares it at its sixth
run), then PostgreSQL plans it five more times for the values given before it weighs a generic
plan; the claim alone takes ~1.1 ms to plan. On a server that had just started, every pooled
connection paid that on its annotators' first labels: ~0.7 ms more PostgreSQL CPU a label
over a first campaign than over the next (bench/annotate_load.py, cold against http). The
statements' texts are the same for every campaign and member (array parameters), so a server
runs them here, with values no row has, before it accepts a request (`Database.warm`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from qianmo.annotate._cache import BY_ID, BY_NAME, CampaignInfo
from qianmo.annotate._claim import LEASE_AND_WHO, LEASE_OF, WHO, claim_statement
from qianmo.annotate._config import CampaignConfig
from qianmo.annotate._counted import ALL_IN_ONE
from qianmo.annotate._settle import SETTLE_STATEMENTS
from qianmo.standard import utcnow
from qianmo.store import WARM_RUNS, Prepared, Viewer, access_params

NOBODY = ""  # an id, name and hash no row has
_CAMPAIGN = CampaignInfo(NOBODY, NOBODY, "open", CampaignConfig(), (), 0, {})
_MEMBER = Viewer(NOBODY, orgs=frozenset({NOBODY}))


def warm_up(conn: Connection) -> None:
    """Run the statements of a claim and a submit on PostgreSQL, WARM_RUNS times each, with
    values that match no row: nothing changes (the caller's transaction may commit)."""
    now = utcnow()
    claim_params = {
        "uid": NOBODY,
        "aid": NOBODY,
        "expires": now + timedelta(seconds=1),
        "now": now,
        "qids": [NOBODY],
        **access_params(_MEMBER, arrays=True),
    }
    nothing = {"aid": NOBODY, "user": NOBODY, "cid": NOBODY, "name": NOBODY}
    runs: list[tuple[Prepared, dict[str, Any]]] = [
        (BY_NAME, nothing),
        (BY_ID, nothing),
        (LEASE_OF, nothing),
        (LEASE_AND_WHO, nothing),
        (WHO, nothing),
        (
            ALL_IN_ONE,
            {
                **nothing,
                "item": NOBODY,
                "uid": NOBODY,
                "ms": None,
                "at": now,
                "qids": [NOBODY],
                "ids": [NOBODY],
                "answers": ["null"],
            },
        ),
        *(
            (s, {"item": NOBODY, "id": NOBODY, "at": now, **values})
            for s, values in SETTLE_STATEMENTS
        ),
        *(
            (claim_statement(_CAMPAIGN, _MEMBER, "postgresql", variant), claim_params)
            for variant in ("first", "again")
        ),
    ]
    for _ in range(WARM_RUNS):
        for statement, params in runs:
            statement.run(conn, params)
