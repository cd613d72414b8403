"""API schemas, named by role: …Public is what we answer, …Create/…Update what we accept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from qianmo.standard import Record
from qianmo.store import RecordListing


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); RFC 3339 needs the offset.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Utc = Annotated[datetime, AfterValidator(_utc)]


class RecordPublic(BaseModel):
    """A record: its main fields, and `record`, the whole document in the data standard."""

    id: str
    kind: str
    version: int
    status: str
    lang: str
    domain: str | None
    org: str | None
    tlp: str
    record: dict[str, Any]

    @classmethod
    def of(cls, r: Record) -> RecordPublic:
        return cls(
            id=r.id,
            kind=r.kind.value,
            version=r.version,
            status=r.status.value,
            lang=r.lang,
            domain=r.domain,
            org=r.source.org,
            tlp=r.source.tlp.value,
            record=r.to_json(),
        )

    @classmethod
    def of_data(cls, data: dict[str, Any]) -> RecordPublic:
        """From a document as validated and stored when written (its defaults filled in)."""
        source = data["source"]
        return cls.model_construct(
            id=data["id"],
            kind=data["kind"],
            version=data["version"],
            status=data["status"],
            lang=data["lang"],
            domain=data.get("domain"),
            org=source.get("org"),
            tlp=source["tlp"],
            record=data,
        )

    @classmethod
    def of_listing(cls, r: RecordListing) -> RecordPublic:
        # `data` is the document as validated and stored when written: no second round trip
        return cls.model_construct(
            id=r.id,
            kind=r.kind,
            version=r.version,
            status=r.status,
            lang=r.lang,
            domain=r.domain,
            org=r.org,
            tlp=r.tlp,
            record=r.data,
        )


class RecordPage(BaseModel):
    items: list[RecordPublic]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null at the end."
    )


class CountPublic(BaseModel):
    count: int


class StatPublic(BaseModel):
    key: str
    count: int


class RecordCreate(BaseModel):
    """A new record in the data standard (`kind`, `content`, `source` with `org`, …)."""

    model_config = ConfigDict(extra="allow")
    kind: str
    content: dict[str, Any]
    source: dict[str, Any]


class RecordUpdate(BaseModel):
    """An edit: the fields given replace the current ones, making a new version."""

    model_config = ConfigDict(extra="forbid")
    content: dict[str, Any] | None = None
    lang: str | None = Field(default=None, max_length=8)
    domain: str | None = Field(default=None, max_length=64)
    tags: list[str] | None = None
    note: str = Field(default="", max_length=500, description="Why: kept in the lineage step.")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(pattern="^(accepted|needs_review|rejected|withdrawn)$")
    reason: str | None = Field(default=None, max_length=500)


class VersionPublic(BaseModel):
    version: int
    actor: str | None
    change: str
    created_at: Utc
    content_hash: str
    record: dict[str, Any]


class JobPublic(BaseModel):
    id: str
    kind: str
    status: str
    actor: str | None
    done: int
    total: int | None
    message: str
    error: str | None
    result: dict[str, Any] | None
    created_at: Utc
    finished_at: Utc | None


class JobCreated(BaseModel):
    job_id: str
    status_url: str


class OrgPublic(BaseModel):
    name: str
    vetted: bool
    partners: list[str]
    members: int


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    partners: list[str] = Field(default_factory=list, max_length=50)
    vetted: bool = False


class MemberPublic(BaseModel):
    user: str
    role: str


class MemberSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(max_length=64)
    role: str = Field(pattern="^(admin|maintainer|reviewer|annotator|contributor|viewer)$")


class UserPublic(BaseModel):
    name: str
    active: bool
    roles: dict[str, str]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    password: str = Field(min_length=8, max_length=1024)
    org: str = Field(max_length=128)
    role: str = Field(pattern="^(admin|maintainer|reviewer|annotator|contributor|viewer)$")


class MePublic(BaseModel):
    name: str
    orgs: list[str]
    partner_orgs: list[str]
    roles: dict[str, str]
    read_only: bool


class TokenPublic(BaseModel):
    id: str
    name: str
    read_only: bool
    created_at: Utc
    last_used_at: Utc | None = Field(
        default=None, description="Last use, to the minute (written at most once a minute)."
    )
    revoked: bool


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=128)
    read_only: bool = False


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret, shown this once; only its hash is stored.")


class AuditPublic(BaseModel):
    seq: int
    at: Utc
    actor: str
    action: str
    object_type: str
    object_ids: list[Any]
    count: int
    digest: str | None
    hash: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class SessionPublic(BaseModel):
    id: str = Field(description="The stored hash of the session (never the cookie's secret).")
    created_at: Utc
    expires_at: Utc
    last_seen_at: Utc | None


class SessionsEnded(BaseModel):
    ended: int = Field(description="How many browser sessions were ended.")
