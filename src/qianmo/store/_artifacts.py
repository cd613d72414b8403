"""Files kept by content hash: decision tables, reports and other run outputs."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from qianmo.errors import NotFound
from qianmo.store._models import ArtifactRow


def put_artifact(session: Session, data: bytes | memoryview, *, name: str, media_type: str) -> str:
    """Store bytes once by SHA-256 and return the hash (storing the same bytes again is free).
    A memoryview is stored as it is, not copied first (both drivers take one)."""
    sha = hashlib.sha256(data).hexdigest()
    if session.get(ArtifactRow, sha) is None:
        session.add(
            ArtifactRow(sha256=sha, name=name, media_type=media_type, size=len(data), data=data)
        )
        session.flush()
    return sha


def get_artifact(session: Session, sha256: str) -> ArtifactRow:
    row = session.get(ArtifactRow, sha256)
    if row is None:
        raise NotFound(f"no artifact {sha256}", object_id=sha256)
    return row
