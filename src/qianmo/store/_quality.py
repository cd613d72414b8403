"""Quality runs: what was run (pipeline, selection, executor), per-step counts, examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from qianmo.standard import utcnow
from qianmo.store._models import ID, Base


class QualityRunRow(Base):
    """One run of a quality pipeline; `steps` holds each step's counts, timing and examples."""

    __tablename__ = "quality_runs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(ID, index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    executor: Mapped[str] = mapped_column(String(16), default="local")
    pipeline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    selection: Mapped[list[Any]] = mapped_column(JSON, default=list)
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(String(4000))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
