"""API schemas of releases: what a request sends, what a check, a release or a verify answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from qianmo.store import ReleaseRow
from qianmo.web._releases import ReleaseSpec
from qianmo.web._schemas import Utc

Short = Field(min_length=1, max_length=128)


class ReleaseCreate(BaseModel):
    """A release request: a selection, an audience and an intended use (see docs/circulation.md)."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    audience: list[str] = Field(min_length=1, max_length=20, examples=[["members"]])
    use: str = Field(max_length=32, examples=["research"])
    filters: list[str] = Field(default_factory=list, max_length=20, examples=[["kind=qa"]])
    approver: str | None = Field(default=None, max_length=128)
    derives: bool = False
    license: str | None = Field(default=None, max_length=128)
    seed: int = Field(default=0, ge=0, le=2**31)

    def spec(self) -> ReleaseSpec:
        return ReleaseSpec(
            name=self.name,
            audience=self.audience,
            use=self.use,
            filters=self.filters,
            approver=self.approver,
            derives=self.derives,
            license=self.license,
            seed=self.seed,
        )


class ReleaseBuild(ReleaseCreate):
    version: str = Field(max_length=32, pattern=r"^\d+\.\d+\.\d+$", examples=["1.0.0"])


class CheckPublic(BaseModel):
    """The decision table summed up: what would be released, what is left out and why."""

    name: str
    selected: int
    allowed: int
    no_train: int
    denied: int
    denied_by_rule: dict[str, int]
    license: str | None
    attributions: list[dict[str, Any]]
    refusal: str | None
    decision_digest: str


class ReleasePublic(BaseModel):
    id: str
    name: str
    version: str
    records: int
    splits: dict[str, int]
    license: str
    audience: list[str]
    use: str
    actor: str | None
    created_at: Utc

    @classmethod
    def of(cls, row: ReleaseRow) -> ReleasePublic:
        return cls(
            id=row.id,
            name=row.name,
            version=row.version,
            records=row.summary.get("records", 0),
            splits=row.summary.get("splits", {}),
            license=row.summary.get("license", ""),
            audience=list(row.request.get("audience", [])),
            use=row.request.get("use", ""),
            actor=row.actor,
            created_at=row.created_at,
        )


class ReleaseDetail(ReleasePublic):
    """A release with its whole summary (counts by split, domain, kind, language, rule…)."""

    summary: dict[str, Any]
    request: dict[str, Any]

    @classmethod
    def of(cls, row: ReleaseRow) -> ReleaseDetail:
        base = ReleasePublic.of(row).model_dump()
        request = {k: v for k, v in row.request.items() if k != "directory"}
        return cls(**base, summary=row.summary, request=request)


class VerifyPublic(BaseModel):
    ok: bool
    checked: int
    problems: list[str]
