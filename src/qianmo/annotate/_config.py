"""A campaign's settings, stored as JSON on its `campaigns` row."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

AGREEMENT_RULES = ("unanimous", "majority")
# Roles (held per organisation, see the accounts' roles table) that may label or review.
LABEL_ROLES = frozenset({"admin", "maintainer", "reviewer", "annotator"})
REVIEW_ROLES = frozenset({"admin", "maintainer", "reviewer"})
MANAGE_ROLES = frozenset({"admin", "maintainer"})


class CampaignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filters: list[str] = Field(default_factory=list)
    overlap: int = Field(3, ge=1, le=50)
    guidelines: str = ""
    orgs: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    gold_rate: float = Field(0.1, ge=0.0, le=0.9)
    gold_threshold: float = Field(0.7, ge=0.0, le=1.0)
    gold_min: int = Field(10, ge=1)
    qualification: int = Field(0, ge=0)
    deadline: datetime | None = None
    lease_seconds: int = Field(600, ge=5, le=86_400)
    agreement: str = "unanimous"
    reject_if: list[str] = Field(default_factory=list)

    @field_validator("agreement")
    @classmethod
    def _rule(cls, value: str) -> str:
        if value not in AGREEMENT_RULES:
            raise ValueError(f"one of {', '.join(AGREEMENT_RULES)}")
        return value

    @field_validator("reject_if")
    @classmethod
    def _rejects(cls, value: list[str]) -> list[str]:
        for term in value:
            if "=" not in term:
                raise ValueError(f"{term!r}: write QUESTION=ANSWER")
        return value

    def rejects(self, result: dict[str, object]) -> bool:
        """Whether a settled result meets one of the campaign's reject rules."""
        for term in self.reject_if:
            name, _, value = term.partition("=")
            if str(result.get(name)) == value:
                return True
        return False
