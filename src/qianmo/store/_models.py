"""SQLAlchemy tables. Every capability shares data through these, never through each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from qianmo.standard import utcnow


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


ID = String(32)
# Record columns that lists filter on by equality, each indexed together with the id.
PAGED_FILTER_COLUMNS = ("status", "kind", "lang", "domain", "org", "tlp")


class RecordRow(Base):
    """The current version of each record; filter columns mirror fields of `data`."""

    __tablename__ = "records"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    domain: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    org: Mapped[str | None] = mapped_column(String(128))
    source_name: Mapped[str] = mapped_column(String(128), index=True)
    original_id: Mapped[str | None] = mapped_column(String(256))
    license: Mapped[str] = mapped_column(String(256))
    tlp: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(16))
    personal_info: Mapped[str] = mapped_column(String(16))
    eval_only: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    lineage_root: Mapped[str | None] = mapped_column(String(64), index=True)
    quality_score: Mapped[float | None] = mapped_column(Float)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    import_id: Mapped[str | None] = mapped_column(ID, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # what release decisions read of restrictions, flags and lineage (`_policy.py`)
    policy_inputs: Mapped[str | None] = mapped_column(Text)
    dup_cluster: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # (column, id): a filtered page walks one of these in id order and stops after a page,
    # instead of reading every matching row and sorting (bench/web_load.py, docs/web.md).
    __table_args__ = (
        Index("ix_records_source_original", "source_name", "original_id"),
        *(Index(f"ix_records_{c}_id", c, "id") for c in PAGED_FILTER_COLUMNS),
    )


class RecordVersionRow(Base):
    """Every version a record ever had, the first included; earlier ones stay readable."""

    __tablename__ = "record_versions"
    record_id: Mapped[str] = mapped_column(ID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str | None] = mapped_column(String(128))
    change: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportRow(Base):
    __tablename__ = "imports"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str | None] = mapped_column(String(128))
    job_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    # the skip check's look-up: the latest import of one input (ingest/sources/_run.py)
    __table_args__ = (Index("ix_imports_format_file_created", "format", "file_name", "created_at"),)


class RejectedRowRow(Base):
    """A row that failed validation, kept raw with its reasons: nothing sent is lost."""

    __tablename__ = "import_rejects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id"), index=True)
    location: Mapped[str] = mapped_column(String(1100))
    raw: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[Any]] = mapped_column(JSON)


class OrgRow(Base):
    __tablename__ = "orgs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    vetted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgPartnerRow(Base):
    """Partnership is stored once per direction, so a lookup is a single join."""

    __tablename__ = "org_partners"
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), primary_key=True)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MembershipRow(Base):
    __tablename__ = "memberships"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))


class TokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class WebSessionRow(Base):
    """A signed-in browser session. The cookie holds a random secret; only its SHA-256 is
    stored, so a copy of this table cannot be replayed. Deleting the row ends the session."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()


class LoginFailureRow(Base):
    """One failed sign-in, under two keys (`ip:ADDRESS`, `user:NAME`): the login limit counts
    these, so every server process of `qianmo serve --workers N` shares one count."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column()
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    actor: Mapped[str | None] = mapped_column(String(128))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(512), default="")
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    run_after: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class AuditRow(Base):
    """One entry per committed change set, chained by SHA-256; ids and digests only."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_ids: Mapped[list[Any]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[str | None] = mapped_column(String(64))
    artifact: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's last link; locking this row serialises appends on PostgreSQL."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class ArtifactRow(Base):
    """Files kept by hash (decision tables, reports); in the database so backups hold them."""

    __tablename__ = "artifacts"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdRelationRow(Base):
    """Hierarchies of security ids: CWE ChildOf, CAPEC ChildOf, ATT&CK sub-technique/tactic."""

    __tablename__ = "id_relations"
    scheme: Mapped[str] = mapped_column(String(16), primary_key=True)
    child: Mapped[str] = mapped_column(String(32), primary_key=True)
    relation: Mapped[str] = mapped_column(String(32), primary_key=True)
    parent: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    source: Mapped[str | None] = mapped_column(String(128))


class SourceFileRow(Base):
    """What a source sync last read from one file of a mirror folder (a cvelistV5 checkout, a
    folder of advisories or rules): its modification time, size and SHA-256, and the original
    ids of the objects it held. A re-sync skips a file whose time and size (else bytes) match,
    and counts its ids as still present upstream."""

    __tablename__ = "source_files"
    format: Mapped[str] = mapped_column(String(32), primary_key=True)
    mirror: Mapped[str] = mapped_column(String(1024), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    import_id: Mapped[str | None] = mapped_column(ID)


class SuiteRow(Base):
    __tablename__ = "suites"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)
    filters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("name", "version"),)


class SuiteItemRow(Base):
    __tablename__ = "suite_items"
    suite_id: Mapped[str] = mapped_column(ForeignKey("suites.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ID, index=True)
    record_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))
    published_at: Mapped[datetime | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReleaseRow(Base):
    __tablename__ = "releases"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(32))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="building")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    card_artifact: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("name", "version"),)


class ReleaseMemberRow(Base):
    __tablename__ = "release_members"
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    record_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    record_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    split: Mapped[str] = mapped_column(String(16))


class CampaignRow(Base):
    """Annotation campaigns and arena campaigns share this table, told apart by `type`."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("type", "name"),)
