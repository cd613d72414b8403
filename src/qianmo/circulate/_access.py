"""Who may see a release: whoever may see every record in it (the one access rule).

A release's card, summary and files carry counts by organisation, source, domain and rule, so
showing them to someone who may not see one of its records would reveal counts of records
they cannot see. Members whose record is gone count as unseen: the answer errs on hiding.
"""

from __future__ import annotations

from sqlalchemy import func, not_, or_, select
from sqlalchemy.orm import Session

from qianmo.circulate._release import get_release, list_releases
from qianmo.errors import NotFound
from qianmo.store import RecordRow, ReleaseMemberRow, ReleaseRow, Viewer, visible_condition


def release_visible(session: Session, release_id: str, viewer: Viewer) -> bool:
    unseen = session.execute(
        select(func.count())
        .select_from(ReleaseMemberRow)
        .join(RecordRow, RecordRow.id == ReleaseMemberRow.record_id, isouter=True)
        .where(
            ReleaseMemberRow.release_id == release_id,
            or_(RecordRow.id.is_(None), not_(visible_condition(viewer))),
        )
    ).scalar_one()
    return int(unseen) == 0


def visible_releases(session: Session, viewer: Viewer) -> list[ReleaseRow]:
    """Ready releases the viewer may see, by name then version."""
    rows = [r for r in list_releases(session) if release_visible(session, r.id, viewer)]
    return sorted(rows, key=lambda r: (r.name, tuple(int(p) for p in r.version.split("."))))


def get_visible_release(session: Session, ref: str, viewer: Viewer) -> ReleaseRow:
    """The release `NAME@VERSION` if the viewer may see it; NotFound either way otherwise."""
    row = get_release(session, ref)
    if not release_visible(session, row.id, viewer):
        raise NotFound(f"no release {ref}", object_id=ref)
    return row
