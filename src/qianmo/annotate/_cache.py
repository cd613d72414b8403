"""A campaign's parsed settings and active questions, kept per process between requests.

Every claim and submit needs them; parsing the config and the question specs cost more than
the rest of a claim. Each use still reads the campaign row (status, config) and its number of
question versions in one small query — adding a question always inserts a version — and
rebuilds the entry when either changed, so a change is seen by the very next claim.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from qianmo.annotate._config import CampaignConfig
from qianmo.annotate._questions import Question
from qianmo.annotate._tables import CAMPAIGNS, QUESTIONS
from qianmo.store import Database, Prepared, arg

CAMPAIGN_TYPE = "annotation"
# Answers of these types are checked against the record (its choices, the rewritten field).
NEEDS_RECORD = frozenset({"mcq", "rewrite"})

_campaigns, _questions = CAMPAIGNS, QUESTIONS

_versions = (
    select(func.count())
    .where(_questions.c.campaign_id == _campaigns.c.id)
    .correlate(_campaigns)
    .scalar_subquery()
)
# The columns `campaign_info` takes (a lease's query reads them too, saving a round trip).
CAMPAIGN_ROW = (
    _campaigns.c.id,
    _campaigns.c.name,
    _campaigns.c.status,
    _campaigns.c.config,
    _versions,
)
_ROW = select(*CAMPAIGN_ROW).where(_campaigns.c.type == CAMPAIGN_TYPE)
BY_NAME = Prepared(_ROW.where(_campaigns.c.name == arg("name")))
BY_ID = Prepared(_ROW.where(_campaigns.c.id == arg("cid")))
_ACTIVE = Prepared(
    select(_questions.c.id, _questions.c.spec)
    .where(_questions.c.campaign_id == arg("cid"), _questions.c.active)
    .order_by(_questions.c.position)
)


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    status: str
    config: CampaignConfig
    questions: tuple[tuple[str, Question], ...]  # (version id, question), active, in order
    versions: int
    raw_config: dict[str, Any]

    @property
    def question_ids(self) -> list[str]:
        return [qid for qid, _ in self.questions]

    @property
    def needs_record(self) -> bool:
        return any(q.type in NEEDS_RECORD for _, q in self.questions)


_cache: weakref.WeakKeyDictionary[Database, dict[str, CampaignInfo]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def campaign_info(db: Database, conn: Connection, row: Any) -> CampaignInfo:
    """The entry for a row of BY_NAME / BY_ID, rebuilt if the campaign changed since."""
    cid, name, status, config, versions = row
    with _lock:
        entries = _cache.setdefault(db, {})
    hit = entries.get(cid)
    if hit is not None and hit.versions == versions and hit.raw_config == config:
        if hit.status == status:
            return hit
        fresh = CampaignInfo(cid, name, status, hit.config, hit.questions, versions, config)
    else:
        questions = tuple(
            (qid, Question.from_json(spec)) for qid, spec in _ACTIVE.run(conn, {"cid": cid}).rows
        )
        parsed = CampaignConfig.model_validate(config)
        fresh = CampaignInfo(cid, name, status, parsed, questions, versions, config)
    entries[cid] = fresh
    return fresh
