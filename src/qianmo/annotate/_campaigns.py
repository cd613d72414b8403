"""Creating campaigns, adding question versions, marking gold items, finding participants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from qianmo.annotate._answers import check_answer
from qianmo.annotate._config import CampaignConfig
from qianmo.annotate._counts import recount_remaining
from qianmo.annotate._questions import Question
from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.standard import new_id
from qianmo.store import (
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationQuestionRow,
    AnnotationSlotRow,
    CampaignRow,
    Database,
    RecordFilter,
    RecordRow,
    UserRow,
    Viewer,
    audit,
    get_record,
    load_viewer,
)

CAMPAIGN_TYPE = "annotation"


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    status: str
    config: CampaignConfig

    @classmethod
    def of(cls, row: CampaignRow) -> Campaign:
        return cls(row.id, row.name, row.status, CampaignConfig.model_validate(row.config))


def campaign_row(session: Session, name: str) -> CampaignRow:
    row = session.execute(
        select(CampaignRow).where(CampaignRow.type == CAMPAIGN_TYPE, CampaignRow.name == name)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no annotation campaign {name!r}", object_id=name)
    return row


def get_campaign(session: Session, name: str) -> Campaign:
    return Campaign.of(campaign_row(session, name))


def list_campaigns(session: Session) -> list[Campaign]:
    rows = session.execute(
        select(CampaignRow).where(CampaignRow.type == CAMPAIGN_TYPE).order_by(CampaignRow.name)
    ).scalars()
    return [Campaign.of(r) for r in rows]


def active_questions(session: Session, campaign_id: str) -> list[tuple[str, Question]]:
    """(question version id, question) for the current version of each question, in order."""
    rows = session.execute(
        select(AnnotationQuestionRow)
        .where(AnnotationQuestionRow.campaign_id == campaign_id, AnnotationQuestionRow.active)
        .order_by(AnnotationQuestionRow.position)
    ).scalars()
    return [(r.id, Question.from_json(r.spec)) for r in rows]


def _slots(campaign_id: str, question_id: str, item_ids: list[str], k: int) -> list[dict[str, Any]]:
    return [
        {
            "campaign_id": campaign_id,
            "item_id": i,
            "question_id": question_id,
            "slot": n,
            "state": "free",
        }
        for i in item_ids
        for n in range(k)
    ]


def _add_question_row(session: Session, campaign_id: str, q: Question, position: int) -> str:
    previous = session.execute(
        select(func.max(AnnotationQuestionRow.version)).where(
            AnnotationQuestionRow.campaign_id == campaign_id, AnnotationQuestionRow.name == q.name
        )
    ).scalar_one()
    qid = new_id()
    session.add(
        AnnotationQuestionRow(
            id=qid,
            campaign_id=campaign_id,
            name=q.name,
            version=(previous or 0) + 1,
            position=position,
            spec=q.to_json(),
            active=True,
        )
    )
    session.flush()
    return qid


def create_campaign(
    db: Database, name: str, questions: list[Question], config: CampaignConfig, *, actor: str
) -> Campaign:
    """A campaign over the records the filters select, with k free slots per item and question."""
    if not questions:
        raise QianmoError("a campaign needs at least one question", field="question")
    names = [q.name for q in questions]
    if len(set(names)) != len(names):
        raise QianmoError("two questions share a name", field="question")
    flt = RecordFilter.parse(config.filters)
    with db.write() as s:
        exists = s.execute(
            select(CampaignRow.id).where(
                CampaignRow.type == CAMPAIGN_TYPE, CampaignRow.name == name
            )
        ).first()
        if exists:
            raise QianmoError(f"campaign {name!r} exists", object_id=name)
        query: Select[Any] = cast(Any, select(RecordRow.id, RecordRow.version))
        records = s.execute(flt.apply(query).order_by(RecordRow.id)).all()
        if not records:
            raise QianmoError("the filters select no records", field="filter")
        cid = new_id()
        s.add(
            CampaignRow(
                id=cid,
                type=CAMPAIGN_TYPE,
                name=name,
                config=config.model_dump(mode="json"),
                actor=actor,
            )
        )
        s.flush()
        items = [
            {
                "id": new_id(),
                "campaign_id": cid,
                "record_id": rid,
                "record_version": v,
                "position": n,
                "state": "open",
                "qualification": False,
                "remaining": config.overlap * len(questions),
            }
            for n, (rid, v) in enumerate(records)
        ]
        s.execute(insert(AnnotationItemRow), items)
        item_ids = [i["id"] for i in items]
        for pos, q in enumerate(questions):
            qid = _add_question_row(s, cid, q, pos)
            s.execute(insert(AnnotationSlotRow), _slots(cid, qid, item_ids, config.overlap))
        audit(
            s,
            actor=actor,
            action="annotate.campaign.create",
            object_type="campaign",
            object_ids=[cid],
        )
        return Campaign(cid, name, "open", config)


def add_question(db: Database, name: str, question: Question, *, actor: str) -> int:
    """Add a question, or a new version of one, to a running campaign; returns the version.

    `k` counts labels per question version, so every non-gold item gets k new slots and items
    already settled open again for the new question. Free slots of a replaced version retire.
    """
    with db.write() as s:
        camp = campaign_row(s, name)
        config = CampaignConfig.model_validate(camp.config)
        old = s.execute(
            select(AnnotationQuestionRow).where(
                AnnotationQuestionRow.campaign_id == camp.id,
                AnnotationQuestionRow.name == question.name,
                AnnotationQuestionRow.active,
            )
        ).scalar_one_or_none()
        position = old.position if old else len(active_questions(s, camp.id))
        if old is not None:
            old.active = False
            s.execute(
                update(AnnotationSlotRow)
                .where(AnnotationSlotRow.question_id == old.id, AnnotationSlotRow.state == "free")
                .values(state="retired")
            )
        qid = _add_question_row(s, camp.id, question, position)
        item_ids = list(
            s.execute(
                select(AnnotationItemRow.id).where(
                    AnnotationItemRow.campaign_id == camp.id, AnnotationItemRow.gold.is_(None)
                )
            ).scalars()
        )
        s.execute(insert(AnnotationSlotRow), _slots(camp.id, qid, item_ids, config.overlap))
        s.execute(
            update(AnnotationItemRow)
            .where(
                AnnotationItemRow.campaign_id == camp.id,
                AnnotationItemRow.gold.is_(None),
                AnnotationItemRow.state != "open",
            )
            .values(state="open")
        )
        recount_remaining(s.connection(), campaign_id=camp.id)
        audit(
            s,
            actor=actor,
            action="annotate.question.add",
            object_type="campaign",
            object_ids=[camp.id],
        )
        version = s.get(AnnotationQuestionRow, qid)
        assert version is not None
        return version.version


def mark_gold(
    db: Database,
    name: str,
    record_id: str,
    answers: dict[str, Any],
    *,
    actor: str,
    qualification: bool = False,
) -> None:
    """Make an item gold: known answers, no slots; it is mixed into annotators' queues."""
    with db.write() as s:
        camp = campaign_row(s, name)
        record = get_record(s, record_id)
        questions = {q.name: q for _, q in active_questions(s, camp.id)}
        gold = {}
        for qname, value in answers.items():
            if qname not in questions:
                raise QianmoError(f"no question {qname!r} in {name}", field="gold")
            gold[qname] = check_answer(questions[qname], value, record)
        item = s.execute(
            select(AnnotationItemRow).where(
                AnnotationItemRow.campaign_id == camp.id, AnnotationItemRow.record_id == record_id
            )
        ).scalar_one_or_none()
        if item is None:
            top = s.execute(
                select(func.max(AnnotationItemRow.position)).where(
                    AnnotationItemRow.campaign_id == camp.id
                )
            ).scalar_one()
            item = AnnotationItemRow(
                id=new_id(),
                campaign_id=camp.id,
                record_id=record_id,
                record_version=record.version,
                position=(top or 0) + 1,
            )
            s.add(item)
            s.flush()
        counted = s.execute(
            select(func.count())
            .select_from(AnnotationLabelRow)
            .where(AnnotationLabelRow.item_id == item.id, AnnotationLabelRow.state == "counted")
        ).scalar_one()
        if counted:
            raise QianmoError("already has labels; pick an unlabelled item", object_id=record_id)
        s.execute(delete(AnnotationSlotRow).where(AnnotationSlotRow.item_id == item.id))
        item.gold, item.qualification, item.state = gold, qualification, "gold"
        item.remaining = 0  # no slots
        audit(s, actor=actor, action="annotate.gold", object_type="campaign", object_ids=[camp.id])


def participant(
    session: Session, campaign: Campaign, user: str, roles: frozenset[str]
) -> tuple[str, Viewer]:
    """The user's id and viewer, if they may take part in this campaign with one of `roles`."""
    row = session.execute(select(UserRow).where(UserRow.name == user)).scalar_one_or_none()
    if row is None or not row.is_active:
        raise NotFound(f"no active user {user!r}", object_id=user)
    viewer = load_viewer(session, user)
    allowed = {
        org: role
        for org, role in viewer.roles.items()
        if role in roles
        and (not campaign.config.orgs or org in campaign.config.orgs)
        and (not campaign.config.roles or role in campaign.config.roles)
    }
    if not allowed:
        raise PolicyRefused(
            f"{user} may not take part in {campaign.name} this way", object_id=campaign.name
        )
    return row.id, viewer


def parse_config(**options: Any) -> CampaignConfig:
    try:
        return CampaignConfig.model_validate(options)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise QianmoError(first["msg"], field=where) from e


def campaign_questions(session: Session, name: str) -> list[Question]:
    """The campaign's current questions, in order (the latest version of each)."""
    return [q for _, q in active_questions(session, campaign_row(session, name).id)]
