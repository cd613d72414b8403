"""Releases: immutable snapshots (record ids, versions, content hashes, splits), built as jobs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from qianmo._gc import collector_paused
from qianmo.circulate._card import render_card
from qianmo.circulate._check import check
from qianmo.circulate._lines import json_rows, tsv_lines
from qianmo.circulate._members import MemberTable
from qianmo.circulate._outright import refusal
from qianmo.circulate._request import ReleaseRequest
from qianmo.circulate._splits import assign_splits
from qianmo.circulate._summary import summarise
from qianmo.errors import NotFound, PolicyRefused, QianmoError
from qianmo.standard import new_id
from qianmo.store import (
    Database,
    JobContext,
    ReleaseMemberRow,
    ReleaseRow,
    Viewer,
    audit,
    insert_json_rows,
    job_handler,
    load_viewer,
    put_artifact,
)

EVALUATION_FRACTIONS = (0.0, 0.0, 1.0)  # an evaluation-only release is all held out
MEMBERS = cast(Table, ReleaseMemberRow.__table__)
_COLUMNS = ("record_id", "record_version", "content_hash", "split")


@dataclass(frozen=True)
class SnapshotMember:
    record_id: str
    record_version: int
    content_hash: str
    split: str


def parse_ref(ref: str) -> tuple[str, str | None]:
    """`NAME@VERSION` or `NAME` (the latest version)."""
    name, _, version = ref.partition("@")
    if not name:
        raise QianmoError(f"{ref!r}: write NAME or NAME@VERSION", field="release")
    return name, version or None


def check_version(version: str) -> None:
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise QianmoError(f"{version!r} is not X.Y.Z", field="version")


def get_release(session: Session, ref: str) -> ReleaseRow:
    name, version = parse_ref(ref)
    query = select(ReleaseRow).where(ReleaseRow.name == name, ReleaseRow.status == "ready")
    if version is not None:
        query = query.where(ReleaseRow.version == version)
    rows = list(session.execute(query).scalars())
    if not rows:
        raise NotFound(f"no release {ref}", object_id=ref)
    return max(rows, key=lambda r: tuple(int(p) for p in r.version.split(".")))


def list_releases(session: Session, name: str | None = None) -> list[ReleaseRow]:
    query = select(ReleaseRow).where(ReleaseRow.status == "ready").order_by(ReleaseRow.name)
    if name is not None:
        query = query.where(ReleaseRow.name == name)
    return list(session.execute(query).scalars())


def create_release(
    db: Database,
    request: ReleaseRequest,
    version: str,
    *,
    actor: str,
    viewer: Viewer | None = None,
) -> dict[str, Any]:
    """Check, split and store a release; refuses what the rules forbid and existing versions."""
    check_version(version)
    if request.use == "evaluation-only":
        request = replace(request, fractions=EVALUATION_FRACTIONS)
    with db.read() as s:
        taken = s.execute(
            select(ReleaseRow.id).where(
                ReleaseRow.name == request.name, ReleaseRow.version == version
            )
        ).first()
    if taken:
        raise QianmoError(f"{request.name}@{version} exists; releases are immutable")
    reason = refusal(request)
    report = check(db, request, actor=actor, viewer=viewer)
    reason = reason or report.refusal()
    if reason is None and not report.members:
        reason = "the selection holds no records"
    if reason is not None:
        raise PolicyRefused(reason, field="request")
    assign_splits(report.members, seed=report.request.seed, fractions=report.request.fractions)
    summary = summarise(report)
    summary["members_digest"] = table_digest(report.members)
    return _store(db, report.request, version, summary, report.members, actor=actor)


@collector_paused()
def _store(
    db: Database,
    request: ReleaseRequest,
    version: str,
    summary: dict[str, Any],
    members: MemberTable,
    *,
    actor: str,
) -> dict[str, Any]:
    """Store the release, its card and its members (in id order, as the check left them)."""
    release_id = new_id()
    with db.write() as s:
        card = render_card(request.name, version, request.to_json(), summary, layout="parquet")
        s.add(
            ReleaseRow(
                id=release_id,
                name=request.name,
                version=version,
                request=request.to_json(),
                status="ready",
                summary=summary,
                card_artifact=put_artifact(
                    s,
                    card.encode(),
                    name=f"{request.name}-{version}-README.md",
                    media_type="text/markdown",
                ),
                actor=actor,
            )
        )
        for page in members.snapshot_pages():  # up to a check's page (10,000 rows) a statement
            array = "[" + json_rows(*page, end=",")[:-1].decode() + "]"
            insert_json_rows(s, MEMBERS, _COLUMNS, array, fixed=[("release_id", release_id)])
        audit(
            s,
            actor=actor,
            action="release.create",
            object_type="release",
            object_ids=[release_id],
            digest=summary["members_digest"],
        )
    return {"id": release_id, "name": request.name, "version": version, **summary}


def members_digest(members: Iterable[SnapshotMember]) -> str:
    h = hashlib.sha256()
    for m in members:
        h.update(f"{m.record_id}\t{m.record_version}\t{m.content_hash}\t{m.split}\n".encode())
    return h.hexdigest()


def table_digest(members: MemberTable) -> str:
    """`members_digest` of a check's members (in id order), a page of lines at a time."""
    h = hashlib.sha256()
    for page in members.snapshot_pages():
        h.update(tsv_lines(*page))
    return h.hexdigest()


def snapshot(session: Session, release_id: str) -> list[SnapshotMember]:
    rows = session.execute(
        select(
            ReleaseMemberRow.record_id,
            ReleaseMemberRow.record_version,
            ReleaseMemberRow.content_hash,
            ReleaseMemberRow.split,
        )
        .where(ReleaseMemberRow.release_id == release_id)
        .order_by(ReleaseMemberRow.record_id)
    ).all()
    return [SnapshotMember(*r) for r in rows]


@job_handler("release")
def release_job(ctx: JobContext) -> dict[str, Any]:
    request = ReleaseRequest.from_json(ctx.params["request"])
    ctx.progress(0, None, f"building {request.name}@{ctx.params['version']}")
    viewer = None
    if ctx.params.get("viewer"):  # asked for by a user (web): only what they may see
        with ctx.db.read() as s:
            viewer = load_viewer(s, ctx.params["viewer"])
    version = ctx.params["version"]
    result = create_release(ctx.db, request, version, actor=ctx.actor, viewer=viewer)
    return {k: result[k] for k in ("id", "name", "version", "records", "splits", "license")}
