"""Arena campaign attempts: one row per (attack or benign request) × converter chain × target.

The campaign itself is a `CampaignRow` with type "arena"; its attempts live here, keyed so a
rerun of the same campaign skips what is already done (resume).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qianmo.standard import utcnow
from qianmo.store._models import ID, Base


class ArenaAttemptRow(Base):
    __tablename__ = "arena_attempts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ID, ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # digest of record, chain and target
    kind: Mapped[str] = mapped_column(String(16))  # attack | benign
    record_id: Mapped[str] = mapped_column(ID, index=True)
    category: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))
    converters: Mapped[str] = mapped_column(String(256))  # "base64+roleplay", "none"
    target: Mapped[str] = mapped_column(String(256))
    defense_id: Mapped[str] = mapped_column(String(128))
    prompt: Mapped[dict[str, Any]] = mapped_column()  # turns, injected_context, lineage
    response: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))  # success | failure | undetermined
    judge: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(256), default="")
    blocked_by: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("campaign_id", "key"),
        Index("ix_arena_attempts_campaign_kind", "campaign_id", "kind"),
    )
