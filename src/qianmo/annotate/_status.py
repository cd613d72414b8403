"""Progress per question and per annotator, agreement figures, and the export of all labels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import krippendorff
import numpy as np
import orjson
from sqlalchemy import func, select

from qianmo.annotate._answers import COMPARED, comparable
from qianmo.annotate._campaigns import Campaign, active_questions, campaign_row
from qianmo.store import (
    AnnotationItemRow,
    AnnotationLabelRow,
    AnnotationSlotRow,
    AnnotatorStatRow,
    Database,
    UserRow,
)


@dataclass
class Progress:
    campaign: str
    overlap: int
    items: dict[str, int]
    questions: list[dict[str, Any]]
    annotators: list[dict[str, Any]]
    labels: int = 0
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "overlap": self.overlap,
            "items": self.items,
            "labels": self.labels,
            "done": self.done,
            "questions": self.questions,
            "annotators": self.annotators,
        }


def progress(db: Database, name: str) -> Progress:
    with db.read() as s:
        campaign = Campaign.of(campaign_row(s, name))
        items: dict[str, int] = dict(
            s.execute(  # type: ignore[arg-type]
                select(AnnotationItemRow.state, func.count())
                .where(AnnotationItemRow.campaign_id == campaign.id)
                .group_by(AnnotationItemRow.state)
            ).all()
        )
        questions: list[dict[str, Any]] = []
        for qid, q in active_questions(s, campaign.id):
            by_state = dict(
                s.execute(
                    select(AnnotationSlotRow.state, func.count())
                    .where(AnnotationSlotRow.question_id == qid)
                    .group_by(AnnotationSlotRow.state)
                ).all()
            )
            total = sum(by_state.values())
            done = by_state.get("done", 0)
            questions.append(
                {
                    "name": q.name,
                    "type": q.type,
                    "labels": done,
                    "needed": total,
                    "leased": by_state.get("leased", 0),
                }
            )
        annotators = [
            {
                "annotator": name_,
                "status": st.status,
                "labelled": st.labelled,
                "gold_seen": st.gold_seen,
                "gold_correct": st.gold_correct,
                "gold_accuracy": round(st.gold_correct / st.gold_seen, 3) if st.gold_seen else None,
            }
            for st, name_ in s.execute(
                select(AnnotatorStatRow, UserRow.name)
                .join(UserRow, UserRow.id == AnnotatorStatRow.annotator_id)
                .where(AnnotatorStatRow.campaign_id == campaign.id)
                .order_by(UserRow.name)
            ).all()
        ]
        labels = sum(q["labels"] for q in questions)
        open_items = items.get("open", 0) + items.get("review", 0)
        return Progress(
            campaign.name,
            campaign.config.overlap,
            items,
            questions,
            annotators,
            labels,
            open_items == 0,
        )


@dataclass
class QuestionAgreement:
    name: str
    type: str
    items: int
    unanimous: float | None
    alpha: float | None
    level: str = field(default="nominal")


def _alpha(units: list[list[Any]], level: Literal["interval", "nominal"]) -> float | None:
    """Krippendorff's alpha over items × labels (coded as category indices or numbers)."""
    if len(units) < 2:
        return None
    width = max(len(u) for u in units)
    if level == "interval":
        matrix = np.full((width, len(units)), np.nan)
        for j, u in enumerate(units):
            matrix[: len(u), j] = [float(v) for v in u]
    else:
        codes: dict[bytes, int] = {}
        matrix = np.full((width, len(units)), np.nan)
        for j, u in enumerate(units):
            for i, v in enumerate(u):
                matrix[i, j] = codes.setdefault(
                    orjson.dumps(v, option=orjson.OPT_SORT_KEYS), len(codes)
                )
        if len(codes) < 2:
            return 1.0
    try:
        return round(
            float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)), 4
        )
    except ValueError:
        return None


def agreement(db: Database, name: str) -> list[QuestionAgreement]:
    """Per question: the share of complete items whose labels are unanimous, and alpha."""
    with db.read() as s:
        campaign = Campaign.of(campaign_row(s, name))
        out = []
        for qid, q in active_questions(s, campaign.id):
            per_item: dict[str, list[Any]] = defaultdict(list)
            for item_id, answer in s.execute(
                select(AnnotationLabelRow.item_id, AnnotationLabelRow.answer).where(
                    AnnotationLabelRow.question_id == qid, AnnotationLabelRow.state == "counted"
                )
            ):
                per_item[item_id].append(comparable(q, answer))
            units = [u for u in per_item.values() if len(u) >= 2]
            if q.type not in COMPARED or not units:
                out.append(QuestionAgreement(q.name, q.type, len(units), None, None))
                continue
            same = sum(1 for u in units if all(v == u[0] for v in u))
            level: Literal["interval", "nominal"] = "interval" if q.type == "rating" else "nominal"
            out.append(
                QuestionAgreement(
                    q.name,
                    q.type,
                    len(units),
                    round(same / len(units), 4),
                    _alpha(units, level),
                    level,
                )
            )
        return out


def export_rows(db: Database, name: str) -> Iterator[dict[str, Any]]:
    """One row per item: its record, state, result, reviewer and every label with its author."""
    with db.read() as s:
        campaign = Campaign.of(campaign_row(s, name))
        names = {qid: f"{q.name}" for qid, q in active_questions(s, campaign.id)}
        labels: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for lab, who in s.execute(
            select(AnnotationLabelRow, UserRow.name)
            .join(UserRow, UserRow.id == AnnotationLabelRow.annotator_id)
            .where(AnnotationLabelRow.campaign_id == campaign.id)
            .order_by(AnnotationLabelRow.created_at)
        ).all():
            labels[lab.item_id].append(
                {
                    "question": names.get(lab.question_id, lab.question_id),
                    "annotator": who,
                    "answer": lab.answer,
                    "state": lab.state,
                    "correct": lab.correct,
                    "at": lab.created_at,
                }
            )
        for item in s.execute(
            select(AnnotationItemRow)
            .where(AnnotationItemRow.campaign_id == campaign.id)
            .order_by(AnnotationItemRow.position)
        ).scalars():
            yield {
                "record_id": item.record_id,
                "record_version": item.record_version,
                "state": item.state,
                "gold": item.gold is not None,
                "result": item.result,
                "reviewer": item.reviewer,
                "labels": labels.get(item.id, []),
            }
