"""Annotation tables: items, question versions, counted slots, leases, labels, annotator stats.

"Exactly k labels per item and question version" rests on the schema, not only on Python: each
(item, question) has exactly k slot rows made when the question is added, a counted label
occupies one slot (unique), and nobody may hold two slots or two labels of one (item, question).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from qianmo.standard import utcnow
from qianmo.store._models import ID, Base


class AnnotationQuestionRow(Base):
    """One version of one question; a changed or added question is a new row."""

    __tablename__ = "annotation_questions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)
    spec: Mapped[dict[str, Any]] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("campaign_id", "name", "version"),)


class AnnotationItemRow(Base):
    """A record in a campaign. Gold items carry known answers and have no slots."""

    __tablename__ = "annotation_items"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    record_id: Mapped[str] = mapped_column(ID, index=True)
    record_version: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    gold: Mapped[dict[str, Any] | None] = mapped_column()
    qualification: Mapped[bool] = mapped_column(Boolean, default=False)
    # open → review (labels disagree) → settled (written back); open → settled when they agree
    state: Mapped[str] = mapped_column(String(16), default="open")
    # Slots of the active question versions not yet done: a submit decrements it and settles
    # the item at 0, instead of recounting slots on every submit. Recounted wherever slots
    # change otherwise (a new question version, gold marking, held labels).
    remaining: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    result: Mapped[dict[str, Any] | None] = mapped_column()
    reviewer: Mapped[str | None] = mapped_column(String(128))
    settled_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (
        UniqueConstraint("campaign_id", "record_id"),
        Index("ix_annotation_items_campaign_state", "campaign_id", "state", "position"),
    )


class AnnotationAssignmentRow(Base):
    """A lease: one annotator holds one item until `expires_at`, then submits, skips or discards."""

    __tablename__ = "annotation_assignments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("annotation_items.id"))
    annotator_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # leased | submitted | skipped | discarded | expired
    state: Mapped[str] = mapped_column(String(16), default="leased")
    gold: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (
        Index("ix_annotation_assignments_who", "campaign_id", "annotator_id", "state"),
        Index("ix_annotation_assignments_item", "item_id", "annotator_id"),
    )


class AnnotationSlotRow(Base):
    """One of the k places for a label on (item, question version): free, leased or done."""

    __tablename__ = "annotation_slots"
    item_id: Mapped[str] = mapped_column(ForeignKey("annotation_items.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(
        ForeignKey("annotation_questions.id"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    state: Mapped[str] = mapped_column(String(16), default="free")
    annotator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    assignment_id: Mapped[str | None] = mapped_column(ID)
    lease_expires: Mapped[datetime | None] = mapped_column()
    __table_args__ = (
        # NULLs are distinct in both databases, so only held slots are constrained
        UniqueConstraint("item_id", "question_id", "annotator_id", name="uq_slot_one_each"),
        Index("ix_annotation_slots_claim", "campaign_id", "state", "item_id"),
        # a submit, skip or expiry finds the slots of its lease
        Index("ix_annotation_slots_assignment", "assignment_id"),
    )


class AnnotationLabelRow(Base):
    """One person's answer to one question on one item. Counted labels occupy a slot."""

    __tablename__ = "annotation_labels"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("annotation_items.id"))
    question_id: Mapped[str] = mapped_column(ForeignKey("annotation_questions.id"))
    slot: Mapped[int | None] = mapped_column(Integer)
    annotator_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    assignment_id: Mapped[str] = mapped_column(ID)
    answer: Mapped[Any] = mapped_column(JSON)
    # counted | gold (scored, not counted) | held (annotator paused; kept for review)
    state: Mapped[str] = mapped_column(String(16), default="counted")
    correct: Mapped[bool | None] = mapped_column(Boolean)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("item_id", "question_id", "annotator_id", name="uq_label_once"),
        UniqueConstraint("item_id", "question_id", "slot", name="uq_label_slot"),
        ForeignKeyConstraint(
            ["item_id", "question_id", "slot"],
            [
                "annotation_slots.item_id",
                "annotation_slots.question_id",
                "annotation_slots.slot",
            ],
            name="fk_label_slot",
        ),
    )


class AnnotatorStatRow(Base):
    """Per campaign and annotator: gold score and standing (qualifying, active, paused)."""

    __tablename__ = "annotator_stats"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    annotator_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    labelled: Mapped[int] = mapped_column(Integer, default=0)
    gold_seen: Mapped[int] = mapped_column(Integer, default=0)
    gold_correct: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
