"""Tables for model calls and benchmark runs: the LLM response cache, runs and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qianmo.standard import utcnow
from qianmo.store._models import ID, Base


class LlmCacheRow(Base):
    """One model response, keyed by a digest of the model, its parameters and the prompt."""

    __tablename__ = "llm_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(256), index=True)
    text: Mapped[str] = mapped_column(Text)
    finish_reason: Mapped[str | None] = mapped_column(String(32))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvalRunRow(Base):
    """A model's run over one suite version: its configuration, status and summary."""

    __tablename__ = "eval_runs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    suite_id: Mapped[str] = mapped_column(ForeignKey("suites.id"), index=True)
    model: Mapped[str] = mapped_column(String(256), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class EvalResponseRow(Base):
    """What one suite item (in one option rotation) was asked, answered, extracted and scored."""

    __tablename__ = "eval_responses"
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt: Mapped[list[Any]] = mapped_column(default=list)
    response: Mapped[str | None] = mapped_column(Text)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    extracted: Mapped[dict[str, Any]] = mapped_column(default=dict)
    score: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
