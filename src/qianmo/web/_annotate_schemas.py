"""API schemas of annotation: campaigns, progress, tasks, answers, review decisions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qianmo.annotate import Campaign, LabelView, Progress, Question, ReviewItem, Task
from qianmo.web._schemas import RecordPublic, Utc


class QuestionPublic(BaseModel):
    name: str
    type: str
    options: list[str] = Field(description="choice/multi options, or span labels")
    low: int
    high: int
    field: str = Field(description="the content field a rewrite edits")
    prompt: str
    rubric: dict[str, str]
    required: bool
    answers: list[str] = Field(description="what keys 1, 2, 3… pick, in order")

    @classmethod
    def of(cls, q: Question) -> QuestionPublic:
        return cls(**q.to_json(), answers=q.choices())


class CampaignPublic(BaseModel):
    name: str
    status: str
    overlap: int
    guidelines: str = Field(description="markdown; pages render it with raw HTML escaped")
    agreement: str
    gold_rate: float
    deadline: Utc | None
    lease_seconds: int
    reject_if: list[str]
    questions: list[QuestionPublic]

    @classmethod
    def of(cls, c: Campaign, questions: list[Question]) -> CampaignPublic:
        cfg = c.config
        return cls(
            name=c.name,
            status=c.status,
            overlap=cfg.overlap,
            guidelines=cfg.guidelines,
            agreement=cfg.agreement,
            gold_rate=cfg.gold_rate,
            deadline=cfg.deadline,
            lease_seconds=cfg.lease_seconds,
            reject_if=cfg.reject_if,
            questions=[QuestionPublic.of(q) for q in questions],
        )


class QuestionProgress(BaseModel):
    name: str
    type: str
    labels: int
    needed: int
    leased: int


class AnnotatorProgress(BaseModel):
    annotator: str
    status: str
    labelled: int
    gold_seen: int
    gold_correct: int
    gold_accuracy: float | None


class ProgressPublic(BaseModel):
    """The same figures as `qianmo annotate status NAME --json`."""

    campaign: str
    overlap: int
    items: dict[str, int] = Field(description="items per state: open, review, settled, gold")
    labels: int
    done: bool
    questions: list[QuestionProgress]
    annotators: list[AnnotatorProgress]

    @classmethod
    def of(cls, p: Progress) -> ProgressPublic:
        return cls.model_validate(p.to_json())


class TaskPublic(BaseModel):
    """A claimed item under a lease: the record and the questions, never anyone's labels."""

    assignment_id: str
    campaign: str
    item_id: str
    record: RecordPublic
    questions: list[QuestionPublic]
    expires_at: Utc

    @classmethod
    def of(cls, t: Task) -> TaskPublic:
        return cls(
            assignment_id=t.assignment_id,
            campaign=t.campaign,
            item_id=t.item_id,
            record=RecordPublic.of_data(t.data),
            questions=[QuestionPublic.of(q) for q in t.questions],
            expires_at=t.expires_at,
        )


class ClaimPublic(BaseModel):
    task: TaskPublic | None = Field(description="null when nothing is left for you")


class AnswersCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Any] = Field(description="question name → answer")
    duration_ms: int | None = Field(default=None, ge=0, le=86_400_000)


class SubmittedPublic(BaseModel):
    item_id: str
    labels: int
    item_state: str = Field(description="open, review (labels disagree) or settled")
    annotator_status: str


class SubmittedNextPublic(SubmittedPublic):
    """A submit with `?next=true`: the annotator's next item is claimed in the same transaction."""

    next: TaskPublic | None = Field(description="your next item under a lease; null when done")
    next_refused: str | None = Field(
        description="why no next item could be claimed (e.g. this submit paused you); the "
        "labels are stored all the same"
    )


class LetGoPublic(BaseModel):
    assignment_id: str
    state: Literal["skipped", "discarded"]


class LabelPublic(BaseModel):
    question: str
    annotator: str
    answer: Any
    state: str

    @classmethod
    def of(cls, v: LabelView) -> LabelPublic:
        return cls(question=v.question, annotator=v.annotator, answer=v.answer, state=v.state)


class ReviewItemPublic(BaseModel):
    item_id: str
    record: RecordPublic
    labels: list[LabelPublic]
    proposal: dict[str, Any] = Field(description="the majority answer per question")

    @classmethod
    def of(cls, r: ReviewItem) -> ReviewItemPublic:
        return cls(
            item_id=r.item_id,
            record=RecordPublic.of(r.record),
            labels=[LabelPublic.of(v) for v in r.labels],
            proposal=r.proposal,
        )


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "correct", "reject"]
    answers: dict[str, Any] = Field(
        default_factory=dict, description="with `correct`: the answers that replace the proposal"
    )


class SettledPublic(BaseModel):
    item_id: str
    decision: str
    result: dict[str, Any]
