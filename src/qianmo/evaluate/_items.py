"""A frozen suite item as runs, prompts and scorers see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Item:
    """One suite item: the record it came from and the content it was frozen with."""

    position: int
    record_id: str
    kind: str
    lang: str
    content: dict[str, Any]
    domain: str | None = None
    published_at: datetime | None = None
    flags: tuple[str, ...] = ()
    refs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def answer_type(self) -> str:
        """`choice` or `multi` for MCQ; `text`, `ids` or `cvss` for QA."""
        if self.kind == "mcq":
            return "multi" if isinstance(self.content.get("answer"), list) else "choice"
        return str(self.content.get("answer_type", "text"))

    @property
    def truth(self) -> list[str]:
        answer = self.content.get("answer", "")
        return [str(a) for a in answer] if isinstance(answer, list) else [str(answer)]

    @property
    def choices(self) -> dict[str, str]:
        return dict(self.content.get("choices", {}))

    @property
    def contaminated(self) -> bool:
        return "contaminated" in self.flags
