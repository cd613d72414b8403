"""What the release routes call: who may ask, what they may see, and the downloadable files.

A request made on the web selects only the records its maker may see (`check(viewer=…)`), so
its counts never reveal others; a release is shown only to those who may see all its records.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.circulate import (
    Audience,
    CheckReport,
    ReleaseRequest,
    check,
    check_version,
    export_release,
    get_visible_release,
    refusal,
    verify_export,
)
from qianmo.errors import NotFound, PolicyRefused
from qianmo.settings import Settings
from qianmo.store import Database, ReleaseRow, enqueue, permits
from qianmo.web._deps import Principal
from qianmo.web._services import audit_denied

MANAGE = "releases.manage"
# Zip entries get one fixed time: the same export zips to the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ReleaseSpec:
    """A release request as a form or JSON body gives it."""

    name: str
    audience: list[str]
    use: str
    filters: list[str]
    approver: str | None = None
    derives: bool = False
    license: str | None = None
    seed: int = 0

    def request(self) -> ReleaseRequest:
        return ReleaseRequest(
            name=self.name,
            audience=Audience.parse(self.audience),
            use=self.use,
            filters=tuple(self.filters),
            approver=self.approver or None,
            derives=self.derives,
            license=self.license or None,
            seed=self.seed,
        )


def require_manage(db: Database, principal: Principal, name: str) -> None:
    if not permits(principal.viewer, MANAGE):
        audit_denied(db, principal, "release", name)
        raise PolicyRefused(f"{principal.name} may not {MANAGE}", field=MANAGE)


def check_release(db: Database, principal: Principal, spec: ReleaseSpec) -> CheckReport:
    """Check a request over the records the user may see; one audit entry, as the CLI's."""
    require_manage(db, principal, spec.name)
    request = spec.request()
    return check(db, request, actor=principal.name, viewer=principal.viewer)


def check_summary(report: CheckReport) -> dict[str, Any]:
    """Counts only (allowed, left out by rule): the decision table itself stays an artifact."""
    by_rule = report.left_out()
    return {
        "name": report.request.name,
        "selected": report.selected,
        "allowed": len(report.members),
        "no_train": report.no_train,
        "denied": sum(by_rule.values()),
        "denied_by_rule": by_rule,
        "license": report.license_expression() if report.members else None,
        "attributions": report.attributions(),
        "refusal": refusal(report.request) or report.refusal(),
        "decision_digest": report.decision_digest,
    }


def start_build(db: Database, principal: Principal, spec: ReleaseSpec, version: str) -> str:
    """Queue a release job that builds as this user (only what they may see); its id."""
    require_manage(db, principal, spec.name)
    check_version(version)
    request = spec.request()
    reason = refusal(request)
    if reason is not None:
        raise PolicyRefused(reason, field="request")
    params = {"request": request.to_json(), "version": version, "viewer": principal.name}
    with db.write() as s:
        return enqueue(s, "release", params, actor=principal.name)


def fetch_release(
    db: Database, session: Session, principal: Principal, name: str, version: str
) -> ReleaseRow:
    """The release if the user may see all of it; NotFound (audited if it exists) otherwise."""
    ref = f"{name}@{version}"
    try:
        return get_visible_release(session, ref, principal.viewer)
    except NotFound:
        query = select(ReleaseRow.id).where(ReleaseRow.name == name, ReleaseRow.version == version)
        exists = session.execute(query).first()
    if exists:
        audit_denied(db, principal, "release", ref)
    raise NotFound(f"no release {ref}", object_id=ref)


def kept_export(settings: Settings, db: Database, row: ReleaseRow, fmt: str) -> Path:
    """The release exported in `fmt` under the workspace, made once and then reused (a release
    is immutable, and its exports are byte-identical)."""
    folder = Path(settings.home) / "exports" / "releases" / f"{row.id}-{fmt}"
    if folder.is_dir():
        return folder
    secret = settings.secret_key.encode()
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{row.id}-", dir=folder.parent))
    try:
        export_release(db, f"{row.name}@{row.version}", fmt, work / "out", secret=secret)
        os.replace(work / "out", folder)
    except OSError:
        if not folder.is_dir():  # not a lost race with another request making the same one
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def export_zip(folder: Path) -> Path:
    """The export folder as one zip beside it (sorted entries, fixed times: stable bytes)."""
    target = folder.with_suffix(".zip")
    if target.is_file():
        return target
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder)}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, z.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(part, target)
    return target


def verify_folder(folder: Path) -> dict[str, Any]:
    report = verify_export(folder)
    return {"ok": report.ok, "checked": report.checked, "problems": report.problems}
